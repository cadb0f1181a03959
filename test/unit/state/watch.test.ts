import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {WatchHub, type ChangeSet, type WatchTable} from '../../../src/lib/state/watch.js'

const keys = (...k: string[]): ChangeSet => ({keys: new Set(k), tables: new Set()})
const tables = (...t: WatchTable[]): ChangeSet => ({keys: new Set(), tables: new Set(t)})

describe('WatchHub', () => {
  const cases: Array<{name: string; watch: (hub: WatchHub, cb: () => void) => void; change: ChangeSet; fires: boolean}> = [
    {name: 'key watcher fires for its key', watch: (h, cb) => h.watchKey('a/b', cb), change: keys('a/b'), fires: true},
    {name: 'key watcher ignores a key it is a prefix of', watch: (h, cb) => h.watchKey('a/b', cb), change: keys('a/bc'), fires: false},
    {name: 'key watcher ignores its own prefix', watch: (h, cb) => h.watchKey('a/b', cb), change: keys('a/'), fires: false},
    {name: 'prefix watcher fires for a key under it', watch: (h, cb) => h.watchPrefix('a/', cb), change: keys('a/b/c'), fires: true},
    {name: 'prefix watcher fires for the prefix key itself', watch: (h, cb) => h.watchPrefix('a/', cb), change: keys('a/'), fires: true},
    {name: 'prefix watcher ignores a sibling', watch: (h, cb) => h.watchPrefix('a/', cb), change: keys('ab'), fires: false},
    {name: 'prefix watcher ignores a shorter key', watch: (h, cb) => h.watchPrefix('a/b', cb), change: keys('a/'), fires: false},
    {name: 'empty prefix watches the whole KV', watch: (h, cb) => h.watchPrefix('', cb), change: keys('zzz'), fires: true},
    {name: 'table watcher fires for its table', watch: (h, cb) => h.watchTable('sessions', cb), change: tables('sessions'), fires: true},
    {name: 'table watcher ignores other tables', watch: (h, cb) => h.watchTable('sessions', cb), change: tables('nodes', 'checks'), fires: false},
    {name: 'table watcher ignores KV keys', watch: (h, cb) => h.watchTable('sessions', cb), change: keys('sessions'), fires: false},
  ]
  for (const c of cases) {
    it(c.name, () => {
      const hub = new WatchHub()
      let fired = 0
      c.watch(hub, () => fired++)
      hub.notify(c.change)
      assert.equal(fired, c.fires ? 1 : 0)
      assert.equal(hub.size, c.fires ? 0 : 1)
    })
  }

  it('a watcher fires once and is then gone', () => {
    const hub = new WatchHub()
    let fired = 0
    hub.watchKey('k', () => fired++)
    hub.notify(keys('k'))
    hub.notify(keys('k'))
    assert.equal(fired, 1)
    assert.equal(hub.size, 0)
  })

  it('a watcher on key and prefix of the same change fires both once', () => {
    const hub = new WatchHub()
    const seen: string[] = []
    hub.watchKey('a/1', () => seen.push('key'))
    hub.watchPrefix('a/', () => seen.push('prefix'))
    hub.notify(keys('a/1', 'a/2'))
    assert.deepEqual(seen.sort(), ['key', 'prefix'])
  })

  it('cancel removes a parked watcher and a late cancel is harmless', () => {
    const hub = new WatchHub()
    let fired = 0
    const cancel = hub.watchPrefix('p', () => fired++)
    const other = hub.watchPrefix('p', () => fired++)
    cancel()
    cancel()
    assert.equal(hub.size, 1)
    hub.notify(keys('p1'))
    other()
    assert.equal(fired, 1)
    assert.equal(hub.size, 0)
  })

  it('a throwing callback does not stop the others and is reported', () => {
    const errors: unknown[] = []
    const hub = new WatchHub((err) => errors.push(err))
    let fired = 0
    hub.watchKey('k', () => {
      throw new Error('boom')
    })
    hub.watchKey('k', () => fired++)
    hub.watchPrefix('', () => fired++)
    hub.notify(keys('k'))
    assert.equal(fired, 2)
    assert.equal(errors.length, 1)
  })

  it('a callback that parks again is not fired by the same change', () => {
    const hub = new WatchHub()
    let fired = 0
    const park = (): void => {
      fired++
      hub.watchKey('k', park)
    }
    hub.watchKey('k', park)
    hub.notify(keys('k'))
    assert.equal(fired, 1)
    assert.equal(hub.size, 1)
  })

  it('notifyAll fires every parked watcher', () => {
    const hub = new WatchHub()
    let fired = 0
    hub.watchKey('a', () => fired++)
    hub.watchPrefix('b', () => fired++)
    hub.watchTable('nodes', () => fired++)
    hub.notifyAll()
    assert.equal(fired, 3)
    assert.equal(hub.size, 0)
  })

  it('10,000 parked watchers: a change fires only the matching ones', () => {
    const hub = new WatchHub()
    const fired = new Set<number>()
    for (let i = 0; i < 5000; i++) hub.watchKey(`svc/${i}/leader`, () => fired.add(i))
    for (let i = 0; i < 5000; i++) hub.watchPrefix(`jobs/${i}/`, () => fired.add(10_000 + i))
    assert.equal(hub.size, 10_000)
    hub.notify(keys('svc/42/leader', 'jobs/7/x/y', 'jobs/70'))
    assert.deepEqual([...fired].sort((a, b) => a - b), [42, 10_007])
    assert.equal(hub.size, 9998)
  })

  it('firing cost does not grow with the number of parked watchers', () => {
    // 20,000 watchers on distinct prefixes of one length, plus one key watcher per round:
    // 2,000 notifications must stay far below a scan of every watcher per change.
    const hub = new WatchHub()
    for (let i = 0; i < 20_000; i++) hub.watchPrefix(`p/${String(i).padStart(6, '0')}`, () => {})
    const started = process.hrtime.bigint()
    for (let round = 0; round < 2000; round++) {
      hub.watchKey(`k/${round}`, () => {})
      hub.notify(keys(`k/${round}`, `q/${round}/long-enough-key`))
    }
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6
    assert.equal(hub.size, 20_000)
    // A linear scan would do 2,000 × 20,000 = 40M checks; the indexed lookup does a few thousand.
    assert.ok(elapsedMs < 500, `2,000 notifications took ${elapsedMs} ms`)
  })
})
