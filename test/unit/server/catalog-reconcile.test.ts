// The leader's gossip → catalog mirror: what it writes for each member state (and what it leaves
// alone), and that the driver coalesces events, skips no-op writes and retries a failed write a
// bounded number of times.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {StateMachine} from '../../../src/lib/state/state-machine.js'
import {CatalogReconciler, planMember, type GossipMember} from '../../../src/lib/server/catalog-reconcile.js'
import type {Command} from '../../../src/lib/state/types.js'
import {LogHub} from '../../../src/lib/logger.js'

const member = (name: string, state: GossipMember['state'], extra: Record<string, string> = {}): GossipMember => ({
  name, address: '10.0.0.9', state, tags: {dc: 'dc1', role: 'node', id: '11111111-2222-3333-4444-555555555555', ...extra},
})

class Log {
  readonly sm = new StateMachine()
  index = 0
  apply(cmd: Command): void {
    this.sm.apply(++this.index, cmd)
  }
}

describe('planMember', () => {
  it('registers an alive member with serfHealth passing, once', () => {
    const log = new Log()
    const cmd = planMember(log.sm, 'a', member('a', 'alive'), 'dc1', 'self', 1)
    assert.equal(cmd?.type, 'catalog-register')
    log.apply(cmd!)
    const check = log.sm.catalog.check('a', 'serfHealth')!
    assert.equal(check.status, 'passing')
    assert.equal(check.output, 'Agent alive and reachable')
    assert.deepEqual(log.sm.catalog.node('a')!.taggedAddresses.lan, '10.0.0.9')
    assert.equal(planMember(log.sm, 'a', member('a', 'alive'), 'dc1', 'self', 2), undefined, 'nothing to do the second time')
    assert.equal(planMember(log.sm, 'a', member('a', 'suspect'), 'dc1', 'self', 2), undefined, 'suspect is still alive')
  })

  it('marks a failed member critical and deregisters one that left or was reaped', () => {
    const log = new Log()
    log.apply(planMember(log.sm, 'a', member('a', 'alive'), 'dc1', 'self', 1)!)
    log.apply(planMember(log.sm, 'a', member('a', 'failed'), 'dc1', 'self', 2)!)
    assert.equal(log.sm.catalog.check('a', 'serfHealth')!.output, 'Agent not live or unreachable')
    assert.equal(log.sm.catalog.check('a', 'serfHealth')!.status, 'critical')
    assert.deepEqual(planMember(log.sm, 'a', member('a', 'left'), 'dc1', 'self', 3), {type: 'catalog-deregister', now: 3, request: {Node: 'a'}})
    assert.equal(planMember(log.sm, 'a', undefined, 'dc1', 'self', 3)?.type, 'catalog-deregister')
  })

  it('leaves other datacenters, itself and catalog-only nodes alone', () => {
    const log = new Log()
    assert.equal(planMember(log.sm, 'b', {...member('b', 'alive'), tags: {dc: 'dc2'}}, 'dc1', 'self', 1), undefined)
    log.apply({type: 'catalog-register', now: 1, request: {Node: 'external', Address: '1.1.1.1'}})
    assert.equal(planMember(log.sm, 'external', undefined, 'dc1', 'self', 2), undefined, 'no serfHealth: not a gossip node')
    log.apply(planMember(log.sm, 'self', member('self', 'alive'), 'dc1', 'self', 3)!)
    assert.equal(planMember(log.sm, 'self', undefined, 'dc1', 'self', 4), undefined)
  })

  it('registers the consul service for an alive server', () => {
    const log = new Log()
    log.apply(planMember(log.sm, 's', member('s', 'alive', {role: 'consul', port: '8300', build: '0.1.0:coord'}), 'dc1', 'self', 1)!)
    const svc = log.sm.catalog.service('s', 'consul')!
    assert.equal(svc.port, 8300)
    assert.equal(svc.meta.version, '0.1.0')
  })
})

describe('CatalogReconciler', () => {
  it('coalesces events, skips no-ops and bounds retries', async () => {
    const log = new Log()
    const members = new Map<string, GossipMember>([['a', member('a', 'alive')], ['b', member('b', 'alive')]])
    let listener: (name: string) => void = () => {}
    let failures = 0
    const proposed: Command[] = []
    const reconciler = new CatalogReconciler({
      state: log.sm, datacenter: 'dc1', selfName: 'self', now: () => 1, isLeader: () => true,
      log: new LogHub('error', () => {}, false).logger('test'), retries: 3, retryDelayMs: 1,
      propose: async (cmd) => {
        if (failures > 0) {
          failures--
          throw new Error('no leader')
        }
        proposed.push(cmd)
        log.apply(cmd)
      },
    })
    reconciler.attach({members: () => [...members.values()], onChange: (cb) => { listener = cb; return () => {} }})
    reconciler.setLeader(true)
    await reconciler.idle()
    assert.equal(proposed.length, 2)
    // A burst of events for one member: one write once it settles.
    members.set('a', member('a', 'failed'))
    for (let i = 0; i < 5; i++) listener('a')
    listener('b')
    await reconciler.idle()
    assert.equal(proposed.length, 3)
    // Two failures, then success: retried within the bound.
    failures = 2
    members.set('a', member('a', 'alive'))
    listener('a')
    await reconciler.idle()
    assert.equal(log.sm.catalog.check('a', 'serfHealth')!.status, 'passing')
    // More failures than retries: gives up (the periodic full pass tries again later).
    failures = 10
    members.delete('b')
    listener('b')
    await reconciler.idle()
    assert.ok(log.sm.catalog.node('b'), 'still there after the bounded retries')
    assert.equal(failures, 7)
    reconciler.stop()
  })
})
