// ACLs: the token this browser sends (kept in localStorage, sent as X-Consul-Token), who that token
// is (/v1/acl/token/self), and read-only lists of tokens, policies (with their rules) and roles. A
// token without acl:read sees a 403 message on the lists; an agent with ACLs off answers 401, said
// as such. Secrets shown by the agent are never put in a URL.
import {useState} from 'preact/hooks'
import {currentToken, expectArray, expectObject, setToken, useBlocking, type AclLink, type AclPolicy, type AclRole, type AclToken} from '../api.js'
import {Empty, LiveView, PageTitle} from '../components.js'
import {Link, href, type Place} from '../router.js'

const TABS = [['acl', 'Your token'], ['acl/tokens', 'Tokens'], ['acl/policies', 'Policies'], ['acl/roles', 'Roles']] as const

function Tabs(props: {path: string}) {
  return (
    <nav aria-label="ACL pages" class="tabs">
      <ul>{TABS.map(([path, label]) => <li key={path}><Link href={href(path)} aria-current={props.path === path ? 'page' : undefined}>{label}</Link></li>)}</ul>
    </nav>
  )
}

const links = (list: AclLink[] | undefined) => (list ?? []).map((l) => l.Name || l.ID).join(', ')

function TokenForm() {
  const stored = currentToken()
  const [draft, setDraft] = useState('')
  const save = (event: Event) => {
    event.preventDefault()
    setToken(draft.trim())
    setDraft('')
  }
  return (
    <form class="card editor" onSubmit={save} aria-label="Token">
      <p>{stored ? 'This browser sends a token with every request.' : 'This browser sends no token: the agent answers as its default token (else the anonymous token).'}</p>
      <label>Token (SecretID)
        <input type="password" autoComplete="off" value={draft} onInput={(e) => setDraft((e.target as HTMLInputElement).value)} placeholder="e.g. 6f2c…" />
      </label>
      <div class="actions">
        <button type="submit" disabled={draft.trim() === ''}>Use this token</button>
        {stored && <button type="button" onClick={() => setToken('')}>Forget the token</button>}
      </div>
    </form>
  )
}

function Self() {
  const live = useBlocking('/v1/acl/token/self', {}, expectObject<AclToken>('your token'))
  return (
    <LiveView live={live} what="your token">{(token) => (
      <dl class="meta" aria-label="Your token" data-self={token.AccessorID}>
        <div><dt>AccessorID</dt><dd class="mono">{token.AccessorID}</dd></div>
        <div><dt>Description</dt><dd>{token.Description || <span class="muted">none</span>}</dd></div>
        <div><dt>Policies</dt><dd>{links(token.Policies) || <span class="muted">none</span>}</dd></div>
        <div><dt>Roles</dt><dd>{links(token.Roles) || <span class="muted">none</span>}</dd></div>
        {token.ExpirationTime && <div><dt>Expires</dt><dd>{token.ExpirationTime}</dd></div>}
      </dl>
    )}</LiveView>
  )
}

function Tokens() {
  const live = useBlocking('/v1/acl/tokens', {}, expectArray<AclToken>('the tokens'))
  return (
    <LiveView live={live} what="the tokens">{(tokens) => tokens.length === 0 ? <Empty>No tokens.</Empty> : (
      <table class="grid" aria-label="Tokens">
        <thead><tr><th scope="col">AccessorID</th><th scope="col">Description</th><th scope="col">Policies</th><th scope="col">Roles</th><th scope="col">Local</th></tr></thead>
        <tbody>{tokens.map((t) => (
          <tr key={t.AccessorID} data-token={t.AccessorID}><td class="mono">{t.AccessorID}</td><td>{t.Description}</td><td>{links(t.Policies)}</td><td>{links(t.Roles)}</td><td>{t.Local ? 'yes' : 'no'}</td></tr>
        ))}</tbody>
      </table>
    )}</LiveView>
  )
}

function Policies(props: {focus: string}) {
  const live = useBlocking('/v1/acl/policies', {}, expectArray<AclPolicy>('the policies'))
  const one = useBlocking(props.focus ? `/v1/acl/policy/${encodeURIComponent(props.focus)}` : null, {}, expectObject<AclPolicy>('the policy'))
  return (
    <>
      <LiveView live={live} what="the policies">{(policies) => policies.length === 0 ? <Empty>No policies.</Empty> : (
        <table class="grid" aria-label="Policies">
          <thead><tr><th scope="col">Name</th><th scope="col">Description</th><th scope="col">Datacenters</th></tr></thead>
          <tbody>{policies.map((p) => (
            <tr key={p.ID} data-policy={p.Name}><td><Link href={href('acl/policies', {policy: p.ID})}>{p.Name}</Link></td><td>{p.Description}</td><td>{(p.Datacenters ?? []).join(', ') || <span class="muted">all</span>}</td></tr>
          ))}</tbody>
        </table>
      )}</LiveView>
      {props.focus && (
        <LiveView live={one} what="the policy">{(p) => (
          <div class="card" data-policy-rules={p.Name}>
            <h2>{p.Name}</h2>
            <pre class="output" aria-label={`Rules of ${p.Name}`}>{p.Rules || '(no rules)'}</pre>
          </div>
        )}</LiveView>
      )}
    </>
  )
}

function Roles() {
  const live = useBlocking('/v1/acl/roles', {}, expectArray<AclRole>('the roles'))
  return (
    <LiveView live={live} what="the roles">{(roles) => roles.length === 0 ? <Empty>No roles.</Empty> : (
      <table class="grid" aria-label="Roles">
        <thead><tr><th scope="col">Name</th><th scope="col">Description</th><th scope="col">Policies</th></tr></thead>
        <tbody>{roles.map((r) => <tr key={r.ID} data-role={r.Name}><td>{r.Name}</td><td>{r.Description}</td><td>{links(r.Policies)}</td></tr>)}</tbody>
      </table>
    )}</LiveView>
  )
}

export function AclPage(props: {place: Place}) {
  const path = props.place.path.replace(/\/$/, '')
  const title = TABS.find(([p]) => p === path)?.[1] ?? 'ACLs'
  return (
    <section>
      <PageTitle title={path === 'acl' ? 'ACL token' : `ACL ${title.toLowerCase()}`} />
      <Tabs path={path} />
      {path === 'acl' && <><TokenForm /><h2>Who this token is</h2><Self /></>}
      {path === 'acl/tokens' && <Tokens />}
      {path === 'acl/policies' && <Policies focus={props.place.query.get('policy') ?? ''} />}
      {path === 'acl/roles' && <Roles />}
    </section>
  )
}
