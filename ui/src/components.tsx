// Pieces every page uses: messages for errors and empty states, health badges, the page heading,
// and a virtualised list (only the rows in view are in the DOM, so 10,000 rows scroll smoothly).
import type {ComponentChildren} from 'preact'
import {useEffect, useRef, useState} from 'preact/hooks'
import type {ApiError, Live, Status} from './api.js'
import {Link, href} from './router.js'

export function ErrorBox(props: {error: ApiError | Error; retry?: () => void; title?: string}) {
  // A refusal (403) is fixed with a better token: say where to set one.
  const denied = (props.error as Partial<ApiError>).status === 403
  return (
    <div class="message error" role="alert" data-status={(props.error as Partial<ApiError>).status}>
      <strong>{props.title ?? 'Something went wrong'}</strong>
      <p>{props.error.message}</p>
      {denied && <p><Link href={href('acl')}>Set an ACL token</Link></p>}
      {props.retry && <button type="button" onClick={props.retry}>Retry</button>}
    </div>
  )
}

/** The usual states of a live read: loading, failed before any answer, or the answer (with a stale-data warning if a later read failed). */
export function LiveView<T>(props: {live: Live<T>; what: string; children: (data: T) => ComponentChildren}) {
  const {live} = props
  if (live.answer === undefined) {
    if (live.error) return <ErrorBox error={live.error} retry={live.retry} title={`Could not load ${props.what}`} />
    return <p class="message" role="status">Loading {props.what}…</p>
  }
  return (
    <>
      {live.error && <ErrorBox error={live.error} retry={live.retry} title={`Live updates of ${props.what} stopped; showing the last answer`} />}
      {props.children(live.answer.data)}
    </>
  )
}

const STATUS_TEXT: Record<Status, string> = {passing: 'passing', warning: 'warning', critical: 'critical'}

export function StatusBadge(props: {status: Status; count?: number; label?: string}) {
  const text = props.count === undefined ? STATUS_TEXT[props.status] : `${props.count} ${STATUS_TEXT[props.status]}`
  return <span class={`badge ${props.status}`} title={props.label}>{text}</span>
}

export function PageTitle(props: {title: string; children?: ComponentChildren}) {
  useEffect(() => { document.title = `${props.title} · coord` }, [props.title])
  return (
    <div class="page-head">
      <h1>{props.title}</h1>
      {props.children}
    </div>
  )
}

/**
 * A list that renders only what is visible (plus a margin) in a scroll box of its own. Rows have
 * one fixed height; each row's content must fit it (long text is cut with an ellipsis by the CSS).
 */
export function VirtualList<T>(props: {items: readonly T[]; rowHeight: number; label: string; render: (item: T, index: number) => ComponentChildren; keyOf: (item: T) => string}) {
  const box = useRef<HTMLDivElement>(null)
  const [scrollTop, setScrollTop] = useState(0)
  const [height, setHeight] = useState(600)
  useEffect(() => {
    const element = box.current
    if (!element) return
    const observer = new ResizeObserver(() => setHeight(element.clientHeight))
    observer.observe(element)
    return () => observer.disconnect()
  }, [])
  const {items, rowHeight} = props
  const overscan = 8
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan)
  const last = Math.min(items.length, Math.ceil((scrollTop + height) / rowHeight) + overscan)
  const rows = []
  for (let i = first; i < last; i++) {
    rows.push(<li key={props.keyOf(items[i])} class="vrow" style={{top: `${i * rowHeight}px`, height: `${rowHeight}px`}} aria-setsize={items.length} aria-posinset={i + 1}>{props.render(items[i], i)}</li>)
  }
  return (
    <div ref={box} class="vlist" tabIndex={0} role="region" aria-label={`${props.label} (${items.length})`}
      onScroll={(event) => setScrollTop((event.currentTarget as HTMLDivElement).scrollTop)}>
      <ul class="vinner" style={{height: `${items.length * rowHeight}px`}}>{rows}</ul>
    </div>
  )
}

export function Empty(props: {children: ComponentChildren}) {
  return <p class="message empty">{props.children}</p>
}

/** Key/value pairs (service meta, node meta) as a definition list. */
export function MetaList(props: {meta: Record<string, string> | null | undefined; label: string}) {
  const entries = Object.entries(props.meta ?? {})
  if (entries.length === 0) return <span class="muted">no {props.label}</span>
  return (
    <dl class="meta" aria-label={props.label}>
      {entries.map(([k, v]) => <div key={k}><dt>{k}</dt><dd>{v}</dd></div>)}
    </dl>
  )
}
