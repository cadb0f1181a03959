// Consul's remote exec protocol (command/exec/exec.go and agent/remote_exec.go), shared by the
// `coord exec` client and the agent that runs jobs. Everything travels through the KV store under
// <prefix>/<session>/, held by the job's session (behavior delete, so destroying the session
// sweeps it all):
//   job                 the spec (JSON: Command | Args | Script (base64), Wait in nanoseconds)
//   <node>/ack          the node took the job
//   <node>/out/<%05x>   an output chunk (≤ 4 KiB); an empty one is a heartbeat
//   <node>/exit         the exit code, in decimal
// The `_rexec` user event carries {Prefix, Session} as JSON and the node/service/tag filters.
import {posix} from 'node:path'

export const REXEC_PREFIX = '_rexec'
export const REXEC_EVENT = '_rexec'
export const REXEC_JOB = 'job'
/** Consul's session TTL for a job; the CLI renews it every 5 s while waiting. */
export const REXEC_TTL = '15s'
export const REXEC_RENEW_MS = 5000
/** Agents upload output in chunks of at most this many bytes... */
export const REXEC_OUTPUT_CHUNK_BYTES = 4 * 1024
/** ...or whatever they have after this long without new output. */
export const REXEC_OUTPUT_IDLE_MS = 500

export interface RExecSpec {
  /** One shell command line (run with $SHELL -c, /bin/sh by default). */
  command?: string
  /** argv run directly (exec -shell=false). */
  args?: string[]
  /** A script (exec -): spilled to a temporary file and run by the shell. */
  script?: Uint8Array
  /** The CLI's quiet period: the agent sends a heartbeat after this long without output. */
  waitMs: number
}

export interface RExecEventPayload {
  Prefix: string
  Session: string
}

/** The spec as Consul's JSON (`Wait` is a Go time.Duration: nanoseconds). */
export function encodeSpec(spec: RExecSpec): string {
  const out: Record<string, unknown> = {}
  if (spec.command) out.Command = spec.command
  if (spec.args && spec.args.length > 0) out.Args = spec.args
  if (spec.script && spec.script.length > 0) out.Script = Buffer.from(spec.script).toString('base64')
  out.Wait = Math.round(spec.waitMs * 1e6)
  return JSON.stringify(out)
}

/** Parses a job spec; throws a one-line reason. */
export function decodeSpec(text: string): RExecSpec {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new Error(`failed to decode remote exec spec: ${(error as Error).message}`)
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('failed to decode remote exec spec: not an object')
  const m = raw as Record<string, unknown>
  const spec: RExecSpec = {waitMs: 0}
  if (m.Command !== undefined && m.Command !== null) {
    if (typeof m.Command !== 'string') throw new Error('failed to decode remote exec spec: Command is not a string')
    spec.command = m.Command
  }
  if (m.Args !== undefined && m.Args !== null) {
    if (!Array.isArray(m.Args) || !m.Args.every((a) => typeof a === 'string')) throw new Error('failed to decode remote exec spec: Args is not a list of strings')
    spec.args = m.Args as string[]
  }
  if (m.Script !== undefined && m.Script !== null) {
    if (typeof m.Script !== 'string') throw new Error('failed to decode remote exec spec: Script is not base64')
    spec.script = Buffer.from(m.Script, 'base64')
  }
  const wait = m.Wait ?? 0
  if (typeof wait !== 'number' || !Number.isFinite(wait) || wait < 0) throw new Error('failed to decode remote exec spec: Wait is not a duration in nanoseconds')
  spec.waitMs = wait / 1e6
  if (!spec.command && !(spec.args && spec.args.length > 0) && !(spec.script && spec.script.length > 0)) {
    throw new Error('failed to decode remote exec spec: no Command, Args or Script')
  }
  return spec
}

/** Parses the `_rexec` event payload; throws a one-line reason. */
export function decodeEventPayload(bytes: Uint8Array | null): RExecEventPayload {
  let raw: unknown
  try {
    raw = JSON.parse(Buffer.from(bytes ?? []).toString('utf8'))
  } catch (error) {
    throw new Error(`failed to decode remote exec event: ${(error as Error).message}`)
  }
  const m = (raw ?? {}) as Record<string, unknown>
  if (typeof m.Prefix !== 'string' || typeof m.Session !== 'string' || m.Session === '') throw new Error('failed to decode remote exec event: needs Prefix and Session')
  return {Prefix: m.Prefix, Session: m.Session}
}

/** The job's directory, `<prefix>/<session>` (path.Join semantics). */
export function jobDir(prefix: string, session: string): string {
  return posix.join(prefix, session)
}

export function jobKey(prefix: string, session: string): string {
  return posix.join(prefix, session, REXEC_JOB)
}

/** A key a node writes: `<prefix>/<session>/<node>/<suffix>`. */
export function nodeKey(prefix: string, session: string, node: string, suffix: string): string {
  return posix.join(prefix, session, node, suffix)
}

/** `out/00000`, `out/00001`, ... (Consul's %05x). */
export function outputSuffix(num: number): string {
  return `out/${num.toString(16).padStart(5, '0')}`
}

export type ResultKey =
  | {kind: 'job'}
  | {kind: 'ack' | 'exit' | 'output'; node: string}
  | {kind: 'unknown'}

/** Classifies a key under `<dir>/` as Consul's streamResults does. */
export function classifyResultKey(key: string, dir: string): ResultKey {
  const rel = key.startsWith(`${dir}/`) ? key.slice(dir.length + 1) : key
  if (rel === REXEC_JOB) return {kind: 'job'}
  if (rel.endsWith('/ack')) return {kind: 'ack', node: rel.slice(0, -'/ack'.length)}
  if (rel.endsWith('/exit')) return {kind: 'exit', node: rel.slice(0, -'/exit'.length)}
  const out = rel.lastIndexOf('/out/')
  if (out > 0) return {kind: 'output', node: rel.slice(0, out)}
  return {kind: 'unknown'}
}
