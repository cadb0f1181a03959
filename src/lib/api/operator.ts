// /v1/operator/raft/* and /v1/operator/autopilot/health (Consul docs: api-docs/operator, api-docs/snapshot), as Consul's Go api.Operator.
import {type ApiClient, type QueryOptions} from './client.js'

export interface RaftServerInfo {
  ID: string
  Node: string
  Address: string
  Leader: boolean
  ProtocolVersion: string
  Voter: boolean
  LastIndex: number
}

export interface RaftConfigurationInfo {
  Servers: RaftServerInfo[]
  Index: number
}

export interface ServerHealthInfo {
  ID: string
  Name: string
  Address: string
  SerfStatus: string
  Version: string
  Leader: boolean
  LastContact: string
  LastTerm: number
  LastIndex: number
  Healthy: boolean
  Voter: boolean
  StableSince: string
}

export interface AutopilotHealthInfo {
  Healthy: boolean
  FailureTolerance: number
  Servers: ServerHealthInfo[]
}

export async function raftGetConfiguration(client: ApiClient, q: QueryOptions = {}): Promise<RaftConfigurationInfo> {
  const {value} = await client.getJson('/v1/operator/raft/configuration', q)
  const out = (value ?? {}) as Partial<RaftConfigurationInfo>
  return {Servers: Array.isArray(out.Servers) ? out.Servers : [], Index: Number(out.Index ?? 0)}
}

export async function raftRemovePeer(client: ApiClient, peer: {id: string} | {address: string}, q: Pick<QueryOptions, 'datacenter' | 'token'> = {}): Promise<void> {
  await client.call('DELETE', '/v1/operator/raft/peer', {...q, params: 'id' in peer ? {id: peer.id} : {address: peer.address}})
}

/** True when the server reports success ({"Success": true}). */
export async function raftTransferLeader(client: ApiClient, id = '', q: Pick<QueryOptions, 'datacenter' | 'token' | 'stale'> = {}): Promise<boolean> {
  const response = await client.call('POST', '/v1/operator/raft/transfer-leader', {...q, params: {id: id || undefined}})
  const text = response.body.toString('utf8')
  try {
    return (JSON.parse(text) as {Success?: unknown}).Success === true
  } catch {
    return false
  }
}

/** The health report; a 429 (unhealthy) answers the same body and is not an error here. */
export async function autopilotServerHealth(client: ApiClient, q: QueryOptions = {}): Promise<AutopilotHealthInfo> {
  const {value} = await client.getJson('/v1/operator/autopilot/health', {...q, accept: [429]})
  return value as AutopilotHealthInfo
}

// ---- /v1/operator/keyring (Consul's api.Operator Keyring*) ----

/** One gossip pool's answer (Consul's api.KeyringResponse). */
export interface KeyringResponseInfo {
  WAN: boolean
  Datacenter: string
  Segment: string
  Messages?: Record<string, string>
  Keys: Record<string, number>
  PrimaryKeys: Record<string, number>
  NumNodes: number
}

export interface KeyringOptions {
  /** 0..5: answers also travel through this many random members. */
  relayFactor?: number
  /** List only: skip the WAN pool. */
  localOnly?: boolean
  token?: string
}

function keyringParams(opts: KeyringOptions): Record<string, string | undefined> {
  return {'relay-factor': opts.relayFactor ? String(opts.relayFactor) : undefined, 'local-only': opts.localOnly ? 'true' : undefined}
}

export async function keyringList(client: ApiClient, opts: KeyringOptions = {}): Promise<KeyringResponseInfo[]> {
  const {value} = await client.getJson('/v1/operator/keyring', {token: opts.token, params: keyringParams(opts)})
  return Array.isArray(value) ? (value as KeyringResponseInfo[]) : []
}

async function keyringWrite(client: ApiClient, method: 'POST' | 'PUT' | 'DELETE', key: string, opts: KeyringOptions): Promise<void> {
  await client.call(method, '/v1/operator/keyring', {token: opts.token, params: keyringParams({relayFactor: opts.relayFactor}), body: JSON.stringify({Key: key})})
}

export const keyringInstall = (client: ApiClient, key: string, opts: KeyringOptions = {}): Promise<void> => keyringWrite(client, 'POST', key, opts)
export const keyringUse = (client: ApiClient, key: string, opts: KeyringOptions = {}): Promise<void> => keyringWrite(client, 'PUT', key, opts)
export const keyringRemove = (client: ApiClient, key: string, opts: KeyringOptions = {}): Promise<void> => keyringWrite(client, 'DELETE', key, opts)

/** Consul's api.AutopilotConfiguration (durations as Go strings). */
export interface AutopilotConfiguration {
  CleanupDeadServers: boolean
  LastContactThreshold: string
  MaxTrailingLogs: number
  MinQuorum: number
  ServerStabilizationTime: string
  RedundancyZoneTag: string
  DisableUpgradeMigration: boolean
  UpgradeVersionTag: string
  CreateIndex: number
  ModifyIndex: number
}

export async function autopilotGetConfiguration(client: ApiClient, q: QueryOptions = {}): Promise<AutopilotConfiguration> {
  const {value} = await client.getJson('/v1/operator/autopilot/configuration', q)
  return value as AutopilotConfiguration
}

/** PUT ?cas=<ModifyIndex>: true when the configuration was stored (the index still matched). */
export async function autopilotCASConfiguration(client: ApiClient, config: AutopilotConfiguration, q: Pick<QueryOptions, 'datacenter' | 'token'> = {}): Promise<boolean> {
  const response = await client.call('PUT', '/v1/operator/autopilot/configuration', {...q, params: {cas: String(config.ModifyIndex)}, body: JSON.stringify(config)})
  return response.body.toString('utf8').trim() === 'true'
}

/** Consul's api.AutopilotServer inside api.AutopilotState. */
export interface AutopilotServerState {
  ID: string
  Name: string
  Address: string
  NodeStatus: string
  Version: string
  LastContact: string
  LastTerm: number
  LastIndex: number
  Healthy: boolean
  StableSince: string
  ReadReplica: boolean
  Status: string
  Meta: Record<string, string>
  NodeType: string
}

export interface AutopilotState {
  Healthy: boolean
  FailureTolerance: number
  OptimisticFailureTolerance: number
  Servers: Record<string, AutopilotServerState>
  Leader: string
  Voters: string[]
  ReadReplicas: string[] | null
}

export async function autopilotServerState(client: ApiClient, q: QueryOptions = {}): Promise<AutopilotState> {
  const {value} = await client.getJson('/v1/operator/autopilot/state', q)
  return value as AutopilotState
}
