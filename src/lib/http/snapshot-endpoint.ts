// /v1/snapshot (Consul docs: api-docs/operator, api-docs/snapshot): GET streams a point-in-time archive of the whole state (Consul's
// layout, lib/snapshot/archive.ts); PUT verifies an archive and restores it as Consul does
// (agent/consul/snapshot_endpoint.go → raft.Restore): the leader installs its state as a Raft
// snapshot at a fresh index and followers receive it by InstallSnapshot (server/raft-driver.ts restore).
import type {AgentDeps, RequestContext, Route} from './context.js'
import {badRequest} from '../errors.js'
import {readMode} from './read.js'
import {sendText, setQueryMeta} from './respond.js'
import {archiveStream, openArchive, SNAPSHOT_MAX_BYTES, SnapshotArchiveError, type StreamedArchive} from '../snapshot/archive.js'
import {HandedBytes} from '../handed-bytes.js'
import {pipeline} from 'node:stream/promises'
import {setImmediate} from 'node:timers/promises'

/** What this endpoint family uses of the agent, and nothing more. */
export type SnapshotDeps = AgentDeps<'consensus' | 'log' | 'nodeId' | 'now' | 'registerSelf' | 'state'>


export function snapshotRoutes(agent: SnapshotDeps): Route[] {
  return [{path: '/v1/snapshot', exact: true, methods: {GET: (ctx) => saveSnapshot(agent, ctx), PUT: (ctx) => restoreSnapshot(agent, ctx)}}]
}

async function saveSnapshot(agent: SnapshotDeps, ctx: RequestContext): Promise<void> {
  const {query, res} = ctx
  // ?stale lets any server answer (Consul's AllowStale); otherwise only the leader may.
  const mode = readMode(query)
  await agent.consensus.readBarrier(mode, query.maxStaleMs)
  // The chunks describe the instant they were taken (a copy-on-write view): lastIndex with them.
  const chunks = agent.state.snapshotChunks()
  const index = agent.state.lastIndex
  const configuration = agent.consensus.configuration()
  const self = configuration.servers.find((s) => s.id === agent.nodeId)
  const term = self?.lastTerm || Number(agent.consensus.stats().last_log_term) || 0
  // The size first (tar writes it before the bytes), then the chunks encoded as the archive is read.
  const size = await runYielding(chunks.sizeSteps())
  const archive = archiveStream({chunks, size}, {
    index, term, nowMs: agent.now(),
    servers: configuration.servers.filter((s) => s.voter).map((s) => ({id: s.id, address: s.address})),
    configurationIndex: configuration.index,
  })
  setQueryMeta(res, {index, knownLeader: agent.consensus.knownLeader(), lastContactMs: agent.consensus.lastContactMs(), consistency: mode})
  // What Go's content sniffing answers for Consul's gzip stream. Already compressed: never re-gzip.
  // Streamed as it is compressed (no Content-Length), as Consul streams its snapshot.
  res.statusCode = 200
  res.setHeader('Content-Type', 'application/x-gzip')
  await pipeline(archive, res)
}

/** Runs `steps` to its result, letting the event loop run between steps. */
async function runYielding<T>(steps: Generator<void, T>): Promise<T> {
  for (;;) {
    const step = steps.next()
    if (step.done) return step.value
    await setImmediate()
  }
}

async function restoreSnapshot(agent: SnapshotDeps, ctx: RequestContext): Promise<void> {
  const body = await ctx.body(SNAPSHOT_MAX_BYTES, (n) => `Snapshot too large: ${n} bytes, max size: ${SNAPSHOT_MAX_BYTES} bytes.`)
  let archive: StreamedArchive | undefined
  try {
    archive = await openArchive(body)
  } catch (error) {
    if (error instanceof SnapshotArchiveError) throw badRequest(error.message)
    throw error
  }
  // state.bin is inflated as the leader decodes it (only the compressed archive is held), so the
  // old state, the new one and the whole state.bin are never in memory at once. Its reader ends
  // only once SHA256SUMS verified it, and nothing is installed before it ends; a damaged archive
  // found out then is refused as one found out before (400).
  const state = new HandedBytes(archive.state, archive.size)
  const minIndex = Math.max(0, Math.floor(archive.meta.Index))
  archive = undefined
  // The state is decoded once, on the leader, when the restore's index is known: a state.bin that
  // is not a coord state snapshot is refused there (400). The leader then runs its leadership set-up
  // again on the new state (session TTL timers from their full window, servers in the catalog), as
  // Consul's Snapshot.Restore revokes and re-establishes leadership.
  let index: number
  try {
    index = await agent.consensus.restore(state, minIndex)
  } finally {
    state.drop(new Error('the restore ended without reading the archive\'s state'))
  }
  // This node back in a catalog that may lack it.
  try {
    await agent.registerSelf()
  } catch (error) {
    agent.log.warn('failed to re-register this node after a snapshot restore', {error})
  }
  agent.log.named('snapshot').info('restored snapshot', {index, bytes: state.length})
  sendText(ctx.req, ctx.res, 200, '')
}
