// Queries (serf's Query, used by Consul for keyring fan-out): a question spread through the pool
// like any broadcast, answered by every member straight to the origin's address, collected by the
// origin until every member live at send time has answered or the deadline passes.
//  - the origin delivers its own query to itself too (serf does), so its own answer counts;
//  - (origin, id) deduplicates: a member hands a query to its driver once, however often it hears it;
//  - answers from members not expected (joined meanwhile) are kept; duplicates (relays) are not;
//  - with a relay factor, an answer also goes through that many random members, which forward it.
// Pure, like the rest of the core: time is s.nowMs, randomness s.rng, output s.packets/queries.
import type {GossipState} from './core-state.js'
import type {GossipConfig} from './config.js'
import type {PendingQuery, Query, QueryRelay, QueryResponse, ReceivedQuery} from './types.js'


/** Seen (origin, id) pairs kept for deduplication; older ones are forgotten first. */
const SEEN_QUERIES_MAX = 4096
/**
 * coord's addition: in a pool this small the origin also sends the query to every live member
 * directly, so answers take one round trip instead of waiting for gossip rounds (a WAN gossip
 * interval is 500 ms). Larger pools rely on dissemination alone, as serf does.
 */
const DIRECT_SEND_MAX_MEMBERS = 32
/** serf's maximum relay factor. */
export const MAX_RELAY_FACTOR = 5

/** serf's DefaultQueryTimeout: gossip interval × 16 × ceil(log10(N + 1)). */
export function defaultQueryTimeoutMs(cfg: Pick<GossipConfig, 'gossipIntervalMs'>, members: number): number {
  return cfg.gossipIntervalMs * 16 * Math.max(1, Math.ceil(Math.log10(members + 1)))
}

/** Send a query to every member (us included); returns its id. Its outcome arrives as a QueryResult. */
export function startQuery(s: GossipState, name: string, payload: Uint8Array, timeoutMs: number, relayFactor: number): number {
  let id = Math.floor(s.rng.next() * 2 ** 32)
  while (s.pendingQueries.has(id)) id = (id + 1) % 2 ** 32
  const expected = new Set<string>()
  for (const m of s.members.values()) if (m.state === 'alive' || m.state === 'suspect') expected.add(m.name)
  s.pendingQueries.set(id, {id, name, deadlineMs: s.nowMs + timeoutMs, expected, responses: new Map()})
  const q: Query = {type: 'query', id, origin: s.name, address: s.self.address, port: s.self.port, name, payload, timeoutMs, relayFactor: Math.min(MAX_RELAY_FACTOR, Math.max(0, relayFactor))}
  handleQuery(s, q)
  if (expected.size <= DIRECT_SEND_MAX_MEMBERS) {
    for (const name of expected) {
      const m = s.members.get(name)
      if (m && name !== s.name) s.send(m, name, [q])
    }
  }
  return id
}

/** A query heard (or started) here: deliver it once and pass it on. */
export function handleQuery(s: GossipState, q: Query): void {
  const key = `${q.origin}:${q.id}`
  if (s.seenQueries.has(key)) return
  s.seenQueries.add(key)
  if (s.seenQueries.size > SEEN_QUERIES_MAX) s.seenQueries.delete(s.seenQueries.values().next().value as string)
  s.broadcast(`query:${key}`, q)
  s.queries.push({id: q.id, origin: q.origin, originAddress: {address: q.address, port: q.port}, name: q.name, payload: q.payload, deadlineMs: s.nowMs + q.timeoutMs, relayFactor: q.relayFactor})
}

/** Our answer to a delivered query: straight to the origin (plus relays); dropped past its deadline. */
export function respondToQuery(s: GossipState, q: ReceivedQuery, payload: Uint8Array): void {
  if (s.nowMs > q.deadlineMs) return
  const response: QueryResponse = {type: 'queryResponse', id: q.id, from: s.name, payload}
  if (q.origin === s.name) {
    handleQueryResponse(s, response)
    return
  }
  s.send(q.originAddress, q.origin, [response])
  if (q.relayFactor <= 0) return
  const relays = s.randomPeers(q.relayFactor, (m) => m.state === 'alive' && m.name !== q.origin)
  for (const relay of relays) s.send(relay, relay.name, [{type: 'queryRelay', address: q.originAddress.address, port: q.originAddress.port, response}])
}

/** An answer to one of our queries; completes the query once every expected member has answered. */
export function handleQueryResponse(s: GossipState, r: QueryResponse): void {
  const pending = s.pendingQueries.get(r.id)
  if (!pending || pending.responses.has(r.from)) return
  pending.responses.set(r.from, r.payload)
  for (const name of pending.expected) if (!pending.responses.has(name)) return
  finishQuery(s, pending, true)
}

/** Someone asked us to carry its answer to the origin. */
export function handleQueryRelay(s: GossipState, r: QueryRelay): void {
  s.send({address: r.address, port: r.port}, null, [r.response])
}

/** Close every query of ours whose deadline has passed. */
export function expireQueries(s: GossipState): void {
  for (const pending of [...s.pendingQueries.values()]) if (s.nowMs >= pending.deadlineMs) finishQuery(s, pending, false)
}

function finishQuery(s: GossipState, pending: PendingQuery, complete: boolean): void {
  s.pendingQueries.delete(pending.id)
  s.queryResults.push({
    id: pending.id, name: pending.name, complete,
    responses: [...pending.responses].map(([from, payload]) => ({from, payload})),
    expected: [...pending.expected],
  })
}
