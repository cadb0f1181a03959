// A Vivaldi network coordinate (serf's `coordinate` package, Consul's `Coord` JSON): a point in an
// 8-dimensional Euclidean space plus a non-Euclidean height (the access link), an error estimate
// and an adjustment term. Units are seconds, as in Consul's API: the estimated RTT between two
// nodes is |a.vec - b.vec| + a.height + b.height (+ both adjustments when that stays positive).
// Pure: randomness (the direction to push two coincident points apart) is an injected Rng.
import {CoordError} from '../errors.js'
import type {Rng} from '../rng.js'

/** Tuning of the Vivaldi client; the defaults are serf's DefaultConfig (coordinate/config.go). */
export interface CoordinateConfig {
  /** Euclidean dimensions. More improve estimates up to about 7-8 ("Network Coordinates in the Wild"). */
  dimensionality: number
  /** Error of a coordinate with no observations yet, and the cap on error afterwards. */
  vivaldiErrorMax: number
  /** Most an observation may move the error estimate (Vivaldi's ce). */
  vivaldiCE: number
  /** Most an observation may move the coordinate (Vivaldi's cc). */
  vivaldiCC: number
  /** Samples of (rtt - distance) averaged into the adjustment term; 0 disables it. */
  adjustmentWindowSize: number
  /** Floor of the height (seconds): it must stay positive, so it adds this much error. */
  heightMin: number
  /** RTT samples per peer whose median is used: one slow ping must not yank the coordinate. */
  latencyFilterSize: number
  /** Gravity toward the origin (seconds): larger means weaker; stops the whole system drifting. */
  gravityRho: number
}

export function defaultCoordinateConfig(): CoordinateConfig {
  return {dimensionality: 8, vivaldiErrorMax: 1.5, vivaldiCE: 0.25, vivaldiCC: 0.25, adjustmentWindowSize: 20, heightMin: 10e-6, latencyFilterSize: 3, gravityRho: 150}
}

/** Consul's JSON shape, field for field: `{"Vec":[...],"Error":1.5,"Adjustment":0,"Height":1e-5}`. */
export interface Coordinate {
  Vec: number[]
  Error: number
  Adjustment: number
  Height: number
}

/** Two points closer than this (seconds) are "on top of each other". */
const ZERO_THRESHOLD = 1e-6

export class CoordinateError extends CoordError {
  constructor(message: string) {
    super('COORDINATE_INVALID', message, {httpStatus: 400})
    this.name = 'CoordinateError'
  }
}

export function originCoordinate(config: CoordinateConfig): Coordinate {
  return {Vec: new Array<number>(config.dimensionality).fill(0), Error: config.vivaldiErrorMax, Adjustment: 0, Height: config.heightMin}
}

export function cloneCoordinate(c: Coordinate): Coordinate {
  return {Vec: [...c.Vec], Error: c.Error, Adjustment: c.Adjustment, Height: c.Height}
}

/** False when any component is NaN or ±Infinity (serf's IsValid): such a coordinate poisons every distance. */
export function isValidCoordinate(c: Coordinate): boolean {
  return c.Vec.every(Number.isFinite) && Number.isFinite(c.Error) && Number.isFinite(c.Adjustment) && Number.isFinite(c.Height)
}

export function isCompatible(a: Coordinate, b: Coordinate): boolean {
  return a.Vec.length === b.Vec.length
}

/**
 * Checks untrusted JSON (an HTTP body, a gossip payload) and returns it as a Coordinate, or throws
 * CoordinateError naming what is wrong. `dimensionality`, when given, must match.
 */
export function parseCoordinate(raw: unknown, dimensionality?: number): Coordinate {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new CoordinateError('coordinate must be an object with Vec, Error, Adjustment and Height')
  const o = raw as Record<string, unknown>
  if (!Array.isArray(o.Vec) || !o.Vec.every((x) => typeof x === 'number')) throw new CoordinateError('coordinate Vec must be an array of numbers')
  for (const field of ['Error', 'Adjustment', 'Height'] as const) {
    if (typeof o[field] !== 'number') throw new CoordinateError(`coordinate ${field} must be a number`)
  }
  const c: Coordinate = {Vec: [...(o.Vec as number[])], Error: o.Error as number, Adjustment: o.Adjustment as number, Height: o.Height as number}
  if (!isValidCoordinate(c)) throw new CoordinateError('invalid coordinate: NaN or infinite component')
  if (dimensionality !== undefined && c.Vec.length !== dimensionality) throw new CoordinateError(`rejected bad coordinate: ${c.Vec.length} dimensions, expected ${dimensionality}`)
  return c
}

function magnitude(v: readonly number[]): number {
  let sum = 0
  for (const x of v) sum += x * x
  return Math.sqrt(sum)
}

/** Vivaldi distance in seconds, adjustments left out. */
export function rawDistance(a: Coordinate, b: Coordinate): number {
  let sum = 0
  for (let i = 0; i < a.Vec.length; i++) sum += (a.Vec[i] - b.Vec[i]) ** 2
  return Math.sqrt(sum) + a.Height + b.Height
}

/**
 * Estimated RTT in seconds. The adjustments are added only while the total stays positive (a
 * negative RTT means nothing). Throws CoordinateError on different dimensionalities.
 */
export function distanceSeconds(a: Coordinate, b: Coordinate): number {
  if (!isCompatible(a, b)) throw new CoordinateError(`coordinate dimensionality does not match (${a.Vec.length} vs ${b.Vec.length})`)
  const dist = rawDistance(a, b)
  const adjusted = dist + a.Adjustment + b.Adjustment
  return adjusted > 0 ? adjusted : dist
}

/**
 * Unit vector pointing from `to` toward `from` (the way `from` is pushed away), and the distance
 * between them. Coincident points get a random direction so they can separate.
 */
function unitVectorAway(from: readonly number[], to: readonly number[], rng: Rng): {unit: number[]; mag: number} {
  const d = from.map((x, i) => x - to[i])
  const mag = magnitude(d)
  if (mag > ZERO_THRESHOLD) return {unit: d.map((x) => x / mag), mag}
  const r = d.map(() => rng.next() - 0.5)
  const rmag = magnitude(r)
  if (rmag > ZERO_THRESHOLD) return {unit: r.map((x) => x / rmag), mag: 0}
  const unit = new Array<number>(from.length).fill(0)
  unit[0] = 1
  return {unit, mag: 0}
}

/**
 * `c` moved by `force` seconds along the line from `other` (positive pushes away, negative pulls
 * closer). The height moves in proportion, so an access link absorbs its share, never below heightMin.
 */
export function applyForce(config: CoordinateConfig, c: Coordinate, force: number, other: Coordinate, rng: Rng): Coordinate {
  const {unit, mag} = unitVectorAway(c.Vec, other.Vec, rng)
  const out = cloneCoordinate(c)
  out.Vec = c.Vec.map((x, i) => x + unit[i] * force)
  if (mag > ZERO_THRESHOLD) out.Height = Math.max(config.heightMin, out.Height + force * (out.Height + other.Height) / mag)
  return out
}
