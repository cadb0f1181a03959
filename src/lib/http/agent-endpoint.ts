// /v1/agent/self and /v1/agent/members (SPEC-http §5): what this agent is and whom it knows.
import type {AgentContext, Route} from './context.js'
import {sendJson, sendText} from './respond.js'
import {HttpError, badRequest} from './errors.js'
import {flag} from './query.js'
import {availableParallelism} from 'node:os'

export function agentStats(agent: AgentContext): Record<string, Record<string, string>> {
  const {config, consensus} = agent
  const members = agent.members()
  const memory = process.memoryUsage()
  const sections: Record<string, Record<string, string>> = {
    agent: {
      checks: String(agent.local.state.checks().length), services: String(agent.local.state.services().length),
      check_monitors: '0', check_ttls: String(agent.local.state.checks().filter((c) => c.def.TTL !== '').length),
    },
    build: {version: agent.version, revision: '', prerelease: ''},
    consul: {
      server: String(config.server), leader: String(consensus.isLeader()), leader_addr: consensus.leaderAddress(),
      bootstrap: String(config.bootstrap), known_datacenters: '1', known_servers: String(consensus.peers().length),
    },
    runtime: {
      os: process.platform, arch: process.arch, version: process.version, cpu_count: String(availableParallelism()),
      max_procs: String(availableParallelism()), goroutines: '0', heap_used: String(memory.heapUsed), rss: String(memory.rss),
    },
    serf_lan: {
      members: String(members.length), failed: String(members.filter((m) => m.Status === 4).length),
      left: String(members.filter((m) => m.Status === 3).length), encrypted: 'false', health_score: '0',
      member_time: '1', event_time: '1', query_time: '1', intent_queue: '0', event_queue: '0', query_queue: '0',
    },
  }
  if (config.server) {
    sections.raft = consensus.stats()
    sections.serf_wan = {...sections.serf_lan}
  }
  return sections
}

export function agentRoutes(agent: AgentContext): Route[] {
  return [
    {path: '/v1/agent/self', exact: true, methods: {GET: (ctx) => {
      const {config} = agent
      const self = agent.members().find((m) => m.Name === config.nodeName)
      sendJson(ctx.req, ctx.res, {
        Config: {
          Datacenter: config.datacenter, PrimaryDatacenter: config.datacenter, NodeName: config.nodeName, NodeID: agent.nodeId,
          Revision: '', Server: config.server, Version: agent.version, BuildDate: '',
        },
        DebugConfig: {
          DevMode: config.dev, DataDir: config.dataDir, ClientAddrs: config.clientAddrs, BindAddr: config.bindAddr,
          AdvertiseAddrLAN: config.advertiseAddr, HTTPPort: config.ports.http, ServerPort: config.ports.server,
          SessionTTLMin: `${config.sessionTtlMinMs}ms`, KVMaxValueSize: config.kvMaxValueSize, TxnMaxReqLen: config.txnMaxReqLen,
          LogLevel: config.logLevel.toUpperCase(), UIConfig: {Enabled: config.ui},
        },
        Coord: {Vec: [0, 0, 0, 0, 0, 0, 0, 0], Error: 1.5, Adjustment: 0, Height: 1e-5},
        Member: self,
        Stats: agentStats(agent),
        Meta: {},
      }, ctx.query.pretty)
    }}},
    {path: '/v1/agent/members', exact: true, methods: {GET: (ctx) => {
      // No WAN pool yet: servers answer ?wan with the LAN pool's servers, named <node>.<dc> as
      // Consul names WAN members, at the serf WAN port.
      const wan = flag(ctx.params, 'wan')
      const members = wan
        ? agent.members().filter((m) => m.Tags.role === 'consul')
          .map((m) => ({...m, Name: `${m.Name}.${m.Tags.dc ?? agent.config.datacenter}`, Port: Number(m.Tags.wan_join_port ?? agent.config.ports.serfWan)}))
        : agent.members()
      sendJson(ctx.req, ctx.res, wan && !agent.config.server ? [] : members, ctx.query.pretty)
    }}},
    {path: '/v1/agent/join/', methods: {PUT: async (ctx) => {
      if (flag(ctx.params, 'wan')) throw badRequest('coord: joining the WAN pool is not supported yet')
      if (ctx.tail === '') throw badRequest('Missing address to join')
      try {
        await agent.join(ctx.tail)
      } catch (error) {
        throw new HttpError(500, (error as Error).message, 'JOIN_FAILED')
      }
      sendText(ctx.req, ctx.res, 200, '')
    }}},
    {path: '/v1/agent/leave', exact: true, methods: {PUT: async (ctx) => {
      await agent.leave()
      // Answer first, then shut down (Consul: the leave endpoint replies, then the agent exits).
      ctx.res.once('close', () => agent.requestShutdown())
      sendText(ctx.req, ctx.res, 200, '')
    }}},
    {path: '/v1/agent/force-leave/', methods: {PUT: (ctx) => {
      if (flag(ctx.params, 'wan')) throw badRequest('coord: the WAN pool is not supported yet')
      if (ctx.tail === '') throw badRequest('Missing node name')
      try {
        agent.forceLeave(ctx.tail, flag(ctx.params, 'prune'))
      } catch (error) {
        throw new HttpError(500, (error as Error).message, 'FORCE_LEAVE_FAILED')
      }
      sendText(ctx.req, ctx.res, 200, '')
    }}},
  ]
}
