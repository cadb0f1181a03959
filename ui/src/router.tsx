// URLs of the UI: <content path><page>/<name…>?dc=…&… with the History API, so every page has an
// address that can be shared and back/forward work. The agent answers index.html for any path under
// the content path (src/lib/http/ui-assets.ts); the content path comes from index.html's meta tag.
import type {ComponentChildren, JSX} from 'preact'
import {useEffect, useState} from 'preact/hooks'

export const base = document.querySelector<HTMLMetaElement>('meta[name="coord-content-path"]')?.content.replace(/^__COORD_CONTENT_PATH__$/, '/') ?? '/ui/'

export interface Place {
  /** Path after the content path, decoded, without a leading slash: 'services/web', 'kv/app/'. */
  path: string
  query: URLSearchParams
}

function current(): Place {
  const raw = location.pathname.startsWith(base) ? location.pathname.slice(base.length) : ''
  let path = raw
  try { path = decodeURIComponent(raw) } catch { path = raw }
  return {path, query: new URLSearchParams(location.search)}
}

const listeners = new Set<() => void>()
window.addEventListener('popstate', () => { for (const l of listeners) l() })

export function useLocation(): Place {
  const [place, setPlace] = useState(current)
  useEffect(() => {
    const update = () => setPlace(current())
    listeners.add(update)
    return () => { listeners.delete(update) }
  }, [])
  return place
}

/** An address in the UI; `dc` (and only it) carries over from the current page unless given. */
export function href(path: string, query: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams()
  const dc = 'dc' in query ? query.dc : new URLSearchParams(location.search).get('dc') ?? undefined
  if (dc) params.set('dc', dc)
  for (const [k, v] of Object.entries(query)) if (k !== 'dc' && v !== undefined && v !== '') params.set(k, v)
  const encoded = path.split('/').map(encodeURIComponent).join('/')
  const search = params.toString()
  return `${base}${encoded}${search ? `?${search}` : ''}`
}

export function navigate(url: string, opts: {replace?: boolean} = {}): void {
  if (opts.replace) history.replaceState(null, '', url)
  else history.pushState(null, '', url)
  for (const l of listeners) l()
}

/** Replaces query parameters of the current page (filters): no new history entry per keystroke. */
export function setQuery(changes: Record<string, string | undefined>): void {
  const params = new URLSearchParams(location.search)
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined || v === '') params.delete(k)
    else params.set(k, v)
  }
  const search = params.toString()
  navigate(`${location.pathname}${search ? `?${search}` : ''}`, {replace: true})
}

export function Link(props: {href: string; children: ComponentChildren; class?: string; 'aria-current'?: JSX.AriaAttributes['aria-current']}) {
  const onClick = (event: MouseEvent) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    event.preventDefault()
    navigate(props.href)
    window.scrollTo(0, 0)
  }
  return <a href={props.href} class={props.class} aria-current={props['aria-current']} onClick={onClick}>{props.children}</a>
}
