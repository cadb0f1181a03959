// Keyring operations fanned out over gossip queries, as Consul does them through serf: one query
// per operation (`_serf_list-keys`, `_serf_install-key`, `_serf_use-key`, `_serf_remove-key`),
// answered by every member of the pool from its own keyring (which it then persists), and
// aggregated per pool into Consul's KeyringResponse: how many members hold each key, how many use
// each as primary, and every member's failure message. A member without encryption answers with
// serf's "encryption not enabled" messages.
import {decode, encode} from '@msgpack/msgpack'
import type {GossipNode} from '../gossip/node.js'
import type {QueryResult} from '../gossip/types.js'
import type {GossipKeyring} from './gossip-keyring.js'

export type KeyringOp = 'list' | 'install' | 'use' | 'remove'

export const KEYRING_QUERIES: Record<KeyringOp, string> = {
  list: '_serf_list-keys', install: '_serf_install-key', use: '_serf_use-key', remove: '_serf_remove-key',
}

/** Consul's structs.KeyringResponse, field order included (one per pool). */
export interface KeyringResponse {
  WAN: boolean
  Datacenter: string
  Segment: string
  Messages: Record<string, string>
  Keys: Record<string, number>
  PrimaryKeys: Record<string, number>
  NumNodes: number
  Error: string
}

/** One member's answer (serf's nodeKeyResponse). */
export interface NodeKeyResponse {
  Result: boolean
  Message: string
  Keys: string[]
  PrimaryKey: string
}

/** A gossip pool keyring operations run over. */
export interface KeyringPool {
  node: GossipNode
  wan: boolean
  datacenter: string
  segment: string
}

/** Shortest wait for answers: a keyring change is rare, a member missed by a short deadline is not. */
const MIN_QUERY_TIMEOUT_MS = 2000

/** Apply one operation to this member's keyring, persist it, and say how it went. */
export function applyKeyringOp(ring: GossipKeyring | null, op: KeyringOp, key: string): NodeKeyResponse {
  const answer = (message: string): NodeKeyResponse => ({Result: false, Message: message, Keys: [], PrimaryKey: ''})
  if (!ring) return answer(op === 'list' ? 'Keyring is empty (encryption not enabled)' : 'No keyring to modify (encryption not enabled)')
  try {
    if (op === 'install') ring.keyring.install(key)
    else if (op === 'use') ring.keyring.use(key)
    else if (op === 'remove') ring.keyring.remove(key)
    if (op !== 'list') ring.save()
  } catch (error) {
    return answer((error as Error).message)
  }
  return {Result: true, Message: '', Keys: ring.keyring.keys(), PrimaryKey: ring.keyring.primaryKey()}
}

/** Answer the pool's keyring queries from `ring`; `onChange` hears of every change made. */
export function serveKeyringQueries(node: GossipNode, ring: GossipKeyring | null, onChange: (op: KeyringOp, result: NodeKeyResponse) => void = () => {}): void {
  for (const op of Object.keys(KEYRING_QUERIES) as KeyringOp[]) {
    node.setQueryHandler(KEYRING_QUERIES[op], (query) => {
      const result = applyKeyringOp(ring, op, decodeKeyRequest(query.payload))
      if (op !== 'list') onChange(op, result)
      return encode(result)
    })
  }
}

function decodeKeyRequest(payload: Uint8Array): string {
  try {
    const request = decode(payload) as {Key?: unknown}
    return typeof request?.Key === 'string' ? request.Key : ''
  } catch {
    return ''
  }
}

/** Fold a query's answers into the pool's KeyringResponse (serf's streamKeyResp + handleKeyRequest). */
export function aggregateKeyResponses(result: Pick<QueryResult, 'responses' | 'expected'>, pool: Omit<KeyringPool, 'node'>): KeyringResponse {
  const out: KeyringResponse = {WAN: pool.wan, Datacenter: pool.datacenter, Segment: pool.segment, Messages: {}, Keys: {}, PrimaryKeys: {}, NumNodes: Math.max(result.expected.length, result.responses.length), Error: ''}
  let errors = 0
  for (const {from, payload} of result.responses) {
    let answer: Partial<NodeKeyResponse>
    try {
      answer = decode(payload) as Partial<NodeKeyResponse>
    } catch {
      answer = {}
    }
    if (typeof answer?.Result !== 'boolean') {
      out.Messages[from] = 'Failed to decode key query response'
      errors++
      continue
    }
    if (!answer.Result) {
      out.Messages[from] = String(answer.Message ?? '')
      errors++
    }
    for (const key of Array.isArray(answer.Keys) ? answer.Keys : []) out.Keys[key] = (out.Keys[key] ?? 0) + 1
    if (answer.PrimaryKey) out.PrimaryKeys[answer.PrimaryKey] = (out.PrimaryKeys[answer.PrimaryKey] ?? 0) + 1
  }
  if (errors > 0) out.Error = `${errors}/${out.NumNodes} nodes reported failure`
  else if (result.responses.length !== out.NumNodes) out.Error = `${result.responses.length}/${out.NumNodes} nodes reported success`
  return out
}

/** Run one operation on every pool (WAN first, as Consul lists them; `localOnly` skips WAN pools). */
export async function keyringOperation(pools: readonly KeyringPool[], op: KeyringOp, key: string, opts: {relayFactor?: number; localOnly?: boolean} = {}): Promise<KeyringResponse[]> {
  const chosen = [...pools].filter((p) => !(opts.localOnly && p.wan)).sort((a, b) => Number(b.wan) - Number(a.wan))
  return Promise.all(chosen.map(async (pool) => {
    const status = pool.node.status()
    // Grows with log10 N as serf's default does; the query ends early once every member answered.
    const timeoutMs = MIN_QUERY_TIMEOUT_MS * Math.max(1, Math.ceil(Math.log10(status.alive + status.suspect + 1)))
    const result = await pool.node.query(KEYRING_QUERIES[op], encode({Key: key}), {timeoutMs, relayFactor: opts.relayFactor ?? 0})
    return aggregateKeyResponses(result, pool)
  }))
}

/** Consul's keyringErrorsOrNil: the multierror text of every pool that failed, or null. */
export function keyringErrors(responses: readonly KeyringResponse[]): string | null {
  const errors: string[] = []
  for (const r of responses) {
    if (!r.Error) continue
    let pool = r.WAN ? 'WAN' : `${r.Datacenter} (LAN)`
    if (r.Segment) pool += ` [segment: ${r.Segment}]`
    errors.push(`${pool} error: ${r.Error}`)
    for (const [node, message] of Object.entries(r.Messages)) errors.push(`${node}: ${message}`)
  }
  if (errors.length === 0) return null
  // hashicorp/go-multierror's format.
  return `${errors.length} error${errors.length === 1 ? '' : 's'} occurred:\n${errors.map((e) => `\t* ${e}`).join('\n')}\n\n`
}
