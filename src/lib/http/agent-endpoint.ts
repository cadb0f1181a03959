// /v1/agent/self and /v1/agent/members (Consul docs: api-docs/agent): what this agent is and whom it knows.
import type {CheckDefinition} from '../agent/definitions.js'
import type {AgentDeps, Route} from './context.js'
import {sendJson, sendText} from './respond.js'
import {HttpError, badRequest} from '../errors.js'
import {flag} from './query.js'
import {availableParallelism} from 'node:os'
import {filterParam} from './catalog-query.js'
import type {Schema} from '../filter/evaluate.js'
import {FILTERED_BY_ACLS, filterReadable} from './acl-authorize.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type AgentEndpointDeps = AgentDeps<'config' | 'consensus' | 'coordinates' | 'forceLeave' | 'forceLeaveWan' | 'gossipEncrypted' | 'join' | 'joinWan' | 'leave' | 'local' | 'members' | 'nodeId' | 'requestShutdown' | 'version' | 'wanMembers'>


/** What `?filter=` can select on /v1/agent/members (Consul's serf member fields). */
const MEMBER_SCHEMA: Schema = {fields: {
  Name: 'string', Addr: 'string', Port: 'number', Tags: 'map', Status: 'number',
  ProtocolMin: 'number', ProtocolMax: 'number', ProtocolCur: 'number', DelegateMin: 'number', DelegateMax: 'number', DelegateCur: 'number',
}}

export function agentStats(agent: AgentEndpointDeps): Record<string, Record<string, string>> {
  const {config, consensus} = agent
  const members = agent.members()
  const memory = process.memoryUsage()
  const sections: Record<string, Record<string, string>> = {
    agent: {
      checks: String(agent.local.state.checks().length), services: String(agent.local.state.services().length),
      check_monitors: '0', check_ttls: String(agent.local.state.checks().filter((c) => c.def.kind === 'ttl').length),
    },
    build: {version: agent.version, revision: '', prerelease: ''},
    // A client has no Raft: Consul's client shows only what it knows of the servers.
    consul: config.server
      ? {
        acl: config.acl.enabled ? 'enabled' : 'disabled', server: 'true', leader: String(consensus.isLeader()), leader_addr: consensus.leaderAddress(),
        bootstrap: String(config.bootstrap), known_datacenters: '1', known_servers: String(consensus.peers().length),
      }
      : {acl: config.acl.enabled ? 'enabled' : 'disabled', server: 'false', known_servers: String(consensus.peers().length)},
    runtime: {
      os: process.platform, arch: process.arch, version: process.version, cpu_count: String(availableParallelism()),
      max_procs: String(availableParallelism()), goroutines: '0', heap_used: String(memory.heapUsed), rss: String(memory.rss),
    },
    serf_lan: {
      members: String(members.length), failed: String(members.filter((m) => m.Status === 4).length),
      left: String(members.filter((m) => m.Status === 3).length), encrypted: String(agent.gossipEncrypted ?? false), health_score: '0',
      member_time: '1', event_time: '1', query_time: '1', intent_queue: '0', event_queue: '0', query_queue: '0',
    },
  }
  if (config.server) {
    sections.raft = consensus.stats()
    const wan = agent.wanMembers?.() ?? []
    sections.serf_wan = {
      ...sections.serf_lan, members: String(wan.length), failed: String(wan.filter((m) => m.Status === 4).length),
      left: String(wan.filter((m) => m.Status === 3).length),
    }
    const dcs = new Set(wan.map((m) => m.Tags.dc).filter(Boolean))
    sections.consul.known_datacenters = String(Math.max(1, dcs.size))
  }
  return sections
}

/** A check definition for DebugConfig: header values (Authorization, tokens) hidden. */
function sanitizedCheck(check: CheckDefinition): CheckDefinition {
  return check.kind === 'http' ? {...check, Header: Object.fromEntries(Object.keys(check.Header).map((name) => [name, ['hidden']]))} : check
}

export function agentRoutes(agent: AgentEndpointDeps): Route[] {
  return [
    {path: '/v1/agent/self', exact: true, methods: {GET: (ctx) => {
      const {config} = agent
      const self = agent.members().find((m) => m.Name === config.nodeName)
      sendJson(ctx.req, ctx.res, {
        Config: {
          Datacenter: config.datacenter, PrimaryDatacenter: config.primaryDatacenter, NodeName: config.nodeName, NodeID: agent.nodeId,
          Revision: '', Server: config.server, Version: agent.version, BuildDate: '',
        },
        DebugConfig: {
          DevMode: config.dev, DataDir: config.dataDir, ClientAddrs: config.clientAddrs, BindAddr: config.bindAddr,
          AdvertiseAddrLAN: config.advertiseAddr, HTTPPort: config.ports.http, ServerPort: config.ports.server,
          SessionTTLMin: `${config.sessionTtlMinMs}ms`, KVMaxValueSize: config.kvMaxValueSize, TxnMaxReqLen: config.txnMaxReqLen,
          LogLevel: config.logLevel.toUpperCase(), EnableDebug: config.enableDebug, UIConfig: {Enabled: config.ui, Dir: config.uiDir, ContentPath: config.uiContentPath},
          // Consul's RuntimeConfig names for the rest of what the config files set.
          Datacenter: config.datacenter, PrimaryDatacenter: config.primaryDatacenter, NodeName: config.nodeName, ServerMode: config.server,
          Bootstrap: config.bootstrap, BootstrapExpect: config.bootstrapExpect, AdvertiseAddrWAN: config.advertiseAddrWan,
          SerfBindAddrLAN: config.serfLanBind, SerfBindAddrWAN: config.serfWanBind, SerfAllowedCIDRsLAN: config.serfLanAllowedCidrs,
          SerfAllowedCIDRsWAN: config.serfWanAllowedCidrs, NodeMeta: config.nodeMeta, RetryJoinLAN: config.retryJoin, RetryJoinWAN: config.retryJoinWan,
          StartJoinAddrsLAN: config.startJoin, RejoinAfterLeave: config.rejoinAfterLeave, EnableScriptChecks: config.enableScriptChecks,
          EnableLocalScriptChecks: config.enableLocalScriptChecks, DisableRemoteExec: config.disableRemoteExec,
          DNSDomain: config.dns.domain, DNSAltDomain: config.dns.altDomain, DNSRecursors: config.dns.recursors,
          DNSPort: config.ports.dns, HTTPSPort: config.ports.https, SerfPortLAN: config.ports.serfLan, SerfPortWAN: config.ports.serfWan,
          LogJSON: config.logJson, LogFile: config.logFile.path, LogRotateBytes: config.logFile.rotateBytes,
          LogRotateDuration: `${config.logFile.rotateDurationMs}ms`, LogRotateMaxFiles: config.logFile.rotateMaxFiles, PidFile: config.pidFile,
          AutoReloadConfig: config.autoReloadConfig, RaftSnapshotThreshold: config.snapshotThreshold, CheckOutputMaxSize: config.checkOutputMaxSize,
          HTTPAllowWriteFrom: config.http.allowWriteHttpFrom, HTTPBlockEndpoints: config.http.blockEndpoints, HTTPResponseHeaders: config.http.responseHeaders,
          ACLsEnabled: config.acl.enabled, ACLDefaultPolicy: config.acl.defaultPolicy,
          // Definitions as read, with what may be a secret hidden (watch tokens, header values), as Consul sanitizes its DebugConfig.
          Services: config.services.map((s) => ({...s, checks: s.checks.map(sanitizedCheck)})), Checks: config.checks.map(sanitizedCheck),
          Watches: config.watches.map((w) => ({...w.params, token: w.params.token ? 'hidden' : '', handler_type: w.handler.kind})),
        },
        // This agent's LAN coordinate (null with disable_coordinates, as Consul's nil).
        Coord: agent.coordinates?.lan?.own ?? null,
        Member: self,
        Stats: agentStats(agent),
        Meta: config.nodeMeta,
      }, ctx.query.pretty)
    }}},
    {path: '/v1/agent/members', exact: true, methods: {GET: (ctx) => {
      const wan = flag(ctx.params, 'wan')
      const segment = ctx.params.get('segment') ?? ''
      // Consul: the WAN pool has no segments.
      if (wan && segment !== '' && segment !== '_all') throw badRequest('Cannot provide a segment with wan=true')
      // Consul CE has no network segments: a server refuses any but "" / "_all"; a client knows only its own ("").
      if (!wan && segment !== '' && segment !== '_all') {
        throw new HttpError(500, agent.config.server ? 'Network segments are not supported in this version of Consul' : `segment "${segment}" not found`, 'SEGMENTS_NOT_SUPPORTED')
      }
      const filter = filterParam(ctx, MEMBER_SCHEMA)
      // A client has no WAN pool: an empty list, as Consul's agent answers.
      const members = wan ? agent.wanMembers?.() ?? [] : agent.members()
      // With ACLs on, only members whose node the token may read (Consul's filterMembers; WAN names drop ".<dc>").
      const dcSuffix = `.${agent.config.datacenter}`
      const readable = filterReadable(agent.config.acl.enabled, ctx, members, 'node', (m) => wan && m.Name.endsWith(dcSuffix) ? m.Name.slice(0, -dcSuffix.length) : m.Name)
      if (readable.filtered) ctx.res.setHeader(FILTERED_BY_ACLS, 'true')
      sendJson(ctx.req, ctx.res, readable.value.filter(filter), ctx.query.pretty)
    }}},
    {path: '/v1/agent/join/', methods: {PUT: async (ctx) => {
      if (ctx.tail === '') throw badRequest('Missing address to join')
      const wan = flag(ctx.params, 'wan')
      try {
        if (!wan) await agent.join(ctx.tail)
        else if (agent.joinWan) await agent.joinWan(ctx.tail)
        else throw new Error('Must be a server to join WAN cluster')
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
      if (ctx.tail === '') throw badRequest('Missing node name')
      try {
        if (!flag(ctx.params, 'wan')) agent.forceLeave(ctx.tail, flag(ctx.params, 'prune'))
        else if (agent.forceLeaveWan) agent.forceLeaveWan(ctx.tail, flag(ctx.params, 'prune'))
        else throw new Error('Must be a server to force-leave in the WAN pool')
      } catch (error) {
        throw new HttpError(500, (error as Error).message, 'FORCE_LEAVE_FAILED')
      }
      sendText(ctx.req, ctx.res, 200, '')
    }}},
  ]
}
