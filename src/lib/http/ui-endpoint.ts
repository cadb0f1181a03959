// /v1/internal/ui/*: the summaries the web UI lists, in one blocking read each (Consul's UI reads
// the same paths). A service list with health needs every instance and every check at once; the
// public endpoints give one service per request, which does not scale to a thousand services.
// Both block on the whole catalog (nodes, services, checks): any change there can move a count.
import type {AgentContext, RequestContext, Route} from './context.js'
import {consistentRead} from './read.js'
import {sendBody, toJson} from './respond.js'
import {AnswerCache} from './answer-cache.js'
import {sortNear, nearCacheKey, watchTables} from './catalog-query.js'
import {renderCheck, renderNodeService} from './catalog-render.js'
import type {HealthStatus, NodeCheck} from '../state/types.js'

const RANK: Record<HealthStatus, number> = {passing: 0, warning: 1, critical: 2}

/** The worst status among checks, 'passing' when there are none (Consul's aggregated health). */
export function worstStatus(checks: ReadonlyArray<{status: HealthStatus}>): HealthStatus {
  let worst: HealthStatus = 'passing'
  for (const c of checks) if (RANK[c.status] > RANK[worst]) worst = c.status
  return worst
}

export function uiRoutes(agent: AgentContext): Route[] {
  const cache = new AnswerCache()
  return [
    {path: '/v1/internal/ui/services', exact: true, methods: {GET: (ctx) => serviceSummaries(agent, ctx, cache)}},
    {path: '/v1/internal/ui/nodes', exact: true, methods: {GET: (ctx) => nodeSummaries(agent, ctx, cache)}},
  ]
}

function catalogIndex(agent: AgentContext): number {
  return agent.state.catalogIndex('nodes', 'services', 'checks')
}

/**
 * One row per service name, as Consul's ServiceSummary (Name, Tags, Nodes, InstanceCount and
 * ChecksPassing/Warning/Critical counting checks), plus coord's InstancesPassing/Warning/Critical:
 * instances by their aggregated health (node checks and their own), which is what a reader wants.
 */
async function serviceSummaries(agent: AgentContext, ctx: RequestContext, cache: AnswerCache): Promise<void> {
  const result = await consistentRead(agent, ctx, () => {
    const index = catalogIndex(agent)
    return {index, value: cache.get(JSON.stringify(['services', ctx.query.pretty]), index, () => {
      const catalog = agent.state.catalog
      type Summary = {Name: string; Datacenter: string; Kind: string; Tags: Set<string>; Nodes: Set<string>; InstanceCount: number
        ChecksPassing: number; ChecksWarning: number; ChecksCritical: number; InstancesPassing: number; InstancesWarning: number; InstancesCritical: number}
      const byName = new Map<string, Summary>()
      const checksByNode = new Map<string, NodeCheck[]>()
      for (const check of catalog.allChecks()) {
        const list = checksByNode.get(check.node) ?? []
        list.push(check)
        checksByNode.set(check.node, list)
      }
      for (const service of catalog.allServices()) {
        let s = byName.get(service.service)
        if (!s) {
          s = {Name: service.service, Datacenter: agent.config.datacenter, Kind: service.kind, Tags: new Set(), Nodes: new Set(), InstanceCount: 0,
            ChecksPassing: 0, ChecksWarning: 0, ChecksCritical: 0, InstancesPassing: 0, InstancesWarning: 0, InstancesCritical: 0}
          byName.set(service.service, s)
        }
        for (const tag of service.tags) s.Tags.add(tag)
        s.Nodes.add(service.node)
        s.InstanceCount++
        const checks = (checksByNode.get(service.node) ?? []).filter((c) => c.serviceId === '' || c.serviceId === service.id)
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
      return toJson(rows, ctx.query.pretty)
    })}
  }, watchTables(agent, 'nodes', 'services', 'checks'))
  if (result) sendBody(ctx.req, ctx.res, 200, result.value, 'application/json')
}

/** Every node with its services and checks (Consul's NodeDump shape); ?near sorts by RTT from that node. */
async function nodeSummaries(agent: AgentContext, ctx: RequestContext, cache: AnswerCache): Promise<void> {
  const result = await consistentRead(agent, ctx, () => {
    const index = catalogIndex(agent)
    // With ?near the order also depends on the coordinates, which move without the catalog index.
    return {index, value: cache.get(JSON.stringify(['nodes', nearCacheKey(agent, ctx), ctx.query.pretty]), index, () => {
      const catalog = agent.state.catalog
      const rows = catalog.nodes().map((node) => ({
        ID: node.id, Node: node.node, Address: node.address, Datacenter: agent.config.datacenter,
        TaggedAddresses: node.taggedAddresses, Meta: node.meta,
        Services: catalog.nodeServices(node.node).map(renderNodeService),
        Checks: catalog.checks(node.node).map(renderCheck),
        CreateIndex: node.createIndex, ModifyIndex: node.modifyIndex,
      }))
      return toJson(sortNear(agent, ctx, rows, (r) => r.Node), ctx.query.pretty)
    })}
  }, watchTables(agent, 'nodes', 'services', 'checks'))
  if (result) sendBody(ctx.req, ctx.res, 200, result.value, 'application/json')
}
