// Exact JSON request decoding: integer literals beyond 2^53 (Consul's uint64 Flags/Index) arrive as
// bigint, everything else as JSON.parse gives it, and bad JSON still answers 400 with JSON.parse's reason.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {field, parseJsonBodyExact, uint64Field} from '../../../src/lib/http/decode.js'
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

  it('parses a body without a 16-digit run as JSON.parse does (the pre-pass skipped), also at the edge of 2^53', () => {
    const text = '[{"KV":{"Verb":"set","Key":"k/0000001","Value":"dnZ2","Flags":900719925474099,"Index":-42}},{"n":1.5e3,"s":"12345"}]'
    assert.deepEqual(parse(text), JSON.parse(text))
    // 16 digits: the largest safe integer stays a number, the next ones become bigints.
    assert.deepEqual(parse('[9007199254740991,9007199254740992,-9007199254740993]'), [9007199254740991, 9007199254740992n, -9007199254740993n])
    assert.throws(() => parse('[{"a":1,}]'), (error: unknown) => error instanceof HttpError && error.status === 400 && /^Failed to parse body: /.test(error.message))
  })

  it('rejects what JSON.parse rejects, with its message about the client text', () => {
    for (const bad of ['{"a":012345678901234567890}', '{"a":123456789012345678901,}', '{"a":"open 123456789012345678901}']) {
      assert.throws(() => parse(bad), (error: unknown) => error instanceof HttpError && error.status === 400 && /^Failed to parse body: /.test(error.message), bad)
    }
    assert.throws(() => parse('{"a":123456789012345678901,}'), /position 27/)
  })
})

describe('field', () => {
  it('matches names case-insensitively and without underscores, never a shorter or different key', () => {
    assert.equal(field({LockDelay: 1}, 'LockDelay'), 1)
    assert.equal(field({lock_delay: 2}, 'LockDelay'), 2)
    assert.equal(field({LOCKDELAY: 3}, 'LockDelay'), 3)
    assert.equal(field({Lock: 4, Delay: 5, LockDelays: 6}, 'LockDelay'), undefined)
    assert.equal(field({KV: {}}, 'Node'), undefined)
    assert.equal(field({kv: 7}, 'KV'), 7)
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
