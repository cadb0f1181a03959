// The common shape of a Consul read: check consistency, run (maybe blocking) the query, set the
// X-Consul-* headers. Endpoints pass what to read and what to watch.
import type {AgentDeps, RequestContext} from './context.js'
import {blockingDeadline, blockingRead, readOrPark, type Watch} from './blocking.js'
import {metrics} from '../metrics/metrics.js'
import {setQueryMeta} from './respond.js'
import type {ReadMode} from '../consensus.js'
import type {QueryOptions} from './query.js'
import type {Indexed} from '../state/types.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type ReadDeps = AgentDeps<'consensus'>


export async function consistentRead<T>(agent: ReadDeps, ctx: RequestContext, read: () => Indexed<T>, watch: Watch): Promise<Indexed<T> | undefined> {
  const {query, parking} = ctx
  const mode = readMode(query)
  // A parked read run again passed the barrier on its first run (as a Consul blocking query
  // passes it once, before its loop).
  if (parking?.resumed === undefined) await agent.consensus.readBarrier(mode, query.maxStaleMs)
  let result: Indexed<T> | undefined
  if (query.index === 0) {
    result = read()
  } else if (parking) {
    // A request that can be run again parks without its handler (blocking.ts ParkedRequest).
    let record = parking.resumed
    if (record === undefined) {
      metrics.incrCounter(['rpc', 'query'])
      record = parking.park(query.index, blockingDeadline(query.waitMs))
    }
    result = readOrPark(read, watch, record)
  } else {
    result = await blockingRead(read, watch, {minIndex: query.index, waitMs: query.waitMs, closed: ctx.closed})
  }
  if (!result) return undefined
  setQueryMeta(ctx.res, {
    index: result.index,
    knownLeader: agent.consensus.knownLeader(),
    lastContactMs: agent.consensus.lastContactMs(),
    consistency: mode,
  })
  return result
}

export function readMode(query: QueryOptions): ReadMode {
  return query.stale ? 'stale' : query.consistent ? 'consistent' : 'leader'
}
