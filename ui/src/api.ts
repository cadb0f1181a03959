// The agent's /v1 HTTP API as the pages use it: one request function that turns every failure
// (agent unreachable, 403, 500, an answer that is not what was asked for) into an ApiError with a
// sentence a person can act on, and useBlocking, which keeps a read live with Consul's blocking
// queries (?index=): the agent answers when the data changes, so there is no polling.
import {useEffect, useState} from 'preact/hooks'

// --- the ACL token: kept in this browser (localStorage), sent as X-Consul-Token on every request ---

const TOKEN_KEY = 'coord-acl-token'
const tokenListeners = new Set<() => void>()

/** The token the UI sends ('' for none: the agent's default token, else anonymous, applies). */
export function currentToken(): string {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? ''
  } catch {
    return '' // storage disabled: requests go without a token
  }
}

/** Stores (or, with '', forgets) the token; every live read restarts with it. */
export function setToken(token: string): void {
  try {
    if (token === '') localStorage.removeItem(TOKEN_KEY)
    else localStorage.setItem(TOKEN_KEY, token)
  } catch {
    // storage disabled: the token lasts until the page is reloaded
    memoryToken = token
  }
  for (const listener of tokenListeners) listener()
}
let memoryToken = ''

/** Re-renders when the token changes; returns a number that changes with it (a key for pages). */
export function useTokenEpoch(): number {
  const [epoch, setEpoch] = useState(0)
  useEffect(() => {
    const bump = () => setEpoch((n) => n + 1)
    tokenListeners.add(bump)
    return () => { tokenListeners.delete(bump) }
  }, [])
  return epoch
}

export class ApiError extends Error {
  constructor(message: string, readonly status: number) {
    super(message)
  }
}

export interface Answer<T> {
  data: T
  /** X-Consul-Index, 0 when the endpoint sends none. */
  index: number
  /** The raw body: KV reads need it to keep 64-bit Flags exact. */
  text: string
}

type Params = Record<string, string | undefined>

export function apiUrl(path: string, params: Params = {}): string {
  const query = Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => (v === '' ? encodeURIComponent(k) : `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)).join('&')
  return query ? `${path}?${query}` : path
}

/** Encodes each segment of a KV key or a name for a URL path, keeping the slashes. */
export function pathSegments(key: string): string {
  return key.split('/').map(encodeURIComponent).join('/')
}

function describeStatus(status: number, body: string): string {
  const reason = body.trim().split('\n')[0]?.slice(0, 300) ?? ''
  const why = reason ? `: ${reason}` : ''
  if (status === 403) return `Permission denied (403)${why}. The agent refused this request; a token with more rights is needed (set one on the ACL page).`
  if (status === 401) return `ACLs are not enabled on this agent (401)${why}.`
  if (status === 404) return `Not found (404)${why}.`
  if (status >= 500) return `The agent could not answer (${status})${why}. It may have no cluster leader yet, or another datacenter may be unreachable.`
  return `The agent refused the request (${status})${why}.`
}

export async function request(method: string, path: string, opts: {params?: Params; body?: string; signal?: AbortSignal; allow404?: boolean} = {}): Promise<Answer<unknown>> {
  let response: Response
  try {
    const token = currentToken() || memoryToken
    response = await fetch(apiUrl(path, opts.params), {method, body: opts.body, signal: opts.signal, headers: {Accept: 'application/json', ...(token ? {'X-Consul-Token': token} : {})}})
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error
    throw new ApiError(`Cannot reach the agent at ${location.host}: ${(error as Error).message}. Is it running?`, 0)
  }
  const text = await response.text()
  const index = Number(response.headers.get('X-Consul-Index') ?? 0)
  if (response.status === 404 && opts.allow404) return {data: null, index: Number.isFinite(index) ? index : 0, text}
  if (!response.ok) throw new ApiError(describeStatus(response.status, text), response.status)
  let data: unknown = null
  if (text !== '') {
    try {
      data = JSON.parse(text)
    } catch {
      throw new ApiError(`The agent's answer to ${path} is not valid JSON (${text.length} bytes starting ${JSON.stringify(text.slice(0, 40))}).`, response.status)
    }
  }
  return {data, index: Number.isFinite(index) ? index : 0, text}
}

export interface Live<T> {
  answer?: Answer<T>
  error?: ApiError
  /** Set while the first answer is awaited. */
  loading: boolean
  retry(): void
}

/** How long one blocking read may park at the agent. */
const WAIT = '60s'
/** Consecutive failures before the loop stops and waits for the user's Retry. */
const MAX_FAILURES = 8

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((resolve) => {
  const timer = setTimeout(resolve, ms)
  signal.addEventListener('abort', () => { clearTimeout(timer); resolve() }, {once: true})
})

/** Resolves when the page is visible again (or the read is abandoned). */
const visible = (signal: AbortSignal) => new Promise<void>((resolve) => {
  if (!document.hidden || signal.aborted) return resolve()
  const done = () => {
    if (document.hidden && !signal.aborted) return
    document.removeEventListener('visibilitychange', done)
    resolve()
  }
  document.addEventListener('visibilitychange', done)
  signal.addEventListener('abort', done, {once: true})
})

/**
 * A live read: the first request answers at once, each next one carries the last X-Consul-Index and
 * parks at the agent until something changes (or WAIT passes). A smaller index than before resets
 * to 0, as Consul's docs ask. Failures back off (0.5 s doubling to 15 s) and stop after
 * MAX_FAILURES; `validate` turns a well-formed answer of the wrong shape into an error. A hidden tab
 * parks nothing: a browser allows 6 connections per host, and tabs left open must not use them up;
 * on return the read resumes from its index, so what changed meanwhile shows at once.
 */
export function useBlocking<T>(path: string | null, params: Params, validate: (data: unknown) => T, opts: {allow404?: boolean} = {}): Live<T> {
  const [state, setState] = useState<{answer?: Answer<T>; error?: ApiError; loading: boolean}>({loading: true})
  const [attempt, setAttempt] = useState(0)
  const key = JSON.stringify([path, params, opts.allow404 ?? false])
  useEffect(() => {
    if (path === null) return
    const controller = new AbortController()
    const {signal} = controller
    let current: AbortController | undefined
    const onVisibility = () => { if (document.hidden) current?.abort() }
    document.addEventListener('visibilitychange', onVisibility)
    setState({loading: true})
    void (async () => {
      let index = 0
      let failures = 0
      while (!signal.aborted) {
        await visible(signal)
        if (signal.aborted) return
        current = new AbortController()
        const abortCurrent = () => current?.abort()
        signal.addEventListener('abort', abortCurrent, {once: true})
        try {
          const raw = await request('GET', path, {params: {...params, ...(index > 0 ? {index: String(index), wait: WAIT} : {})}, signal: current.signal, allow404: opts.allow404})
          if (signal.aborted) return
          failures = 0
          const data = raw.data === null && opts.allow404 ? (null as T) : validate(raw.data)
          setState({answer: {...raw, data}, loading: false})
          if (raw.index === 0) return // the endpoint cannot block: one answer is all there is
          index = raw.index < index ? 0 : raw.index
          // A burst of changes wakes us often: let the browser paint between reads.
          await sleep(100, signal)
        } catch (error) {
          if (signal.aborted) return
          if (current.signal.aborted) continue // the tab was hidden: wait for it to come back
          const apiError = error instanceof ApiError ? error : new ApiError((error as Error).message, 0)
          setState((previous) => ({answer: previous.answer, error: apiError, loading: false}))
          failures++
          if (failures >= MAX_FAILURES) return
          await sleep(Math.min(15_000, 500 * 2 ** (failures - 1)), signal)
        } finally {
          signal.removeEventListener('abort', abortCurrent)
        }
      }
    })()
    return () => {
      controller.abort()
      document.removeEventListener('visibilitychange', onVisibility)
    }
  }, [key, attempt]) // key stands for path and params
  return {...state, retry: () => setAttempt((n) => n + 1)}
}

// --- answer shapes: checked enough that a wrong answer becomes a message, not a blank page ---

export function expectArray<T = Record<string, unknown>>(what: string): (data: unknown) => T[] {
  return (data) => {
    if (data === null) return []
    if (!Array.isArray(data)) throw new ApiError(`Unexpected answer for ${what}: expected a list.`, 200)
    return data as T[]
  }
}

export function expectObject<T>(what: string): (data: unknown) => T {
  return (data) => {
    if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new ApiError(`Unexpected answer for ${what}: expected an object.`, 200)
    return data as T
  }
}

export type Status = 'passing' | 'warning' | 'critical'

export interface Check {
  Node: string; CheckID: string; Name: string; Status: Status; Notes: string; Output: string
  ServiceID: string; ServiceName: string; Type?: string
}

export interface ServiceSummary {
  Name: string; Tags: string[]; Nodes: string[]; InstanceCount: number; Kind: string
  InstancesPassing: number; InstancesWarning: number; InstancesCritical: number
  ChecksPassing: number; ChecksWarning: number; ChecksCritical: number
}

export interface NodeService {
  ID: string; Service: string; Tags: string[]; Address: string; Port: number; Meta: Record<string, string> | null
}

export interface NodeSummary {
  ID: string; Node: string; Address: string; Meta: Record<string, string> | null
  Services: NodeService[]; Checks: Check[]
}

export interface ServiceEntry {
  Node: {Node: string; Address: string; Datacenter: string; Meta: Record<string, string> | null}
  Service: NodeService
  Checks: Check[]
}

export interface Session {
  ID: string; Name: string; Node: string; Behavior: string; TTL: string; LockDelay: number
  NodeChecks: string[] | null; CreateIndex: number; HeldKeys: string[]
}

export interface LockSummary {
  Sessions: Session[]
  Held: Array<{Key: string; Session: string; Kind: 'lock' | 'semaphore' | 'key'; LockIndex: number}>
  Semaphores: Array<{Prefix: string; Key: string; Limit?: number; Holders?: string[]; Error?: string; Contenders: string[]}>
}

export interface KVPair {
  Key: string; Value: string | null; Flags: number; Session?: string; LockIndex: number; ModifyIndex: number; CreateIndex: number
}

/** The worst of some statuses ('passing' when none). */
export function worst(statuses: Iterable<Status>): Status {
  let result: Status = 'passing'
  for (const s of statuses) {
    if (s === 'critical') return 'critical'
    if (s === 'warning') result = 'warning'
  }
  return result
}

// --- ACL records (read-only views) ---

export interface AclLink { ID: string; Name: string }

export interface AclToken {
  AccessorID: string; SecretID?: string; Description: string; Policies?: AclLink[]; Roles?: AclLink[]
  ServiceIdentities?: Array<{ServiceName: string; Datacenters?: string[]}>; NodeIdentities?: Array<{NodeName: string; Datacenter: string}>
  Local: boolean; ExpirationTime?: string; CreateTime: string
}

export interface AclPolicy { ID: string; Name: string; Description: string; Rules?: string; Datacenters?: string[] | null }

export interface AclRole { ID: string; Name: string; Description: string; Policies?: AclLink[] }

/**
 * Whether the current token may `access` `resource` `segment` (POST /v1/internal/acl/authorize; with
 * ACLs off the agent answers yes). undefined until known, and when the agent could not say: the
 * controls it guards then show, and the agent still checks the request itself.
 */
export function useAllowed(resource: string, segment: string, access: 'read' | 'write' | 'list', dc?: string): boolean | undefined {
  const [allowed, setAllowed] = useState<boolean | undefined>()
  useEffect(() => {
    let live = true
    setAllowed(undefined)
    request('POST', '/v1/internal/acl/authorize', {params: {dc}, body: JSON.stringify([{Resource: resource, Segment: segment, Access: access}])})
      .then((answer) => {
        const first = Array.isArray(answer.data) ? (answer.data[0] as {Allow?: unknown} | undefined) : undefined
        if (live && typeof first?.Allow === 'boolean') setAllowed(first.Allow)
      })
      .catch(() => { /* unknown: the agent decides when the request is made */ })
    return () => { live = false }
  }, [resource, segment, access, dc])
  return allowed
}
