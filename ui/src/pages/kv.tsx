// KV: a folder browser over '/'-separated keys (live, virtualised), create and delete (a folder's
// delete names how many keys go with it), and a key editor whose save is a check-and-set on the
// ModifyIndex the edit started from: if someone else changed the key meanwhile, the page says so
// and keeps what was typed. With ACLs on, a token that may not write here sees no edit controls
// (asked of /v1/internal/acl/authorize: the folder's prefix for create and delete, the key itself
// for its editor); the agent checks every write anyway.
import {useState} from 'preact/hooks'
import {ApiError, expectArray, pathSegments, request, useAllowed, useBlocking, type KVPair} from '../api.js'
import {Empty, ErrorBox, LiveView, PageTitle, VirtualList} from '../components.js'
import {Link, href, navigate} from '../router.js'
import {decodeValue, exactFlags, hexDump, isUint64, jsonView, type Decoded} from '../value.js'

function Breadcrumbs(props: {path: string}) {
  const parts = props.path.split('/').filter((p, i, all) => p !== '' || i < all.length - 1)
  const crumbs = [<li key="root"><Link href={href('kv/')}>Key/Value</Link></li>]
  let at = ''
  parts.forEach((part, i) => {
    const isLast = i === parts.length - 1
    at += isLast && !props.path.endsWith('/') ? part : `${part}/`
    crumbs.push(<li key={at}>{isLast ? <span aria-current="page">{part}</span> : <Link href={href(`kv/${at}`)}>{part}</Link>}</li>)
  })
  return <nav aria-label="Key path"><ol class="crumbs">{crumbs}</ol></nav>
}

export function KvPage(props: {path: string; dc?: string}) {
  const isFolder = props.path === '' || props.path.endsWith('/')
  return isFolder ? <KvFolder prefix={props.path} dc={props.dc} /> : <KvKey keyName={props.path} dc={props.dc} />
}

async function put(key: string, value: string, params: Record<string, string | undefined>): Promise<boolean> {
  const answer = await request('PUT', `/v1/kv/${pathSegments(key)}`, {params, body: value})
  return answer.data === true
}

/** What a delete is about to remove, confirmed in the page before anything is sent. */
type PendingDelete = {key: string; folder: boolean; count: number}

function DeleteConfirm(props: {pending: PendingDelete; dc?: string; onDone: () => void; onCancel: () => void}) {
  const {pending} = props
  const [error, setError] = useState<Error | undefined>()
  const [busy, setBusy] = useState(false)
  const confirm = async () => {
    setBusy(true)
    try {
      await request('DELETE', `/v1/kv/${pathSegments(pending.key)}`, {params: {dc: props.dc, recurse: pending.folder ? '' : undefined}})
      props.onDone()
    } catch (e) {
      setError(e as Error)
      setBusy(false)
    }
  }
  const what = pending.folder ? `the folder ${pending.key} and all ${pending.count} ${pending.count === 1 ? 'key' : 'keys'} under it` : `the key ${pending.key}`
  return (
    <div class="confirm" role="alertdialog" aria-labelledby="confirm-text">
      <p id="confirm-text">Delete {what}? This cannot be undone.</p>
      {error && <ErrorBox error={error} title="Delete failed" />}
      <button type="button" class="danger" disabled={busy} onClick={() => void confirm()}>Delete {pending.folder ? `${pending.count} ${pending.count === 1 ? 'key' : 'keys'}` : 'key'}</button>
      <button type="button" onClick={props.onCancel}>Cancel</button>
    </div>
  )
}

function KvFolder(props: {prefix: string; dc?: string}) {
  const live = useBlocking(`/v1/kv/${pathSegments(props.prefix)}`, {dc: props.dc, keys: '', separator: '/'}, expectArray<string>('the key list'), {allow404: true})
  const [pending, setPending] = useState<PendingDelete | undefined>()
  const [countError, setCountError] = useState<Error | undefined>()
  const canWrite = useAllowed('key', props.prefix, 'write', props.dc)
  const askDelete = async (key: string) => {
    setCountError(undefined)
    if (!key.endsWith('/')) return setPending({key, folder: false, count: 1})
    try {
      const answer = await request('GET', `/v1/kv/${pathSegments(key)}`, {params: {dc: props.dc, keys: ''}, allow404: true})
      setPending({key, folder: true, count: Array.isArray(answer.data) ? answer.data.length : 0})
    } catch (e) {
      setCountError(e as Error)
    }
  }
  return (
    <section>
      <PageTitle title={props.prefix === '' ? 'Key/Value' : `Key/Value: ${props.prefix}`} />
      <Breadcrumbs path={props.prefix} />
      {canWrite !== false && <CreateKey prefix={props.prefix} dc={props.dc} />}
      {countError && <ErrorBox error={countError} title="Could not count the keys to delete" />}
      {pending && <DeleteConfirm pending={pending} dc={props.dc} onCancel={() => setPending(undefined)} onDone={() => setPending(undefined)} />}
      <LiveView live={live} what="keys">{(keys) => {
        const children = (keys ?? []).filter((k) => k !== props.prefix)
        if (children.length === 0) return <Empty>No keys under {props.prefix || 'the root'}.</Empty>
        return (
          <>
            <p class="count" role="status">{children.length} {children.length === 1 ? 'entry' : 'entries'}</p>
            <VirtualList items={children} rowHeight={44} label="Keys" keyOf={(k) => k} render={(k) => (
              <div class="row kv-row" data-key={k}>
                <Link href={href(`kv/${k}`)} class="name">{k.endsWith('/') ? '📁 ' : ''}{k.slice(props.prefix.length)}</Link>
                {canWrite !== false && <button type="button" class="small" aria-label={`Delete ${k}`} onClick={() => void askDelete(k)}>Delete</button>}
              </div>
            )} />
          </>
        )
      }}</LiveView>
    </section>
  )
}

function CreateKey(props: {prefix: string; dc?: string; initialName?: string}) {
  const [open, setOpen] = useState(props.initialName !== undefined)
  const [name, setName] = useState(props.initialName ?? '')
  const [value, setValue] = useState('')
  const [flags, setFlags] = useState('0')
  const [error, setError] = useState<Error | undefined>()
  const [busy, setBusy] = useState(false)
  if (!open) return <button type="button" onClick={() => setOpen(true)}>Create a key or folder</button>
  const submit = async (event: Event) => {
    event.preventDefault()
    setError(undefined)
    const full = `${props.prefix}${name}`
    if (name === '' || name.startsWith('/')) return setError(new Error('Give the new key a name (not starting with "/"); end it with "/" to make a folder.'))
    if (!isUint64(flags)) return setError(new Error('Flags must be a whole number from 0 to 18446744073709551615.'))
    setBusy(true)
    try {
      // cas=0: create only; an existing key is not overwritten from here.
      const created = await put(full, name.endsWith('/') ? '' : value, {dc: props.dc, cas: '0', flags})
      if (!created) {
        setError(new Error(`${full} already exists; open it to edit it.`))
        setBusy(false)
        return
      }
      navigate(href(`kv/${full}`))
    } catch (e) {
      setError(e as Error)
      setBusy(false)
    }
  }
  return (
    <form class="editor" onSubmit={(e) => void submit(e)} aria-label="Create a key">
      <label>Name (ending in / makes a folder) <span class="prefix">{props.prefix}</span><input type="text" required value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} /></label>
      {!name.endsWith('/') && <label>Value <textarea rows={6} value={value} onInput={(e) => setValue((e.target as HTMLTextAreaElement).value)} /></label>}
      <label>Flags <input type="text" inputMode="numeric" value={flags} onInput={(e) => setFlags((e.target as HTMLInputElement).value)} /></label>
      {error && <ErrorBox error={error} title="Not created" />}
      <div class="buttons">
        <button type="submit" class="primary" disabled={busy}>Create</button>
        <button type="button" onClick={() => setOpen(false)}>Cancel</button>
      </div>
    </form>
  )
}

function ValueView(props: {decoded: Decoded}) {
  const [mode, setMode] = useState<'text' | 'json'>('text')
  const {decoded} = props
  if (decoded.kind === 'binary') {
    return (
      <div class="value">
        <p class="message">Binary value ({decoded.size} bytes), shown as hex; it cannot be edited as text here.</p>
        <pre class="output" aria-label="value as hex">{hexDump(decoded.bytes)}</pre>
      </div>
    )
  }
  const json = mode === 'json' ? jsonView(decoded.text) : undefined
  return (
    <div class="value">
      <fieldset class="toggle">
        <legend>Show value as</legend>
        <label><input type="radio" name="view" checked={mode === 'text'} onChange={() => setMode('text')} /> Text</label>
        <label><input type="radio" name="view" checked={mode === 'json'} onChange={() => setMode('json')} /> JSON</label>
      </fieldset>
      {json === undefined ? <pre class="output" aria-label="value">{decoded.text === '' ? '(empty)' : decoded.text}</pre>
        : json.ok ? <pre class="output" aria-label="value as JSON">{json.pretty}</pre>
          : <p class="message error" role="status">Not valid JSON: {json.error}</p>}
    </div>
  )
}

function KvKey(props: {keyName: string; dc?: string}) {
  const live = useBlocking(`/v1/kv/${pathSegments(props.keyName)}`, {dc: props.dc}, expectArray<KVPair>('the key'), {allow404: true})
  const parent = props.keyName.includes('/') ? props.keyName.slice(0, props.keyName.lastIndexOf('/') + 1) : ''
  return (
    <section>
      <PageTitle title={`Key ${props.keyName}`} />
      <Breadcrumbs path={props.keyName} />
      <LiveView live={live} what={`key ${props.keyName}`}>{(pairs) => {
        const pair = pairs?.[0]
        if (!pair) {
          return (
            <>
              <Empty>There is no key named {props.keyName}{live.answer && live.answer.index > 0 ? ' (it may have been deleted)' : ''}.</Empty>
              <CreateKey prefix={parent} dc={props.dc} initialName={props.keyName.slice(parent.length)} />
            </>
          )
        }
        let decoded: Decoded
        try {
          decoded = decodeValue(pair.Value)
        } catch (e) {
          return <ErrorBox error={e as Error} title="Malformed value" />
        }
        return <KeyEditor key={props.keyName} pair={pair} flags={exactFlags(live.answer?.text ?? '')} decoded={decoded} dc={props.dc} parent={parent} />
      }}</LiveView>
    </section>
  )
}

function KeyEditor(props: {pair: KVPair; flags: string; decoded: Decoded; dc?: string; parent: string}) {
  const {pair, decoded} = props
  // null while not editing: the form then follows the live value.
  const [draft, setDraft] = useState<string | null>(null)
  const [draftFlags, setDraftFlags] = useState<string | null>(null)
  const [base, setBase] = useState(pair.ModifyIndex)
  const [error, setError] = useState<Error | undefined>()
  const [conflict, setConflict] = useState(false)
  const [saved, setSaved] = useState<number | undefined>()
  const [busy, setBusy] = useState(false)
  const [deleting, setDeleting] = useState(false)
  const editing = draft !== null || draftFlags !== null
  const canWrite = useAllowed('key', pair.Key, 'write', props.dc)
  const changedMeanwhile = editing && pair.ModifyIndex !== base
  const currentText = decoded.kind === 'text' ? decoded.text : ''
  const startEdit = () => {
    if (!editing) setBase(pair.ModifyIndex)
  }
  const save = async (cas: number) => {
    setError(undefined)
    const flags = draftFlags ?? props.flags
    if (!isUint64(flags)) return setError(new Error('Flags must be a whole number from 0 to 18446744073709551615.'))
    setBusy(true)
    try {
      const ok = await put(pair.Key, draft ?? currentText, {dc: props.dc, cas: String(cas), flags})
      if (!ok) {
        setConflict(true)
      } else {
        setDraft(null)
        setDraftFlags(null)
        setConflict(false)
        setSaved(Date.now())
      }
    } catch (e) {
      setError(e instanceof ApiError ? e : new Error((e as Error).message))
    } finally {
      setBusy(false)
    }
  }
  return (
    <div class="card">
      <dl class="facts">
        <div><dt>Size</dt><dd>{decoded.size} bytes</dd></div>
        <div><dt>Flags</dt><dd class="mono">{props.flags}</dd></div>
        <div><dt>Modify index</dt><dd>{pair.ModifyIndex}</dd></div>
        <div><dt>Lock</dt><dd>{pair.Session ? <>held by session <Link href={href('sessions', {session: pair.Session})}>{pair.Session}</Link> (lock index {pair.LockIndex})</> : <span class="muted">not held</span>}</dd></div>
      </dl>
      <ValueView decoded={decoded} />
      {canWrite === false && <p class="message info" role="note" data-readonly>Your token may read this key but not change it.</p>}
      {decoded.kind === 'text' && canWrite !== false && (
        <form class="editor" aria-label="Edit value" onSubmit={(e) => { e.preventDefault(); void save(base) }}>
          {(changedMeanwhile || conflict) && (
            <div class="message warning" role="alert" data-testid="cas-warning">
              <strong>Someone else changed this key while you were editing.</strong>
              <p>It is now at modify index {pair.ModifyIndex} (you started from {base}). Your text is kept below; saving now would be refused so their change is not lost silently.</p>
              <button type="button" onClick={() => void save(pair.ModifyIndex)}>Overwrite with my text</button>
              <button type="button" onClick={() => { setDraft(null); setDraftFlags(null); setConflict(false) }}>Discard mine, load theirs</button>
            </div>
          )}
          <label>Value <textarea rows={10} value={draft ?? currentText} onFocus={startEdit}
            onInput={(e) => { startEdit(); setDraft((e.target as HTMLTextAreaElement).value); setSaved(undefined) }} /></label>
          <label>Flags <input type="text" inputMode="numeric" value={draftFlags ?? props.flags} onFocus={startEdit}
            onInput={(e) => { startEdit(); setDraftFlags((e.target as HTMLInputElement).value); setSaved(undefined) }} /></label>
          {error && <ErrorBox error={error} title="Not saved (your text is kept)" />}
          {saved !== undefined && !editing && <p class="message ok" role="status">Saved.</p>}
          <div class="buttons">
            <button type="submit" class="primary" disabled={busy || !editing}>Save</button>
            <button type="button" disabled={!editing} onClick={() => { setDraft(null); setDraftFlags(null); setConflict(false); setError(undefined) }}>Revert</button>
            <button type="button" class="danger" onClick={() => setDeleting(true)}>Delete…</button>
          </div>
        </form>
      )}
      {decoded.kind === 'binary' && canWrite !== false && <div class="buttons"><button type="button" class="danger" onClick={() => setDeleting(true)}>Delete…</button></div>}
      {deleting && <DeleteConfirm pending={{key: pair.Key, folder: false, count: 1}} dc={props.dc} onCancel={() => setDeleting(false)} onDone={() => navigate(href(`kv/${props.parent}`))} />}
    </div>
  )
}
