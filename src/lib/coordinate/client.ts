// The Vivaldi client (serf's coordinate.Client): this node's coordinate, moved by every RTT
// observation to a peer. Each update runs, in order (serf's Update):
//  1. the latency filter: the median of the last `latencyFilterSize` RTTs to that peer, so one
//     delayed ack (a GC pause, a busy event loop) does not yank the coordinate;
//  2. Vivaldi (Dabek et al. §3): the error estimate blends in this sample's relative error,
//     weighted by how sure we are compared with the peer; the coordinate moves along the line to
//     the peer by cc × weight × (rtt − estimate);
//  3. the adjustment term (Lee et al.): half the mean of the last `adjustmentWindowSize`
//     (rtt − raw distance) samples, for what a Euclidean space cannot express;
//  4. gravity (Ledlie et al.): a small pull toward the origin so the system does not drift.
// A coordinate that ends up NaN or infinite is reset to the origin (serf counts these as resets).
// Pure: no clock; randomness only through the injected Rng.
import type {Rng} from '../rng.js'
import {applyForce, cloneCoordinate, CoordinateError, defaultCoordinateConfig, distanceSeconds, isValidCoordinate, originCoordinate, rawDistance, type Coordinate, type CoordinateConfig} from './coordinate.js'

/** Longest RTT taken as an observation (serf: 10 s); anything longer is a broken clock or a bug. */
export const MAX_RTT_SECONDS = 10

export class VivaldiClient {
  readonly config: Readonly<CoordinateConfig>
  #coord: Coordinate
  readonly #origin: Coordinate
  readonly #adjustmentSamples: number[]
  #adjustmentIndex = 0
  readonly #latencySamples = new Map<string, number[]>()
  readonly #rng: Rng
  /** Times the coordinate went invalid and was reset to the origin. */
  resets = 0

  constructor(rng: Rng, config: CoordinateConfig = defaultCoordinateConfig()) {
    this.config = Object.freeze({...config})
    this.#rng = rng
    this.#coord = originCoordinate(config)
    this.#origin = originCoordinate(config)
    this.#adjustmentSamples = new Array<number>(config.adjustmentWindowSize).fill(0)
  }

  /** A copy of this node's coordinate. */
  get coordinate(): Coordinate {
    return cloneCoordinate(this.#coord)
  }

  /** Replaces this node's coordinate (a restart, a test); throws CoordinateError when unusable. */
  setCoordinate(c: Coordinate): void {
    this.#check(c)
    this.#coord = cloneCoordinate(c)
  }

  /** Drops a peer's latency samples (it left the pool). */
  forgetNode(node: string): void {
    this.#latencySamples.delete(node)
  }

  /** Estimated RTT in seconds from this node to `other`. */
  distanceTo(other: Coordinate): number {
    return distanceSeconds(this.#coord, other)
  }

  /**
   * One observation: `node` at `other` answered in `rttSeconds`. Returns the new coordinate, or
   * throws CoordinateError (nothing changed) for an invalid or incompatible coordinate or an RTT
   * outside [0, 10 s].
   */
  update(node: string, other: Coordinate, rttSeconds: number): Coordinate {
    this.#check(other)
    if (!Number.isFinite(rttSeconds) || rttSeconds < 0 || rttSeconds > MAX_RTT_SECONDS) {
      throw new CoordinateError(`round trip time ${rttSeconds} s is not in [0, ${MAX_RTT_SECONDS}] s`)
    }
    const rtt = this.#latencyFilter(node, rttSeconds)
    this.#updateVivaldi(other, rtt)
    this.#updateAdjustment(other, rtt)
    this.#updateGravity()
    if (!isValidCoordinate(this.#coord)) {
      this.resets++
      this.#coord = originCoordinate(this.config)
    }
    return this.coordinate
  }

  #check(c: Coordinate): void {
    if (!isValidCoordinate(c)) throw new CoordinateError('invalid coordinate: NaN or infinite component')
    if (c.Vec.length !== this.config.dimensionality) throw new CoordinateError(`rejected bad coordinate: ${c.Vec.length} dimensions, expected ${this.config.dimensionality}`)
  }

  #latencyFilter(node: string, rtt: number): number {
    const samples = this.#latencySamples.get(node) ?? []
    samples.push(rtt)
    if (samples.length > this.config.latencyFilterSize) samples.shift()
    this.#latencySamples.set(node, samples)
    const sorted = [...samples].sort((a, b) => a - b)
    return sorted[Math.floor(sorted.length / 2)]
  }

  #updateVivaldi(other: Coordinate, rttIn: number): void {
    const zero = 1e-6
    const rtt = Math.max(rttIn, zero)
    const dist = distanceSeconds(this.#coord, other)
    const wrongness = Math.abs(dist - rtt) / rtt
    const weight = this.#coord.Error / Math.max(this.#coord.Error + other.Error, zero)
    const {vivaldiCE: ce, vivaldiCC: cc, vivaldiErrorMax} = this.config
    const error = Math.min(vivaldiErrorMax, ce * weight * wrongness + this.#coord.Error * (1 - ce * weight))
    const moved = applyForce(this.config, this.#coord, cc * weight * (rtt - dist), other, this.#rng)
    moved.Error = error
    this.#coord = moved
  }

  #updateAdjustment(other: Coordinate, rtt: number): void {
    const size = this.config.adjustmentWindowSize
    if (size === 0) return
    // The raw distance: the current adjustments must not feed back into their own estimate.
    this.#adjustmentSamples[this.#adjustmentIndex] = rtt - rawDistance(this.#coord, other)
    this.#adjustmentIndex = (this.#adjustmentIndex + 1) % size
    let sum = 0
    for (const s of this.#adjustmentSamples) sum += s
    this.#coord.Adjustment = sum / (2 * size)
  }

  #updateGravity(): void {
    const dist = distanceSeconds(this.#origin, this.#coord)
    const force = -1 * (dist / this.config.gravityRho) ** 2
    this.#coord = applyForce(this.config, this.#coord, force, this.#origin, this.#rng)
  }
}
