// Round-trip estimates from Vivaldi coordinates, as Consul's lib.ComputeDistance (serf's
// Coordinate.DistanceTo): Euclidean distance plus both heights, plus both adjustments when that
// stays positive. Seconds in, seconds out.
export interface Coord {
  Vec: number[]
  Error: number
  Adjustment: number
  Height: number
}

export function isCoord(value: unknown): value is Coord {
  const c = value as Coord | null
  return c !== null && typeof c === 'object' && Array.isArray(c.Vec) && typeof c.Height === 'number' && typeof c.Adjustment === 'number'
}

export function rttSeconds(a: Coord, b: Coord): number | undefined {
  if (a.Vec.length !== b.Vec.length) return undefined
  let sum = 0
  for (let i = 0; i < a.Vec.length; i++) sum += (a.Vec[i] - b.Vec[i]) ** 2
  const plain = Math.sqrt(sum) + a.Height + b.Height
  const adjusted = plain + a.Adjustment + b.Adjustment
  return adjusted > 0 ? adjusted : plain
}

export function formatRtt(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '—'
  const ms = seconds * 1000
  return ms < 10 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`
}
