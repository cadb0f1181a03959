// /v1/agent/self and /v1/agent/members (SPEC-http §5): what this agent is and whom it knows.
import type {AgentContext, Route} from './context.js'
import {sendJson} from './respond.js'
import {flag} from './query.js'
import {availableParallelism} from 'node:os'

export function agentStats(agent: AgentContext): Record<string, Record<string, string>> {
  const {config, consensus} = agent
  const members = agent.members()
  const memory = process.memoryUsage()
  const sections: Record<string, Record<string, string>> = {
    agent: {checks: '0', services: '0', check_monitors: '0', check_ttls: '0'},
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
      members: String(members.length), failed: '0', left: '0', encrypted: 'false', health_score: '0',
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
      const self = agent.members()[0]
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
      // A lone server is its own WAN pool too, named <node>.<dc> as Consul names WAN members.
      const wan = flag(ctx.params, 'wan')
      const members = agent.members().map((m) => wan ? {...m, Name: `${m.Name}.${agent.config.datacenter}`, Port: agent.config.ports.serfWan} : m)
      sendJson(ctx.req, ctx.res, wan && !agent.config.server ? [] : members, ctx.query.pretty)
    }}},
  ]
}
