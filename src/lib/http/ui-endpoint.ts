// /v1/internal/ui/*: the summaries the web UI lists, in one blocking read each (Consul's UI reads
// the same paths). A service list with health needs every instance and every check at once; the
// public endpoints give one service per request, which does not scale to a thousand services.
// Both block on the whole catalog (nodes, services, checks): any change there can move a count.
//
// With ACLs on, each answer holds only what the caller's token may read, as the public endpoints
// they mirror filter (Consul's Internal.ServiceDump / NodeDump filters): an instance needs node:read
// on its node and service:read on its service, a node check node:read, a service check service:read
// too; the locks view needs session:read on a session's node and key:read on a key. Such answers
// are built per request (the shared answer cache is for ACLs off) and carry
// X-Consul-Results-Filtered-By-ACLs when something was left out.
import type {AgentDeps, RequestContext, Route} from './context.js'
import {consistentRead} from './read.js'
import {sendBody, sendText, toJson} from './respond.js'
import {AnswerCache} from './answer-cache.js'
import {sortNear, nearCacheKey, requireName, watchTables} from './catalog-query.js'
import {renderCheck, renderNodeService} from './catalog-render.js'
import {renderSession} from './render.js'
import {LOCK_FLAG_VALUE} from '../api/lock.js'
import {SEMAPHORE_FLAG_VALUE, SEMAPHORE_KEY} from '../api/semaphore.js'
import type {CatalogNode, CatalogService, HealthStatus, KVEntry, NodeCheck} from '../state/types.js'
import type {Authorizer} from '../acl/authorizer.js'
import {FILTERED_BY_ACLS} from './acl-authorize.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type UiDeps = AgentDeps<'config' | 'consensus' | 'state'>

/** What one read may show, and whether it left something out (the header). */
interface View {
  readonly authz: Authorizer
  filtered: boolean
}

/** The caller's view, resolved inside the read (a blocking read re-resolves on each wake); undefined with ACLs off. */
function viewOf(agent: UiDeps, ctx: RequestContext): View | undefined {
  return agent.config.acl.enabled ? {authz: ctx.authorize().authorizer, filtered: false} : undefined
}

function keep(view: View | undefined, allowed: (authz: Authorizer) => boolean): boolean {
  if (!view) return true
  const ok = allowed(view.authz)
  if (!ok) view.filtered = true
  return ok
}

const instanceReadable = (view: View | undefined, s: Pick<CatalogService, 'node' | 'service'>) =>
  keep(view, (a) => a.allowed('node', s.node, 'read') && a.allowed('service', s.service, 'read'))
const checkReadable = (view: View | undefined, c: NodeCheck) =>
  keep(view, (a) => a.allowed('node', c.node, 'read') && (c.serviceId === '' || a.allowed('service', c.serviceName, 'read')))

/** Runs `build` through the shared cache with ACLs off, afresh (and filtered) with them on. */
function answer(agent: UiDeps, ctx: RequestContext, cache: AnswerCache, key: unknown[], index: number, build: (view: View | undefined) => unknown): string | Buffer {
  const view = viewOf(agent, ctx)
  if (!view) return cache.get(JSON.stringify(key), index, () => toJson(build(undefined), ctx.query.pretty))
  const body = toJson(build(view), ctx.query.pretty)
  if (view.filtered) ctx.res.setHeader(FILTERED_BY_ACLS, 'true')
  return body
}


const RANK: Record<HealthStatus, number> = {passing: 0, warning: 1, critical: 2}

/** The worst status among checks, 'passing' when there are none (Consul's aggregated health). */
export function worstStatus(checks: ReadonlyArray<{status: HealthStatus}>): HealthStatus {
  let worst: HealthStatus = 'passing'
  for (const c of checks) if (RANK[c.status] > RANK[worst]) worst = c.status
  return worst
}

export function uiRoutes(agent: UiDeps): Route[] {
  const cache = new AnswerCache()
  return [
    {path: '/v1/internal/ui/services', exact: true, methods: {GET: (ctx) => serviceSummaries(agent, ctx, cache)}},
    {path: '/v1/internal/ui/nodes', exact: true, methods: {GET: (ctx) => nodeSummaries(agent, ctx, cache)}},
    {path: '/v1/internal/ui/node/', methods: {GET: (ctx) => nodeSummary(agent, ctx)}},
    {path: '/v1/internal/ui/locks', exact: true, methods: {GET: (ctx) => lockSummary(agent, ctx, cache)}},
  ]
}

function catalogIndex(agent: UiDeps): number {
  return agent.state.catalogIndex('nodes', 'services', 'checks')
}

/**
 * One row per service name, as Consul's ServiceSummary (Name, Tags, Nodes, InstanceCount and
 * ChecksPassing/Warning/Critical counting checks), plus coord's InstancesPassing/Warning/Critical:
 * instances by their aggregated health (node checks and their own), which is what a reader wants.
 */
async function serviceSummaries(agent: UiDeps, ctx: RequestContext, cache: AnswerCache): Promise<void> {
  const result = await consistentRead(agent, ctx, () => {
    const index = catalogIndex(agent)
    return {index, value: answer(agent, ctx, cache, ['services', ctx.query.pretty], index, (view) => {
      const catalog = agent.state.catalog
      type Summary = {Name: string; Datacenter: string; Kind: string; Tags: Set<string>; Nodes: Set<string>; InstanceCount: number
        ChecksPassing: number; ChecksWarning: number; ChecksCritical: number; InstancesPassing: number; InstancesWarning: number; InstancesCritical: number}
      const byName = new Map<string, Summary>()
      // Checks by (node, service ID), '' for node checks: one pass, whatever the catalog's shape.
      const checksOf = new Map<string, NodeCheck[]>()
      for (const check of catalog.allChecks()) {
        if (!checkReadable(view, check)) continue
        const key = `${check.node}\0${check.serviceId}`
        const list = checksOf.get(key) ?? []
        list.push(check)
        checksOf.set(key, list)
      }
      for (const service of catalog.allServices()) {
        if (!instanceReadable(view, service)) continue
        let s = byName.get(service.service)
        if (!s) {
          s = {Name: service.service, Datacenter: agent.config.datacenter, Kind: service.kind, Tags: new Set(), Nodes: new Set(), InstanceCount: 0,
            ChecksPassing: 0, ChecksWarning: 0, ChecksCritical: 0, InstancesPassing: 0, InstancesWarning: 0, InstancesCritical: 0}
          byName.set(service.service, s)
        }
        for (const tag of service.tags) s.Tags.add(tag)
        s.Nodes.add(service.node)
        s.InstanceCount++
        const checks = [...(checksOf.get(`${service.node}\0`) ?? []), ...(checksOf.get(`${service.node}\0${service.id}`) ?? [])]
        for (const c of checks) {
          if (c.status === 'passing') s.ChecksPassing++
          else if (c.status === 'warning') s.ChecksWarning++
          else s.ChecksCritical++
        }
        const health = worstStatus(checks)
        if (health === 'passing') s.InstancesPassing++
        else if (health === 'warning') s.InstancesWarning++
        else s.InstancesCritical++
      }
      const rows = [...byName.values()].sort((a, b) => (a.Name < b.Name ? -1 : a.Name > b.Name ? 1 : 0))
        .map((s) => ({...s, Tags: [...s.Tags].sort(), Nodes: [...s.Nodes].sort()}))
      return rows
    })}
  }, watchTables(agent, 'nodes', 'services', 'checks'))
  if (result) sendBody(ctx.req, ctx.res, 200, result.value, 'application/json')
}

/** One node with its services and checks (Consul's NodeDump entry). */
function nodeRow(agent: UiDeps, node: CatalogNode, view: View | undefined) {
  const catalog = agent.state.catalog
  return {
    ID: node.id, Node: node.node, Address: node.address, Datacenter: agent.config.datacenter,
    TaggedAddresses: node.taggedAddresses, Meta: node.meta,
    Services: catalog.nodeServices(node.node).filter((s) => instanceReadable(view, s)).map(renderNodeService),
    Checks: catalog.checks(node.node).filter((c) => checkReadable(view, c)).map(renderCheck),
    CreateIndex: node.createIndex, ModifyIndex: node.modifyIndex,
  }
}

/** One node's summary, blocking on the catalog; a 404 (with the index, so it can block) when absent. */
async function nodeSummary(agent: UiDeps, ctx: RequestContext): Promise<void> {
  const name = requireName(ctx, 'node')
  const result = await consistentRead(agent, ctx, () => {
    const view = viewOf(agent, ctx)
    // A node the token may not read is not found, as Consul's filtered NodeInfo.
    const node = [agent.state.catalog.node(name)].find((n) => n !== undefined && keep(view, (a) => a.allowed('node', n.node, 'read')))
    return {index: catalogIndex(agent), value: node ? toJson(nodeRow(agent, node, view), ctx.query.pretty) : undefined}
  }, watchTables(agent, 'nodes', 'services', 'checks'))
  if (!result) return
  if (result.value === undefined) sendText(ctx.req, ctx.res, 404, `Node not found: ${name}`)
  else sendBody(ctx.req, ctx.res, 200, result.value, 'application/json')
}

/** Every node with its services and checks (Consul's NodeDump shape); ?near sorts by RTT from that node. */
async function nodeSummaries(agent: UiDeps, ctx: RequestContext, cache: AnswerCache): Promise<void> {
  const result = await consistentRead(agent, ctx, () => {
    const index = catalogIndex(agent)
    // With ?near the order also depends on the coordinates, which move without the catalog index.
    return {index, value: answer(agent, ctx, cache, ['nodes', nearCacheKey(agent, ctx), ctx.query.pretty], index, (view) => {
      const rows = agent.state.catalog.nodes().filter((node) => keep(view, (a) => a.allowed('node', node.node, 'read'))).map((node) => nodeRow(agent, node, view))
      return sortNear(agent, ctx, rows, (r) => r.Node)
    })}
  }, watchTables(agent, 'nodes', 'services', 'checks'))
  if (result) sendBody(ctx.req, ctx.res, 200, result.value, 'application/json')
}

function keyKind(entry: KVEntry): 'lock' | 'semaphore' | 'key' {
  if (entry.flags === LOCK_FLAG_VALUE) return 'lock'
  if (entry.flags === SEMAPHORE_FLAG_VALUE) return 'semaphore'
  return 'key'
}

/** A semaphore's holder document ({"Limit":N,"Holders":{...}}), or the reason it cannot be read. */
export function parseSemaphoreDoc(value: Uint8Array): {Limit: number; Holders: string[]} | {Error: string} {
  try {
    const doc = JSON.parse(new TextDecoder('utf-8', {fatal: true}).decode(value)) as {Limit?: unknown; Holders?: unknown}
    const holders = doc.Holders !== null && typeof doc.Holders === 'object' ? Object.keys(doc.Holders as object).filter((k) => (doc.Holders as Record<string, unknown>)[k] === true).sort() : []
    return {Limit: typeof doc.Limit === 'number' ? doc.Limit : 0, Holders: holders}
  } catch (error) {
    return {Error: `not a semaphore document: ${(error as Error).message}`}
  }
}

/**
 * Who holds what: every session with the keys it holds, every key a session holds (marked `lock`
 * when it carries Consul's api.LockFlagValue, as `coord lock` writes it), and every semaphore (a
 * `<prefix>/.lock` document with api.SemaphoreFlagValue) with its limit, holders and contenders.
 * One pass over the KV table per change, cached by index.
 */
async function lockSummary(agent: UiDeps, ctx: RequestContext, cache: AnswerCache): Promise<void> {
  const result = await consistentRead(agent, ctx, () => {
    const sessions = agent.state.sessionList()
    const kv = agent.state.kvList('')
    const index = Math.max(sessions.index, kv.index)
    return {index, value: answer(agent, ctx, cache, ['locks', ctx.query.pretty], index, (view) => {
      const heldBy = new Map<string, string[]>()
      const held: Array<Record<string, unknown>> = []
      const semaphores: Array<Record<string, unknown>> = []
      const contenders = new Map<string, string[]>()
      for (const entry of kv.value) {
        if (!keep(view, (a) => a.allowed('key', entry.key, 'read'))) continue
        const kind = keyKind(entry)
        if (entry.session !== '') {
          held.push({Key: entry.key, Session: entry.session, Kind: kind, LockIndex: entry.lockIndex, ModifyIndex: entry.modifyIndex})
          const list = heldBy.get(entry.session) ?? []
          list.push(entry.key)
          heldBy.set(entry.session, list)
        }
        if (kind !== 'semaphore') continue
        const slash = entry.key.lastIndexOf('/')
        const prefix = entry.key.slice(0, slash + 1)
        if (entry.key.slice(slash + 1) === SEMAPHORE_KEY) {
          semaphores.push({Prefix: prefix, Key: entry.key, ...parseSemaphoreDoc(entry.value), ModifyIndex: entry.modifyIndex})
        } else {
          const list = contenders.get(prefix) ?? []
          list.push(entry.key.slice(slash + 1))
          contenders.set(prefix, list)
        }
      }
      for (const semaphore of semaphores) semaphore.Contenders = contenders.get(semaphore.Prefix as string) ?? []
      return {
        Sessions: sessions.value.filter((s) => keep(view, (a) => a.allowed('session', s.node, 'read'))).map((s) => ({...renderSession(s), HeldKeys: heldBy.get(s.id) ?? []})),
        Held: held,
        Semaphores: semaphores,
      }
    })}
  }, (wake) => {
    const cancels = [agent.state.watches.watchTable('sessions', wake), agent.state.watches.watchPrefix('', wake)]
    return () => { for (const cancel of cancels) cancel() }
  })
  if (result) sendBody(ctx.req, ctx.res, 200, result.value, 'application/json')
}
