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
