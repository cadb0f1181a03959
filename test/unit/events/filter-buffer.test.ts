import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {EVENT_BUFFER_SIZE, EventBuffer} from '../../../src/lib/events/event-buffer.js'
import {filterUserEvent} from '../../../src/lib/events/filter.js'
import {eventIndex, newUserEvent, type UserEvent} from '../../../src/lib/events/user-event.js'
import {readEventList} from '../../../src/lib/http/event-endpoint.js'

const uuid = (n: number): string => `00000000-0000-0000-0000-${n.toString(16).padStart(12, '0')}`
const event = (n: number, name = 'e', filters: {nodeFilter?: string; serviceFilter?: string; tagFilter?: string} = {}): UserEvent =>
  ({...newUserEvent({name, ...filters}, uuid(n)), LTime: n})

describe('user event filters, applied by the receiving agent', () => {
  const services = [{ID: 'web-1', Service: 'web', Tags: ['blue', 'v2']}, {ID: 'db', Service: 'db', Tags: []}]
  const cases: Array<[string, Parameters<typeof event>[2], boolean]> = [
    ['no filters', {}, true],
    ['node regex matches (unanchored, as Go MatchString)', {nodeFilter: 'ode-'}, true],
    ['node regex misses', {nodeFilter: '^other$'}, false],
    ['service by name', {serviceFilter: '^web$'}, true],
    ['service by ID', {serviceFilter: '^web-1$'}, true],
    ['service absent here', {serviceFilter: '^cache$'}, false],
    ['service and tag on the same service', {serviceFilter: 'web', tagFilter: '^blue$'}, true],
    ['tag on another service does not count', {serviceFilter: '^db$', tagFilter: 'blue'}, false],
    ['tag missing', {serviceFilter: 'web', tagFilter: '^green$'}, false],
    ['node and service both needed', {nodeFilter: '^node-1$', serviceFilter: 'web'}, true],
    ['a bad regex from a foreign sender is refused', {nodeFilter: '('}, false],
  ]
  for (const [what, filters, accept] of cases) {
    it(`${what} → ${accept ? 'taken' : 'dropped'}`, () => {
      const raw = {...event(1), NodeFilter: filters?.nodeFilter ?? '', ServiceFilter: filters?.serviceFilter ?? '', TagFilter: filters?.tagFilter ?? ''}
      assert.equal(filterUserEvent(raw, 'node-1', services).accept, accept)
    })
  }
  it('a service filter with no local services drops the event', () => {
    assert.equal(filterUserEvent(event(1, 'e', {serviceFilter: '.*'}), 'node-1', []).accept, false)
  })
})

describe('event buffer (the last 256, oldest first)', () => {
  it('keeps insertion order below capacity', () => {
    const b = new EventBuffer()
    for (let i = 1; i <= 3; i++) b.add(event(i))
    assert.deepEqual(b.list().map((e) => e.LTime), [1, 2, 3])
  })

  it('overwrites the oldest past 256 and still lists oldest first', () => {
    const b = new EventBuffer()
    assert.equal(b.capacity, EVENT_BUFFER_SIZE)
    assert.equal(EVENT_BUFFER_SIZE, 256)
    for (let i = 1; i <= 300; i++) b.add(event(i))
    const list = b.list()
    assert.equal(list.length, 256)
    assert.equal(list[0].LTime, 45)
    assert.equal(list[255].LTime, 300)
    assert.ok(list.every((e, i) => i === 0 || e.LTime === list[i - 1].LTime + 1))
  })

  it('wakes each listener once on the next add; cancel stops it', () => {
    const b = new EventBuffer(4)
    let a = 0
    let c = 0
    b.onChange(() => a++)
    const cancel = b.onChange(() => c++)
    cancel()
    b.add(event(1))
    b.add(event(2))
    assert.equal(a, 1)
    assert.equal(c, 0)
  })

  it('rejects a nonsensical capacity', () => {
    assert.throws(() => new EventBuffer(0), RangeError)
  })
})

describe('event list index (blocking by equality, Consul event_endpoint.go)', () => {
  it('is 1 with no events, else the hash of the newest listed event\'s ID', () => {
    assert.deepEqual(readEventList([], ''), {events: [], index: '1'})
    const list = [event(1, 'a'), event(2, 'b'), event(3, 'a')]
    assert.equal(readEventList(list, '').index, eventIndex(uuid(3)))
    const b = readEventList(list, 'b')
    assert.deepEqual(b.events.map((e) => e.LTime), [2])
    assert.equal(b.index, eventIndex(uuid(2)))
    assert.equal(readEventList(list, 'none').index, '1')
  })
})
