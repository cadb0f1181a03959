// The per-service answer cache: same key and index → the cached body without rendering; a new
// index re-renders; the LRU keeps at most maxEntries.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {AnswerCache} from '../../../src/lib/http/answer-cache.js'
import {LARGE_BODY_BYTES} from '../../../src/lib/http/respond.js'

describe('AnswerCache', () => {
  it('renders once per (key, index) and bounds its size', () => {
    const cache = new AnswerCache(2)
    let renders = 0
    const render = (body: string) => () => { renders++; return body }
    assert.equal(cache.get('a', 1, render('a1')), 'a1')
    assert.equal(cache.get('a', 1, render('x')), 'a1')
    assert.equal(renders, 1)
    assert.equal(cache.get('a', 2, render('a2')), 'a2', 'a new index re-renders')
    assert.equal(renders, 2)
    cache.get('b', 1, render('b1'))
    cache.get('a', 2, render('x'))
    cache.get('c', 1, render('c1'))
    assert.equal(cache.size, 2)
    assert.equal(cache.get('a', 2, render('again')), 'a2', 'recently used entries survive')
    assert.equal(cache.get('b', 1, render('b1-again')), 'b1-again', 'the least recently used entry was dropped')
  })

  it('bounds the bytes it keeps', () => {
    const cache = new AnswerCache(10, 10)
    cache.get('a', 1, () => '123456')
    cache.get('b', 1, () => '123456')
    assert.equal(cache.size, 1, 'the older entry made room')
    cache.get('huge', 1, () => 'x'.repeat(11))
    assert.equal(cache.size, 1, 'a body larger than the bound is not kept')
  })

  it('keeps a large body as one Buffer handed out to every reader until the index moves', () => {
    const cache = new AnswerCache()
    const large = 'x'.repeat(LARGE_BODY_BYTES)
    const first = cache.get('big', 1, () => large)
    assert.ok(Buffer.isBuffer(first))
    assert.equal(first.toString(), large)
    assert.equal(cache.get('big', 1, () => 'not rendered'), first, 'the same Buffer, not a new encoding')
    assert.notEqual(cache.get('big', 2, () => large), first, 'a new index renders again')
    assert.equal(typeof cache.get('small', 1, () => '{}'), 'string')
  })
})
