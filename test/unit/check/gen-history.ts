// Linearizable histories by construction, for the randomized and performance tests. Clients issue
// operations one after another; each operation takes effect at a random point inside its
// interval on a simulated sequential register per key, and its output is what that register
// answered. Some operations lose their answer (unknown outcome); those took effect at a random
// later point, possibly after the client gave up, or never. Values are unique, as history.ts asks.

import type {Operation, ReadOp, Value} from '../../../src/lib/check/history.js'
import {writtenValue} from '../../../src/lib/check/history.js'

/** mulberry32: small, seedable, good enough to spread test inputs. */
export class Rng {
  private state: number
  constructor(seed: number) { this.state = seed >>> 0 }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  int(below: number): number { return Math.floor(this.next() * below) }
  pick<T>(items: readonly T[]): T { return items[this.int(items.length)] }
}

export interface GenOptions {
  seed: number
  ops: number
  keys: number
  clients: number
  /** Each operation takes 1..maxLatencyMs. Default 20. */
  maxLatencyMs?: number
  /** Pause between a client's operations, 0..maxThinkMs. Default 5. */
  maxThinkMs?: number
  /** Share of operations whose answer is lost. Default 0.05. */
  unknownRate?: number
}

interface Planned {
  op: Operation
  unknown: boolean
  /** When it takes effect on the simulated register; undefined: never. */
  effectMs?: number
}

export function generateHistory(options: GenOptions): Operation[] {
  const rng = new Rng(options.seed)
  const maxLatency = options.maxLatencyMs ?? 20
  const maxThink = options.maxThinkMs ?? 5
  const unknownRate = options.unknownRate ?? 0.05
  const clock = new Array<number>(options.clients).fill(0)
  const planned: Planned[] = []
  for (let n = 0; n < options.ops; n++) {
    const clientId = rng.int(options.clients)
    const invokeMs = clock[clientId] + rng.int(maxThink + 1)
    const latency = 1 + rng.int(maxLatency)
    const completeMs = invokeMs + latency
    clock[clientId] = completeMs
    const key = `key-${rng.int(options.keys)}`
    const roll = rng.next()
    const kind = roll < 0.45 ? 'read' : roll < 0.75 ? 'write' : roll < 0.95 ? 'cas' : 'delete'
    const op = {clientId, op: kind, input: {key}, invokeMs, completeMs} as Operation
    // A lost answer: the operation took effect at some point after it was sent, maybe after the
    // client gave up, or never.
    if (rng.next() < unknownRate) planned.push({op, unknown: true, effectMs: rng.next() < 0.5 ? undefined : invokeMs + rng.next() * latency * 3})
    else planned.push({op, unknown: false, effectMs: invokeMs + rng.next() * latency})
  }
  simulate(planned, rng)
  return planned.map((p) => p.op).sort((x, y) => x.invokeMs - y.invokeMs)
}

/** Runs the register in effect order and fills in inputs and outputs. */
function simulate(planned: Planned[], rng: Rng): void {
  const state = new Map<string, Value | null>()
  const seen = new Map<string, (Value | null)[]>()
  let counter = 0
  const inEffectOrder = [...planned].sort((x, y) => (x.effectMs ?? Infinity) - (y.effectMs ?? Infinity))
  for (const p of inEffectOrder) {
    const op = p.op
    const key = op.input.key
    const current = state.get(key) ?? null
    const history = seen.get(key) ?? [null]
    seen.set(key, history)
    const applies = p.effectMs !== undefined
    switch (op.op) {
      case 'read':
        op.output = {value: current}
        break
      case 'write':
        op.input.value = `${key}:${counter++}`
        if (applies) state.set(key, op.input.value)
        op.output = {ok: true}
        break
      case 'delete':
        if (applies) state.set(key, null)
        op.output = {ok: true}
        break
      case 'cas': {
        op.input.from = rng.next() < 0.6 ? current : rng.pick(history)
        op.input.to = `${key}:${counter++}`
        const ok = op.input.from === current
        if (applies && ok) state.set(key, op.input.to)
        op.output = {ok}
        break
      }
    }
    const written = writtenValue(op)
    if (applies && written !== undefined) history.push(state.get(key) ?? null)
    if (p.unknown) {
      delete op.output
      delete op.completeMs
    }
  }
}

/**
 * Makes one read return a value that an acknowledged write had replaced before the read began:
 * a stale read, which no linearization allows (values are unique, so nothing restores it).
 * Returns undefined if the history offers no such read.
 */
export function injectStaleRead(history: readonly Operation[], rng: Rng): {history: Operation[]; read: ReadOp} | undefined {
  const reads = history.filter((op): op is ReadOp => op.op === 'read' && op.output !== undefined)
  const start = rng.int(Math.max(1, reads.length))
  for (let n = 0; n < reads.length; n++) {
    const read = reads[(start + n) % reads.length]
    const sameKey = history.filter((op) => op.input.key === read.input.key && op.output !== undefined)
    const stale = sameKey.find((writer) => writer.op === 'write' && writer.input.value !== read.output?.value &&
      sameKey.some((later) => writtenValue(later) !== undefined && writtenValue(later) !== writer.input.value &&
        later.invokeMs > (writer.completeMs as number) && (later.completeMs as number) < read.invokeMs))
    if (stale === undefined || stale.op !== 'write') continue
    const injected: ReadOp = {...read, output: {value: stale.input.value}}
    return {history: history.map((op) => op === read ? injected : op), read: injected}
  }
  return undefined
}

/** Makes one read return a value nobody wrote. */
export function injectPhantomRead(history: readonly Operation[], rng: Rng): {history: Operation[]; read: ReadOp} {
  const reads = history.filter((op): op is ReadOp => op.op === 'read' && op.output !== undefined)
  const read = rng.pick(reads)
  const injected: ReadOp = {...read, output: {value: 'phantom'}}
  return {history: history.map((op) => op === read ? injected : op), read: injected}
}
