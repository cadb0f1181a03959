// Sessions and locks: every session grouped by node with the keys it holds, the `coord lock` (and
// `consul lock`) holders, and each semaphore's limit, holders and contenders. One live read of
// /v1/internal/ui/locks, which the agent builds from the sessions and KV tables.
import {expectObject, useBlocking, type LockSummary, type Session} from '../api.js'
import {Empty, LiveView, PageTitle} from '../components.js'
import {Link, href, type Place} from '../router.js'

function lockPrefix(key: string): string {
  return key.endsWith('/.lock') ? key.slice(0, -'/.lock'.length) : key
}

export function SessionsPage(props: {place: Place; dc?: string}) {
  const live = useBlocking('/v1/internal/ui/locks', {dc: props.dc}, expectObject<LockSummary>('the sessions and locks'))
  const focus = props.place.query.get('session') ?? ''
  return (
    <section>
      <PageTitle title="Sessions and locks" />
      <LiveView live={live} what="sessions and locks">{(summary) => {
        const names = new Map<string, Session>(summary.Sessions.map((s) => [s.ID, s]))
        const who = (id: string) => {
          const s = names.get(id)
          return <><Link href={href('sessions', {session: id})}>{s?.Name || id}</Link>{s && <span class="muted"> on <Link href={href(`nodes/${s.Node}`)}>{s.Node}</Link></span>}</>
        }
        const locks = summary.Held.filter((h) => h.Kind === 'lock')
        const byNode = new Map<string, Session[]>()
        for (const s of summary.Sessions) byNode.set(s.Node, [...(byNode.get(s.Node) ?? []), s])
        return (
          <>
            <h2>Locks</h2>
            {locks.length === 0 ? <Empty>No lock is held.</Empty> : (
              <table class="grid" aria-label="Locks">
                <thead><tr><th scope="col">Prefix</th><th scope="col">Holder</th><th scope="col">Lock index</th></tr></thead>
                <tbody>{locks.map((l) => (
                  <tr key={l.Key} data-lock={l.Key}><td><Link href={href(`kv/${l.Key}`)}>{lockPrefix(l.Key)}</Link></td><td>{who(l.Session)}</td><td>{l.LockIndex}</td></tr>
                ))}</tbody>
              </table>
            )}
            <h2>Semaphores</h2>
            {summary.Semaphores.length === 0 ? <Empty>No semaphore exists.</Empty> : (
              <table class="grid" aria-label="Semaphores">
                <thead><tr><th scope="col">Prefix</th><th scope="col">Slots used</th><th scope="col">Holders</th><th scope="col">Waiting</th></tr></thead>
                <tbody>{summary.Semaphores.map((s) => {
                  const holders = s.Holders ?? []
                  return (
                    <tr key={s.Key} data-semaphore={s.Prefix}>
                      <td><Link href={href(`kv/${s.Prefix}`)}>{s.Prefix}</Link></td>
                      <td>{s.Error ? <span class="error-text">{s.Error}</span> : `${holders.length} of ${s.Limit ?? 0}`}</td>
                      <td>{holders.length === 0 ? <span class="muted">none</span> : <ul class="plain">{holders.map((h) => <li key={h}>{who(h)}</li>)}</ul>}</td>
                      <td>{s.Contenders.filter((c) => !holders.includes(c)).length}</td>
                    </tr>
                  )
                })}</tbody>
              </table>
            )}
            <h2>Sessions by node</h2>
            {summary.Sessions.length === 0 ? <Empty>No sessions.</Empty> : [...byNode.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([node, sessions]) => (
              <div key={node} class="card">
                <h3><Link href={href(`nodes/${node}`)}>{node}</Link> <span class="muted">({sessions.length})</span></h3>
                <ul class="plain">
                  {sessions.map((s) => (
                    <li key={s.ID} class={s.ID === focus ? 'focus' : undefined} data-session={s.ID} id={`session-${s.ID}`}>
                      <strong>{s.Name || '(no name)'}</strong> <span class="muted mono">{s.ID}</span>
                      <div class="muted">behavior {s.Behavior}{s.TTL ? `, TTL ${s.TTL}` : ''}, lock delay {Math.round(s.LockDelay / 1e6)} ms</div>
                      <div>{s.HeldKeys.length === 0 ? <span class="muted">holds no keys</span> : <>holds {s.HeldKeys.map((k) => <Link key={k} href={href(`kv/${k}`)} class="tag">{k}</Link>)}</>}</div>
                    </li>
                  ))}
                </ul>
              </div>
            ))}
          </>
        )
      }}</LiveView>
    </section>
  )
}
