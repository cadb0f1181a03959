// Exact JSON request decoding: integer literals beyond 2^53 (Consul's uint64 Flags/Index) arrive as
// bigint, everything else as JSON.parse gives it, and bad JSON still answers 400 with JSON.parse's reason.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {parseJsonBodyExact, uint64Field} from '../../../src/lib/http/decode.js'
import {HttpError} from '../../../src/lib/errors.js'

const parse = (text: string): unknown => parseJsonBodyExact(Buffer.from(text))

describe('parseJsonBodyExact', () => {
  it('keeps integers above 2^53 exact as bigint, and small ones as numbers', () => {
    assert.deepEqual(parse('{"Flags":18446744073709551615,"a":9007199254740993,"b":9007199254740991,"c":-9007199254740993,"d":0}'), {
      Flags: 18446744073709551615n, a: 9007199254740993n, b: 9007199254740991, c: -9007199254740993n, d: 0,
    })
  })

  it('leaves digits inside strings, fractions and exponents alone', () => {
    assert.deepEqual(parse('[{"Key":"x 18446744073709551615 \\" 99999999999999999999","f":1.5e300,"g":12345678901234567890.5}]'), [
      {Key: 'x 18446744073709551615 " 99999999999999999999', f: 1.5e300, g: Number("12345678901234567890.5")},
    ])
  })

  it('does not take a client string for its internal tag', () => {
    assert.deepEqual(parse('{"s":"\\u0000123:456","n":123456789012345678901}'), {s: '\u0000123:456', n: 123456789012345678901n})
  })

  it('rejects what JSON.parse rejects, with its message about the client text', () => {
    for (const bad of ['{"a":012345678901234567890}', '{"a":123456789012345678901,}', '{"a":"open 123456789012345678901}']) {
      assert.throws(() => parse(bad), (error: unknown) => error instanceof HttpError && error.status === 400 && /^Failed to parse body: /.test(error.message), bad)
    }
    assert.throws(() => parse('{"a":123456789012345678901,}'), /position 27/)
  })
})

describe('uint64Field', () => {
  it('accepts 0..2^64-1 exactly and rejects the rest with a one-line reason', () => {
    assert.equal(uint64Field({Flags: 18446744073709551615n}, 'Flags'), 18446744073709551615n)
    assert.equal(uint64Field({flags: 42}, 'Flags'), 42n)
    assert.equal(uint64Field({}, 'Flags'), 0n)
    for (const bad of [18446744073709551616n, -1n, -1, 1.5, '7', 1e300]) {
      assert.throws(() => uint64Field({Flags: bad}, 'Flags', 'Operation 3'), (error: Error) => error.message === 'Operation 3: Flags must be an unsigned 64-bit integer', String(bad))
    }
  })
})
