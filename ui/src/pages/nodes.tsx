// Nodes: address, health, services and checks of every node, nearest first (?near=_agent), with the
// round-trip time from this agent estimated from network coordinates; one node in full, with its
// sessions.
import {expectArray, expectObject, pathSegments, useBlocking, worst, type NodeSummary, type Session} from '../api.js'
import {Empty, LiveView, MetaList, PageTitle, StatusBadge, VirtualList} from '../components.js'
import {Link, href, setQuery, type Place} from '../router.js'
import {formatRtt, isCoord, rttSeconds, type Coord} from '../rtt.js'
import {CheckList} from './services.js'
import type {AgentSelf} from '../main.js'

interface NodeCoord {
  Node: string
  Coord: Coord
}

/** RTT from this agent to each node: only within the agent's own datacenter (coordinates are per pool). */
function useRtts(self: AgentSelf | undefined, dc: string | undefined): (node: string) => string {
  const sameDc = self !== undefined && (dc === undefined || dc === self.datacenter)
  const live = useBlocking(sameDc ? '/v1/coordinate/nodes' : null, {}, expectArray<NodeCoord>('the coordinates'))
  const coords = new Map<string, Coord>()
  for (const c of live.answer?.data ?? []) if (isCoord(c.Coord)) coords.set(c.Node, c.Coord)
  const own = (self && coords.get(self.nodeName)) ?? self?.coord
  return (node) => {
    if (sameDc && node === self.nodeName) return 'this agent'
    const other = coords.get(node)
    return formatRtt(sameDc && own && other ? rttSeconds(own, other) : undefined)
  }
}

export function NodesPage(props: {place: Place; dc?: string; self?: AgentSelf}) {
  const {query} = props.place
  const text = query.get('q') ?? ''
  const health = query.get('health') ?? ''
  const live = useBlocking('/v1/internal/ui/nodes', {dc: props.dc, near: '_agent'}, expectArray<NodeSummary>('the node list'))
  const rtt = useRtts(props.self, props.dc)
  return (
    <section>
      <PageTitle title="Nodes" />
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>Search <input type="search" value={text} placeholder="name or address" onInput={(e) => setQuery({q: (e.target as HTMLInputElement).value})} /></label>
        <label>Health <select value={health} onChange={(e) => setQuery({health: (e.target as HTMLSelectElement).value})}>
          <option value="">any</option><option value="passing">passing</option><option value="warning">warning</option><option value="critical">critical</option>
        </select></label>
      </form>
      <LiveView live={live} what="nodes">{(nodes) => {
        const needle = text.toLowerCase()
        const shown = nodes.filter((n) => (needle === '' || n.Node.toLowerCase().includes(needle) || n.Address.includes(needle))
          && (health === '' || worst(n.Checks.map((c) => c.Status)) === health))
        if (nodes.length === 0) return <Empty>No nodes in this datacenter.</Empty>
        return (
          <>
            <p class="count" role="status">{shown.length === nodes.length ? `${nodes.length} ${nodes.length === 1 ? 'node' : 'nodes'}, nearest first` : `${shown.length} of ${nodes.length} nodes`}</p>
            <VirtualList items={shown} rowHeight={64} label="Nodes" keyOf={(n) => n.Node} render={(n) => {
              const status = worst(n.Checks.map((c) => c.Status))
              return (
                <div class={`row health-${status}`} data-node={n.Node}>
                  <div class="line1">
                    <Link href={href(`nodes/${n.Node}`)} class="name">{n.Node}</Link>
                    <StatusBadge status={status} />
                    <span class="rtt" title="estimated round trip from this agent">{rtt(n.Node)}</span>
                  </div>
                  <div class="line2">
                    <span class="muted">{n.Address}</span>
                    <span class="muted">{n.Services.length} services, {n.Checks.length} checks</span>
                  </div>
                </div>
              )
            }} />
          </>
        )
      }}</LiveView>
    </section>
  )
}

export function NodePage(props: {name: string; dc?: string; self?: AgentSelf}) {
  const live = useBlocking(`/v1/internal/ui/node/${pathSegments(props.name)}`, {dc: props.dc}, expectObject<NodeSummary>('the node'), {allow404: true})
  const sessions = useBlocking(`/v1/session/node/${pathSegments(props.name)}`, {dc: props.dc}, expectArray<Session>('the node\'s sessions'))
  const rtt = useRtts(props.self, props.dc)
  return (
    <section>
      <PageTitle title={`Node ${props.name}`}><Link href={href('nodes')}>All nodes</Link></PageTitle>
      <LiveView live={live} what={`node ${props.name}`}>{(node) => {
        if (!node) return <Empty>No node named {props.name} is registered in this datacenter.</Empty>
        return (
          <div class="card">
            <dl class="facts">
              <div><dt>Address</dt><dd>{node.Address}</dd></div>
              <div><dt>Health</dt><dd><StatusBadge status={worst(node.Checks.map((c) => c.Status))} /></dd></div>
              <div><dt>Round trip from this agent</dt><dd>{rtt(node.Node)}</dd></div>
              <div><dt>ID</dt><dd class="mono">{node.ID}</dd></div>
            </dl>
            <h2>Meta</h2>
            <MetaList meta={node.Meta} label="node meta" />
            <h2>Services</h2>
            {node.Services.length === 0 ? <span class="muted">no services</span> : (
              <ul class="plain">
                {node.Services.map((s) => (
                  <li key={s.ID}><Link href={href(`services/${s.Service}`)}>{s.Service}</Link> <span class="muted">{s.ID} · {s.Address || node.Address}:{s.Port}</span></li>
                ))}
              </ul>
            )}
            <h2>Checks</h2>
            <CheckList checks={node.Checks} />
            <h2>Sessions</h2>
            <LiveView live={sessions} what="sessions">{(list) => list.length === 0 ? <span class="muted">no sessions</span> : (
              <ul class="plain">{list.map((s) => <li key={s.ID}><Link href={href('sessions', {session: s.ID})}>{s.Name || s.ID}</Link> <span class="muted mono">{s.ID}</span></li>)}</ul>
            )}</LiveView>
          </div>
        )
      }}</LiveView>
    </section>
  )
}
