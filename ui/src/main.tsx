// The coord web UI: a header (pages, datacenter switcher) and the page the URL names. Pages read
// the agent that served this file; ?dc= asks it to answer for another datacenter.
import {Component, render, type ComponentChildren} from 'preact'
import {useEffect, useState} from 'preact/hooks'
import {expectArray, request, useBlocking, useTokenEpoch} from './api.js'
import {ErrorBox} from './components.js'
import {Link, href, navigate, useLocation, type Place} from './router.js'
import {isCoord, type Coord} from './rtt.js'
import {ServicePage, ServicesPage} from './pages/services.js'
import {NodePage, NodesPage} from './pages/nodes.js'
import {KvPage} from './pages/kv.js'
import {SessionsPage} from './pages/sessions.js'
import {AclPage} from './pages/acl.js'

export interface AgentSelf {
  nodeName: string
  datacenter: string
  coord?: Coord
}

function useSelf(): AgentSelf | undefined {
  const [self, setSelf] = useState<AgentSelf | undefined>()
  useEffect(() => {
    request('GET', '/v1/agent/self').then((answer) => {
      const data = answer.data as {Config?: {NodeName?: string; Datacenter?: string}; Coord?: unknown} | null
      if (data?.Config?.NodeName) setSelf({nodeName: data.Config.NodeName, datacenter: data.Config.Datacenter ?? '', coord: isCoord(data.Coord) ? data.Coord : undefined})
    }).catch(() => { /* pages show their own errors; the header works without it */ })
  }, [])
  return self
}

const PAGES = [['services', 'Services'], ['nodes', 'Nodes'], ['kv', 'Key/Value'], ['sessions', 'Sessions & locks'], ['acl', 'ACL']] as const

function DatacenterSwitcher(props: {dc?: string; self?: AgentSelf; place: Place}) {
  const live = useBlocking('/v1/catalog/datacenters', {}, expectArray<string>('the datacenters'))
  const known = live.answer?.data ?? []
  const selected = props.dc ?? props.self?.datacenter ?? known[0] ?? ''
  const options = known.includes(selected) || selected === '' ? known : [selected, ...known]
  const change = (dc: string) => {
    // The page stays; only its datacenter changes (back returns to the previous one).
    const params = new URLSearchParams(location.search)
    if (dc === props.self?.datacenter) params.delete('dc')
    else params.set('dc', dc)
    const search = params.toString()
    navigate(`${location.pathname}${search ? `?${search}` : ''}`)
  }
  return (
    <label class="dc">Datacenter
      <select value={selected} onChange={(e) => change((e.target as HTMLSelectElement).value)} disabled={options.length === 0}>
        {options.length === 0 && <option value="">{live.error ? 'unavailable' : '…'}</option>}
        {options.map((dc) => <option key={dc} value={dc}>{dc}{dc === props.self?.datacenter ? ' (this agent)' : ''}</option>)}
      </select>
    </label>
  )
}

/** A page that throws while rendering shows why, not a blank screen; another URL renders afresh. */
class ErrorBoundary extends Component<{children: ComponentChildren; resetKey: string}, {error?: Error; at?: string}> {
  override componentDidCatch(error: unknown) {
    this.setState({error: error instanceof Error ? error : new Error(String(error)), at: this.props.resetKey})
  }
  override render() {
    if (this.state.error && this.state.at === this.props.resetKey) return <ErrorBox error={this.state.error} title="This page failed to show" />
    return this.props.children
  }
}

function Page(props: {place: Place; self?: AgentSelf}) {
  const {place} = props
  const dc = place.query.get('dc') ?? undefined
  const [section, ...rest] = place.path.split('/')
  const name = rest.join('/')
  switch (section) {
    case '':
    case 'services':
      return name ? <ServicePage name={name} dc={dc} /> : <ServicesPage place={place} dc={dc} />
    case 'nodes':
      return name ? <NodePage name={name} dc={dc} self={props.self} /> : <NodesPage place={place} dc={dc} self={props.self} />
    case 'kv':
      return <KvPage path={name} dc={dc} />
    case 'sessions':
      return <SessionsPage place={place} dc={dc} />
    case 'acl':
      return <AclPage place={place} />
    default:
      return <ErrorBox error={new Error(`There is no page at ${place.path}.`)} title="Page not found" />
  }
}

function App() {
  const place = useLocation()
  const self = useSelf()
  const dc = place.query.get('dc') ?? undefined
  const section = place.path.split('/')[0] || 'services'
  // A new token restarts every read (the pages and the switcher remount with it).
  const epoch = useTokenEpoch()
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header>
        <Link href={href('services')} class="brand">coord</Link>
        <nav aria-label="Pages">
          <ul>{PAGES.map(([path, label]) => <li key={path}><Link href={href(path === 'kv' ? 'kv/' : path)} aria-current={section === path ? 'page' : undefined}>{label}</Link></li>)}</ul>
        </nav>
        <DatacenterSwitcher key={epoch} dc={dc} self={self} place={place} />
      </header>
      <main id="main" tabIndex={-1}>
        {dc && self && dc !== self.datacenter && <p class="message info" role="note">Showing datacenter <strong>{dc}</strong>, answered through this agent ({self.nodeName} in {self.datacenter}).</p>}
        <ErrorBoundary resetKey={place.path}>
          <Page key={epoch} place={place} self={self} />
        </ErrorBoundary>
      </main>
    </>
  )
}

const root = document.getElementById('app')
if (root) {
  root.textContent = ''
  render(<App />, root)
}
