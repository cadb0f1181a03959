// The agent's periodic send of its LAN coordinate to the servers (Consul's agent sendCoordinate):
// every max(interval_min, members / rate_target) seconds plus a random stagger of up to as much
// again, so a large pool stays near `sync_coordinate_rate_target` updates a second in total and
// agents started together do not send in step. A server hands the update to its own batcher; a
// client agent sends PUT /v1/coordinate/update to its server, as its other writes go.
import type {Coordinate} from '../coordinate/coordinate.js'
import type {CoordinateSettings} from './config.js'
import type {Logger} from '../logger.js'

export interface CoordinateSyncOptions {
  settings: CoordinateSettings
  nodeName: string
  /** LAN pool size (alive members, us included): the interval scales with it. */
  members: () => number
  coordinate: () => Coordinate
  submit: (update: {Node: string; Segment: string; Coord: Coordinate}) => Promise<void>
  log: Logger
}

/** Consul's lib.RateScaledInterval: n members at `rate` updates/s in total, never below `minMs`. */
export function rateScaledIntervalMs(rate: number, minMs: number, n: number): number {
  return Math.max(minMs, (n / rate) * 1000)
}

export class CoordinateSync {
  readonly #o: CoordinateSyncOptions
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor(options: CoordinateSyncOptions) {
    this.#o = options
    this.#schedule()
  }

  #schedule(): void {
    if (this.#stopped) return
    const interval = rateScaledIntervalMs(this.#o.settings.syncRateTarget, this.#o.settings.syncIntervalMinMs, this.#o.members())
    this.#timer = setTimeout(() => void this.#send().finally(() => this.#schedule()), interval + Math.random() * interval)
    this.#timer.unref()
  }

  async #send(): Promise<void> {
    try {
      await this.#o.submit({Node: this.#o.nodeName, Segment: '', Coord: this.#o.coordinate()})
    } catch (error) {
      this.#o.log.error('Coordinate update error', {error: (error as Error).message})
    }
  }

  stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
  }
}
