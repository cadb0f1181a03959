// GET /v1/agent/self and /v1/agent/members (Consul docs: api-docs/agent).
import {type ApiClient, type QueryOptions} from './client.js'

export interface AgentMember {
  Name: string
  Addr: string
  Port: number
  Tags: Record<string, string>
  /** Serf status: 0 none, 1 alive, 2 leaving, 3 left, 4 failed. */
  Status: number
  ProtocolMin: number
  ProtocolMax: number
  ProtocolCur: number
  DelegateMin: number
  DelegateMax: number
  DelegateCur: number
}

export interface AgentSelf {
  Config: Record<string, unknown>
  DebugConfig?: Record<string, unknown>
  Member: AgentMember
  Stats: Record<string, Record<string, string>>
  Meta?: Record<string, string>
  [extra: string]: unknown
}

export async function agentSelf(client: ApiClient, q: QueryOptions = {}): Promise<AgentSelf> {
  const {value} = await client.getJson('/v1/agent/self', q)
  return value as AgentSelf
}

export async function agentMembers(client: ApiClient, options: {wan?: boolean; segment?: string; filter?: string} & QueryOptions = {}): Promise<AgentMember[]> {
  const {wan, segment, ...q} = options
  const {value} = await client.getJson('/v1/agent/members', {...q, params: {wan: wan === true, segment: segment || undefined}})
  return Array.isArray(value) ? (value as AgentMember[]) : []
}

/** PUT /v1/agent/join/:address (`wan`: the WAN pool). */
export async function agentJoin(client: ApiClient, address: string, options: {wan?: boolean} = {}): Promise<void> {
  await client.call('PUT', `/v1/agent/join/${address}`, {params: {wan: options.wan === true}})
}

/** PUT /v1/agent/leave: graceful leave, then the agent shuts down. */
export async function agentLeave(client: ApiClient): Promise<void> {
  await client.call('PUT', '/v1/agent/leave')
}

/** PUT /v1/agent/force-leave/:node (`prune`: forget it entirely; `wan`: the WAN pool only). */
export async function agentForceLeave(client: ApiClient, node: string, options: {prune?: boolean; wan?: boolean} = {}): Promise<void> {
  await client.call('PUT', `/v1/agent/force-leave/${node}`, {params: {prune: options.prune === true, wan: options.wan === true}})
}

/** GET /v1/agent/monitor: the agent's log lines as a stream, until `signal` aborts or the agent ends it. */
export async function agentMonitor(client: ApiClient, options: {logLevel?: string; logJson?: boolean; signal?: AbortSignal} = {}): Promise<NodeJS.ReadableStream> {
  return client.stream('/v1/agent/monitor', {params: {loglevel: options.logLevel || undefined, logjson: options.logJson === true}, signal: options.signal})
}
