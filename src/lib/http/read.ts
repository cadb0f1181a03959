// The common shape of a Consul read: check consistency, run (maybe blocking) the query, set the
// X-Consul-* headers. Endpoints pass what to read and what to watch.
import type {AgentDeps, RequestContext} from './context.js'
import {blockingRead, type Watch} from './blocking.js'
import {setQueryMeta} from './respond.js'
import type {ReadMode} from '../consensus.js'
import type {QueryOptions} from './query.js'
import type {Indexed} from '../state/types.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type ReadDeps = AgentDeps<'consensus'>


export async function consistentRead<T>(agent: ReadDeps, ctx: RequestContext, read: () => Indexed<T>, watch: Watch): Promise<Indexed<T> | undefined> {
  const {query} = ctx
  const mode = readMode(query)
  await agent.consensus.readBarrier(mode, query.maxStaleMs)
  // Only a blocking read waits for the client to go away (ctx.closed is made when first asked).
  const result = query.index === 0 ? read() : await blockingRead(read, watch, {minIndex: query.index, waitMs: query.waitMs, closed: ctx.closed})
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
