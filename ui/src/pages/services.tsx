// Services: every service with its tags and instances counted by health, filtered by text, health
// and tag (kept in the URL); one service: its instances with node, address, port, meta and checks.
import {expectArray, pathSegments, useBlocking, worst, type Check, type ServiceEntry, type ServiceSummary, type Status} from '../api.js'
import {Empty, LiveView, MetaList, PageTitle, StatusBadge, VirtualList} from '../components.js'
import {Link, href, setQuery, type Place} from '../router.js'

function serviceHealth(s: ServiceSummary): Status {
  return s.InstancesCritical > 0 ? 'critical' : s.InstancesWarning > 0 ? 'warning' : 'passing'
}

export function ServicesPage(props: {place: Place; dc?: string}) {
  const {query} = props.place
  const live = useBlocking('/v1/internal/ui/services', {dc: props.dc}, expectArray<ServiceSummary>('the service list'))
  const text = query.get('q') ?? ''
  const health = query.get('health') ?? ''
  const tag = query.get('tag') ?? ''
  return (
    <section>
      <PageTitle title="Services" />
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>Search <input type="search" value={text} placeholder="name or tag" onInput={(e) => setQuery({q: (e.target as HTMLInputElement).value})} /></label>
        <label>Health <select value={health} onChange={(e) => setQuery({health: (e.target as HTMLSelectElement).value})}>
          <option value="">any</option><option value="passing">passing</option><option value="warning">warning</option><option value="critical">critical</option>
        </select></label>
        <label>Tag <input type="text" list="known-tags" value={tag} placeholder="exact tag" onInput={(e) => setQuery({tag: (e.target as HTMLInputElement).value})} /></label>
        <datalist id="known-tags">{[...new Set((live.answer?.data ?? []).flatMap((s) => s.Tags))].sort().slice(0, 500).map((t) => <option key={t} value={t} />)}</datalist>
      </form>
      <LiveView live={live} what="services">{(services) => {
        const needle = text.toLowerCase()
        const shown = services.filter((s) => (needle === '' || s.Name.toLowerCase().includes(needle) || s.Tags.some((t) => t.toLowerCase().includes(needle)))
          && (health === '' || (health === 'passing' ? s.InstancesPassing : health === 'warning' ? s.InstancesWarning : s.InstancesCritical) > 0)
          && (tag === '' || s.Tags.includes(tag)))
        if (services.length === 0) return <Empty>No services are registered in this datacenter.</Empty>
        return (
          <>
            <p class="count" role="status">{shown.length === services.length ? `${services.length} ${services.length === 1 ? 'service' : 'services'}` : `${shown.length} of ${services.length} services`}</p>
            {shown.length === 0 ? <Empty>No service matches these filters.</Empty> : (
              <VirtualList items={shown} rowHeight={64} label="Services" keyOf={(s) => s.Name} render={(s) => (
                <div class={`row health-${serviceHealth(s)}`} data-service={s.Name}>
                  <div class="line1">
                    <Link href={href(`services/${s.Name}`)} class="name">{s.Name}</Link>
                    <span class="counts">
                      {s.InstancesPassing > 0 && <StatusBadge status="passing" count={s.InstancesPassing} label="instances passing" />}
                      {s.InstancesWarning > 0 && <StatusBadge status="warning" count={s.InstancesWarning} label="instances warning" />}
                      {s.InstancesCritical > 0 && <StatusBadge status="critical" count={s.InstancesCritical} label="instances critical" />}
                    </span>
                  </div>
                  <div class="line2">
                    <span class="muted">{s.InstanceCount} {s.InstanceCount === 1 ? 'instance' : 'instances'}</span>
                    {s.Tags.map((t) => <span key={t} class="tag">{t}</span>)}
                  </div>
                </div>
              )} />
            )}
          </>
        )
      }}</LiveView>
    </section>
  )
}

export function CheckList(props: {checks: Check[]}) {
  if (props.checks.length === 0) return <span class="muted">no checks</span>
  return (
    <ul class="checks">
      {props.checks.map((c) => (
        <li key={`${c.Node}/${c.CheckID}`} class={`check ${c.Status}`} data-check={c.CheckID}>
          <div><StatusBadge status={c.Status} /> <strong>{c.Name}</strong> <span class="muted">{c.CheckID}{c.ServiceID === '' ? ' (node check)' : ''}</span></div>
          {c.Notes && <p class="muted">{c.Notes}</p>}
          {c.Output ? <pre class="output" aria-label={`output of ${c.Name}`}>{c.Output}</pre> : <p class="muted">no output</p>}
        </li>
      ))}
    </ul>
  )
}

export function ServicePage(props: {name: string; dc?: string}) {
  const live = useBlocking(`/v1/health/service/${pathSegments(props.name)}`, {dc: props.dc}, expectArray<ServiceEntry>('the service instances'))
  return (
    <section>
      <PageTitle title={`Service ${props.name}`}><Link href={href('services')}>All services</Link></PageTitle>
      <LiveView live={live} what={`instances of ${props.name}`}>{(entries) => entries.length === 0
        ? <Empty>No instances of {props.name} are registered (it may have been deregistered).</Empty>
        : (
          <ul class="cards">
            {entries.map((e) => {
              const status = worst(e.Checks.map((c) => c.Status))
              return (
                <li key={`${e.Node.Node}/${e.Service.ID}`} class={`card health-${status}`} data-instance={e.Service.ID}>
                  <h2><span>{e.Service.ID}</span> <StatusBadge status={status} /></h2>
                  <dl class="facts">
                    <div><dt>Node</dt><dd><Link href={href(`nodes/${e.Node.Node}`)}>{e.Node.Node}</Link></dd></div>
                    <div><dt>Address</dt><dd>{e.Service.Address || e.Node.Address}</dd></div>
                    <div><dt>Port</dt><dd>{e.Service.Port}</dd></div>
                    <div><dt>Tags</dt><dd>{e.Service.Tags.length ? e.Service.Tags.map((t) => <span key={t} class="tag">{t}</span>) : <span class="muted">none</span>}</dd></div>
                  </dl>
                  <h3>Meta</h3>
                  <MetaList meta={e.Service.Meta} label="service meta" />
                  <h3>Checks</h3>
                  <CheckList checks={e.Checks} />
                </li>
              )
            })}
          </ul>
        )}</LiveView>
    </section>
  )
}
