// A coordinate as bytes, for the gossip ack payload (serf sends its coordinate in memberlist's ack
// payload): the Vec components, then Error, Adjustment, Height, each a little-endian float64.
// 88 bytes for 8 dimensions, well inside a datagram. Decoding checks everything (the bytes come
// from the network) and throws CoordinateError.
import {CoordinateError, parseCoordinate, type Coordinate} from './coordinate.js'

export function encodeCoordinate(c: Coordinate): Uint8Array {
  const values = [...c.Vec, c.Error, c.Adjustment, c.Height]
  const out = new Uint8Array(values.length * 8)
  const view = new DataView(out.buffer)
  values.forEach((v, i) => view.setFloat64(i * 8, v, true))
  return out
}

export function decodeCoordinate(bytes: Uint8Array, dimensionality: number): Coordinate {
  if (bytes.length !== (dimensionality + 3) * 8) throw new CoordinateError(`coordinate payload of ${bytes.length} bytes, expected ${(dimensionality + 3) * 8}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const values = Array.from({length: dimensionality + 3}, (_, i) => view.getFloat64(i * 8, true))
  return parseCoordinate({Vec: values.slice(0, dimensionality), Error: values[dimensionality], Adjustment: values[dimensionality + 1], Height: values[dimensionality + 2]}, dimensionality)
}
