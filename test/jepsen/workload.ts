// Many clients hammering a few keys through random servers, recording a history for the checker
// (src/lib/check/history.ts is the contract followed here):
// - every write and cas puts a value never written before (`<client>-<n>`), so the checker's
//   value-compare cas agrees with Consul's ModifyIndex-compare cas;
// - a cas first reads the key (recorded too, in the run's read mode) and then sends
//   `?cas=<ModifyIndex>`; it is recorded as cas(value read → new value);
// - a write or cas with no answer (timeout, reset) or a 5xx is an unknown outcome: the request may
//   have reached the leader and been applied. A 4xx, or a refused TCP connection (no request was
//   ever sent), definitely did nothing and is left out;
// - a read that fails constrains nothing and is left out;
// - after an unknown outcome the client continues under a new id: its old operation stays open
//   forever in the history, as if that client had crashed.
import {request} from 'undici'
import type {History, Operation, Value} from '../../src/lib/check/history.js'
import {SeededRng} from '../../src/lib/rng.js'

export type ReadMode = 'default' | 'consistent' | 'stale'

export interface WorkloadOptions {
  /** HTTP addresses of the servers, asked before every request (a restarted server keeps its address). */
  servers: () => readonly string[]
  clients: number
  keys: number
  keyPrefix: string
  durationMs: number
  readMode: ReadMode
  seed: number
  /** Per-request limit; past it the outcome is unknown. */
  requestTimeoutMs?: number
}

export interface WorkloadResult {
  history: Operation[]
  unknown: number
  /** Requests that definitely did nothing (4xx, connection refused) or reads that failed. */
  dropped: number
}

type Answer = {status: number; text: string} | {error: string; refused: boolean}

async function send(base: string, method: 'GET' | 'PUT', path: string, body: string | undefined, timeoutMs: number): Promise<Answer> {
  try {
    const res = await request(`http://${base}${path}`, {method, body, signal: AbortSignal.timeout(timeoutMs)})
    return {status: res.statusCode, text: await res.body.text()}
  } catch (error) {
    const code = (error as {code?: string}).code
    return {error: code ?? (error as Error).name, refused: code === 'ECONNREFUSED'}
  }
}

const modeQuery: Record<ReadMode, string> = {default: '', consistent: '&consistent', stale: '&stale'}

export async function runWorkload(opts: WorkloadOptions): Promise<WorkloadResult> {
  const timeoutMs = opts.requestTimeoutMs ?? 3_000
  const history: Operation[] = []
  let unknown = 0
  let dropped = 0
  const deadline = performance.now() + opts.durationMs
  const keys = Array.from({length: opts.keys}, (_, i) => `${opts.keyPrefix}/k${i}`)
  const rng = new SeededRng(opts.seed)

  const client = async (loop: number, rng: SeededRng) => {
    let generation = 0
    let seq = 0
    const id = () => `${loop}.${generation}`
    const pause = () => new Promise((resolve) => setTimeout(resolve, 20 + rng.int(0, 30)))

    /** Records a read; returns the value and ModifyIndex for a cas, or undefined if it failed. */
    const read = async (base: string, key: string, json: boolean): Promise<{value: Value | null; index: number} | undefined> => {
      const invokeMs = performance.now()
      const res = await send(base, 'GET', `/v1/kv/${key}?${json ? '' : 'raw'}${modeQuery[opts.readMode]}`, undefined, timeoutMs)
      const completeMs = performance.now()
      let found: {value: Value | null; index: number} | undefined
      if ('status' in res && res.status === 404) found = {value: null, index: 0}
      else if ('status' in res && res.status === 200 && !json) found = {value: res.text, index: -1}
      else if ('status' in res && res.status === 200) {
        const [entry] = JSON.parse(res.text) as Array<{Value: string | null; ModifyIndex: number}>
        found = {value: Buffer.from(entry.Value ?? '', 'base64').toString(), index: entry.ModifyIndex}
      }
      if (found === undefined) {
        dropped++
        return undefined
      }
      history.push({op: 'read', clientId: id(), invokeMs, completeMs, input: {key}, output: {value: found.value}})
      return found
    }

    /** Records a write or cas from its answer; true when the request failed (back off a little). */
    const record = (op: Operation, res: Answer, completeMs: number): boolean => {
      if ('status' in res && res.status >= 200 && res.status < 300 && (res.text.trim() === 'true' || res.text.trim() === 'false')) {
        const ok = res.text.trim() === 'true'
        if (op.op === 'write' && !ok) throw new Error(`a plain PUT answered false: ${JSON.stringify(op)}`)
        history.push({...op, completeMs, output: op.op === 'cas' ? {ok} : {ok: true}} as Operation)
        return false
      }
      if (('status' in res && res.status >= 400 && res.status < 500) || ('refused' in res && res.refused)) {
        dropped++
        return true
      }
      history.push(op)
      unknown++
      generation++
      return true
    }

    while (performance.now() < deadline) {
      const servers = opts.servers()
      const base = rng.pick(servers)
      const key = rng.pick(keys)
      const dice = rng.next()
      let failed: boolean
      if (dice < 0.5) {
        failed = (await read(base, key, false)) === undefined
      } else if (dice < 0.75) {
        const value = `${loop}-${seq++}`
        const invokeMs = performance.now()
        const res = await send(base, 'PUT', `/v1/kv/${key}`, value, timeoutMs)
        failed = record({op: 'write', clientId: id(), invokeMs, input: {key, value}}, res, performance.now())
      } else {
        const seen = await read(base, key, true)
        if (seen === undefined) {
          failed = true
        } else {
          const to = `${loop}-${seq++}`
          const invokeMs = performance.now()
          const res = await send(base, 'PUT', `/v1/kv/${key}?cas=${seen.index}`, to, timeoutMs)
          failed = record({op: 'cas', clientId: id(), invokeMs, input: {key, from: seen.value, to}}, res, performance.now())
        }
      }
      if (failed) await pause()
    }
  }

  await Promise.all(Array.from({length: opts.clients}, (_, loop) => client(loop, rng.fork())))
  return {history, unknown, dropped}
}

/** Longest stretch with no acknowledged write or successful cas, ms: how long the cluster could not commit. */
export function longestWriteGapMs(history: History, fromMs: number, toMs: number): number {
  const acked = history
    .filter((op) => (op.op === 'write' && op.output !== undefined) || (op.op === 'cas' && op.output?.ok === true))
    .map((op) => op.completeMs as number)
    .sort((a, b) => a - b)
  let gap = 0
  let last = fromMs
  for (const at of [...acked, toMs]) {
    gap = Math.max(gap, at - last)
    last = Math.max(last, at)
  }
  return gap
}
