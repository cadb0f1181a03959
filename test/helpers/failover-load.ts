// Client load through a failover, recorded for the linearizability checker (src/lib/check): readers
// that GET one key every `periodMs` through chosen agents, and a writer that PUTs a value never
// written before through another. A read that does not answer 200/404 is a failed read (what a
// client would see as an error); a write that does not answer `true` has an unknown outcome.
import {request} from 'undici'
import type {Operation} from '../../src/lib/check/history.js'

export interface LoadTarget {
  name: string
  httpAddr: string
}

export interface FailedRead {
  via: string
  atMs: number
  error: string
}

const REQUEST_TIMEOUT_MS = 30_000
/** Operations per loop at most (a test runs for seconds; this only bounds a runaway). */
const MAX_OPS_PER_LOOP = 20_000

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export class FailoverLoad {
  readonly history: Operation[] = []
  readonly failedReads: FailedRead[] = []
  readonly readLatenciesMs: number[] = []
  acknowledged = 0
  refused = 0
  /** Why writes were refused (the answers a client saw), in order. */
  readonly refusals: string[] = []
  #stopped = false
  #loops: Promise<void>[] = []
  readonly #t0 = performance.now()

  constructor(readonly key: string, private readonly readers: LoadTarget[], private readonly writer: LoadTarget | undefined, private readonly periodMs = 50) {}

  start(): void {
    this.#loops = [
      ...this.readers.map((target) => this.#readLoop(target)),
      ...(this.writer ? [this.#writeLoop(this.writer)] : []),
    ]
  }

  async stop(): Promise<void> {
    this.#stopped = true
    await Promise.all(this.#loops)
  }

  /** One read recorded like the others (e.g. a final consistent read after the load stopped). */
  async readOnce(target: LoadTarget, query = ''): Promise<string | null> {
    const value = await this.#read(target, `read-${target.name}`, query)
    if (value === undefined) throw new Error(`final read through ${target.name} failed: ${this.failedReads.at(-1)?.error}`)
    return value
  }

  get reads(): number {
    return this.readLatenciesMs.length + this.failedReads.length
  }

  maxReadLatencyMs(): number {
    return Math.round(Math.max(0, ...this.readLatenciesMs))
  }

  async #readLoop(target: LoadTarget): Promise<void> {
    for (let i = 0; i < MAX_OPS_PER_LOOP && !this.#stopped; i++) {
      const started = performance.now()
      await this.#read(target, `reader-${target.name}`)
      await sleep(Math.max(0, this.periodMs - (performance.now() - started)))
    }
  }

  /** Resolves with the value read (null: absent), or undefined when the read failed. */
  async #read(target: LoadTarget, clientId: string, query = ''): Promise<string | null | undefined> {
    const invokeMs = performance.now()
    try {
      const res = await request(`http://${target.httpAddr}/v1/kv/${this.key}?raw${query}`, {signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS)})
      const text = await res.body.text()
      const completeMs = performance.now()
      if (res.statusCode !== 200 && res.statusCode !== 404) {
        this.failedReads.push({via: target.name, atMs: Math.round(invokeMs - this.#t0), error: `${res.statusCode} ${text.trim()}`})
        return undefined
      }
      const value = res.statusCode === 404 ? null : text
      this.readLatenciesMs.push(completeMs - invokeMs)
      this.history.push({op: 'read', clientId, invokeMs, completeMs, input: {key: this.key}, output: {value}})
      return value
    } catch (error) {
      this.failedReads.push({via: target.name, atMs: Math.round(invokeMs - this.#t0), error: (error as Error).message})
      return undefined
    }
  }

  async #writeLoop(target: LoadTarget): Promise<void> {
    for (let i = 0; i < MAX_OPS_PER_LOOP && !this.#stopped; i++) {
      const started = performance.now()
      const value = `w${i}`
      const op: Operation = {op: 'write', clientId: `writer-${target.name}`, invokeMs: started, input: {key: this.key, value}}
      try {
        const res = await request(`http://${target.httpAddr}/v1/kv/${this.key}`, {method: 'PUT', body: value, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS)})
        const text = await res.body.text()
        if (res.statusCode === 200 && text.trim() === 'true') {
          op.completeMs = performance.now()
          op.output = {ok: true}
          this.acknowledged++
        } else {
          this.refused++ // an error answer: the outcome is unknown to the checker (it may have applied)
          this.refusals.push(`${res.statusCode} ${text.trim()}`)
        }
      } catch (error) {
        this.refused++
        this.refusals.push((error as Error).message)
      }
      this.history.push(op)
      await sleep(Math.max(0, this.periodMs - (performance.now() - started)))
    }
  }
}
