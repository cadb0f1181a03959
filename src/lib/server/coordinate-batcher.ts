// A server's coordinate updates (Consul's Coordinate.Update endpoint and batchUpdate loop): agents
// send their LAN coordinate every 15 s or more; writing each into Raft would cost one log entry per
// agent per interval. Instead a server keeps the latest update per (node, segment) and, every
// `updatePeriodMs`, proposes them in entries of at most `batchSize`, at most `maxBatches` entries a
// period: anything past batchSize × maxBatches is dropped with a warning (the agents send again).
// Updates for nodes not in the catalog are dropped when applied (state/coordinates.ts).
import {CoordinateError, parseCoordinate, type Coordinate} from '../coordinate/coordinate.js'
import type {Logger} from '../logger.js'
import type {Command} from '../state/types.js'

export interface CoordinateUpdate {
  node: string
  segment: string
  coord: Coordinate
}

export interface CoordinateBatcherOptions {
  periodMs: number
  batchSize: number
  maxBatches: number
  /** Dimensions every coordinate must have (this server's own). */
  dimensionality: number
  propose: (command: Command) => Promise<unknown>
  now: () => number
  log: Logger
}

export class CoordinateBatcher {
  readonly #o: CoordinateBatcherOptions
  #pending = new Map<string, CoordinateUpdate>()
  readonly #timer: NodeJS.Timeout
  #flushing = false

  constructor(options: CoordinateBatcherOptions) {
    this.#o = options
    this.#timer = setInterval(() => void this.flush(), options.periodMs)
    this.#timer.unref()
  }

  /**
   * Validates and queues one update (a later one for the same node and segment replaces it).
   * Throws CoordinateError (HTTP 400) for a missing node name or an unusable coordinate.
   */
  enqueue(raw: {Node?: unknown; Segment?: unknown; Coord?: unknown}): void {
    if (typeof raw.Node !== 'string' || raw.Node === '') throw new CoordinateError('missing node name')
    if (raw.Segment !== undefined && typeof raw.Segment !== 'string') throw new CoordinateError('Segment must be a string')
    const coord = parseCoordinate(raw.Coord, this.#o.dimensionality)
    const segment = (raw.Segment as string | undefined) ?? ''
    this.#pending.set(`${raw.Node}\u0000${segment}`, {node: raw.Node, segment, coord})
  }

  /** Proposes what is pending (the timer calls it; tests and stop may too). One flush at a time. */
  async flush(): Promise<void> {
    if (this.#flushing || this.#pending.size === 0) return
    this.#flushing = true
    const updates = [...this.#pending.values()]
    this.#pending = new Map()
    try {
      const limit = this.#o.batchSize * this.#o.maxBatches
      if (updates.length > limit) this.#o.log.warn('Discarded coordinate updates', {number_discarded: updates.length - limit})
      for (let start = 0; start < Math.min(updates.length, limit); start += this.#o.batchSize) {
        const batch = updates.slice(start, Math.min(start + this.#o.batchSize, limit))
        await this.#o.propose({type: 'coordinate-batch-update', now: this.#o.now(), updates: batch})
      }
    } catch (error) {
      // No leader, a lost election: these updates are gone; the agents send fresh ones soon.
      this.#o.log.warn('Failed to apply coordinate updates', {error: (error as Error).message})
    } finally {
      this.#flushing = false
    }
  }

  stop(): void {
    clearInterval(this.#timer)
  }
}
