// The replicated state machine's vocabulary: the commands that enter the (Raft) log, what applying
// them returns, and the records that reads hand back. Everything here is plain data so a command
// can be encoded into a log entry (msgpack) and replayed byte-for-byte on every server.
//
// Contract (as hashicorp/raft's fsm.go): `apply` is deterministic — it may read only the command
// and the entry's index, never a clock or a random source. Wall time that a rule needs (lock-delay
// windows) travels inside the command as `now`, stamped once by the proposer.

import type {AutopilotSetOp} from './autopilot-config.js'
import type {AclOp, AclResult} from './acl.js'
import type {DeregisterRequest, HealthStatus, RegisterRequest, ServiceAddress, ServiceWeights} from './catalog-request.js'
export type {HealthStatus}
import type {CoordinateEntry} from './coordinates.js'
import type {PreparedQueryDef} from './prepared-query.js'

export type {DeregisterRequest, RegisterCheck, RegisterRequest, RegisterService} from './catalog-request.js'

/** A key/value entry as Consul's KVPair, with the value kept as raw bytes. */
export interface KVEntry {
  key: string
  value: Uint8Array
  /** Opaque uint64 owned by the client (Consul's `Flags`). */
  flags: bigint
  createIndex: number
  modifyIndex: number
  /** Number of successful acquisitions by a session that did not already hold the key. */
  lockIndex: number
  /** ID of the session holding the lock, or '' when unlocked. */
  session: string
}

export type SessionBehavior = 'release' | 'delete'

export interface Session {
  id: string
  name: string
  node: string
  /** Node check IDs the session is bound to (Consul's NodeChecks / legacy Checks). */
  nodeChecks: string[]
  serviceChecks: Array<{id: string; namespace?: string}>
  lockDelayMs: number
  behavior: SessionBehavior
  /** TTL exactly as the client wrote it (`"30s"`), '' for none. Timers live on the leader, not here. */
  ttl: string
  createIndex: number
  modifyIndex: number
}

/** A catalog node (Consul's structs.Node). */
export interface CatalogNode {
  id: string
  node: string
  address: string
  datacenter: string
  /** Absent in snapshots written before services existed; loaded as {}. */
  taggedAddresses: Record<string, string>
  meta: Record<string, string>
  createIndex: number
  modifyIndex: number
}

/** One service instance on one node (Consul's structs.ServiceNode minus the node part). */
export interface CatalogService {
  node: string
  id: string
  service: string
  tags: string[]
  address: string
  taggedAddresses: Record<string, ServiceAddress>
  meta: Record<string, string>
  port: number
  weights: ServiceWeights
  enableTagOverride: boolean
  kind: string
  createIndex: number
  modifyIndex: number
}


/** A health check (Consul's structs.HealthCheck): node-level when serviceId is ''. */
export interface NodeCheck {
  node: string
  checkId: string
  name: string
  status: HealthStatus
  notes: string
  output: string
  /** The fields below are absent in snapshots written before services existed; loaded as ''/[]/{}. */
  serviceId: string
  serviceName: string
  serviceTags: string[]
  type: string
  interval: string
  timeout: string
  definition: Record<string, unknown>
  createIndex: number
  modifyIndex: number
}

/** KV verbs as in Consul's /v1/txn (and the single-key KV endpoint, which uses a subset). */
export type KVVerb =
  | 'set' | 'cas' | 'lock' | 'unlock'
  | 'get' | 'get-tree' | 'check-index' | 'check-session' | 'check-not-exists'
  | 'delete' | 'delete-tree' | 'delete-cas'

export interface KVOp {
  verb: KVVerb
  key: string
  value?: Uint8Array
  flags?: bigint
  /** ModifyIndex for cas/check-index/delete-cas (0 on cas = "must not exist"). */
  index?: number
  /** Session for lock/unlock/check-session. */
  session?: string
}

/** Verbs of Node, Service and Check operations in /v1/txn (Consul's api.NodeOp, ServiceOp, CheckOp). */
export type CatalogVerb = 'get' | 'set' | 'cas' | 'delete' | 'delete-cas'

/**
 * One /v1/txn operation. A KV operation has no `kind` (log entries written before the other kinds
 * existed hold bare KVOps); `index` on the others is the ModifyIndex for cas/delete-cas.
 */
export type TxnOp =
  | (KVOp & {kind?: undefined})
  | {kind: 'node'; verb: CatalogVerb; node: Omit<CatalogNode, 'createIndex' | 'modifyIndex'>; index: number}
  | {kind: 'service'; verb: CatalogVerb; service: Omit<CatalogService, 'createIndex' | 'modifyIndex'>; index: number}
  | {kind: 'check'; verb: CatalogVerb; check: Omit<NodeCheck, 'createIndex' | 'modifyIndex'>; index: number}
  /** Consul's state store knows one Session verb, `delete`. */
  | {kind: 'session'; verb: string; id: string}

/** One result of a txn, as Consul's structs.TxnResult (exactly one field set). */
export type TxnResultEntry =
  | {kv: KVEntry}
  | {node: CatalogNode}
  | {service: CatalogService}
  | {check: NodeCheck}

export interface LegacyNodeInput {id: string; node: string; address: string; datacenter: string}
export interface LegacyCheckInput {node: string; checkId: string; name: string; status: HealthStatus; notes: string; output: string}

/** Every change to replicated state. `now` is the proposer's wall clock in ms since the epoch. */
export type Command =
  | {type: 'kv'; now: number; op: KVOp}
  | {type: 'txn'; now: number; ops: TxnOp[]}
  | {type: 'session-create'; now: number; session: Omit<Session, 'createIndex' | 'modifyIndex'>}
  | {type: 'session-destroy'; now: number; id: string}
  /** A renewal that reached a server: the session's holder was alive at `now` (sessions.ts). */
  | {type: 'session-renew'; now: number; id: string}
  /** Legacy (before catalog-register): still applied from old logs; new code proposes catalog-register. */
  | {type: 'node-register'; now: number; node: LegacyNodeInput; checks: LegacyCheckInput[]}
  /** PUT /v1/catalog/register and anti-entropy. */
  | {type: 'catalog-register'; now: number; request: RegisterRequest}
  /** PUT /v1/catalog/deregister, anti-entropy, and the leader's reap of left members. */
  | {type: 'catalog-deregister'; now: number; request: DeregisterRequest}
  | {type: 'tombstone-reap'; now: number; upToIndex: number}
  /** The servers' batched network coordinate updates (server/coordinate-batcher.ts). */
  | {type: 'coordinate-batch-update'; now: number; updates: CoordinateEntry[]}
  /** Create or update a prepared query (the proposer chose the ID of a new one, as Consul's Apply). */
  | {type: 'prepared-query-set'; now: number; query: PreparedQueryDef}
  | {type: 'prepared-query-delete'; now: number; id: string}
  /** Replace all state with a snapshot's (`StateMachine.snapshot()` bytes, from PUT /v1/snapshot). */
  | {type: 'restore'; now: number; data: Uint8Array}
  /** Tokens, policies and roles (acl.ts). */
  | {type: 'acl'; now: number; op: AclOp}
  /** The autopilot configuration (autopilot-config.ts): seeded by a leader, set by the operator API. */
  | {type: 'autopilot-set'; now: number; op: AutopilotSetOp}

export interface TxnError {
  opIndex: number
  what: string
}

export interface TxnResult {
  /** One entry per result-producing op, in op order (Consul omits delete/check-not-exists). */
  results: TxnResultEntry[] | null
  errors: TxnError[] | null
}

/** Why a catalog registration was rejected: callers branch on this, never on the text. */
export type RegisterRejection = 'INVALID_REQUEST' | 'MISSING_NODE' | 'MISSING_SERVICE'

/**
 * What applying one command returned. `error` is a rejection the client caused (unknown session,
 * bad behaviour); the entry still consumed its index, as in Consul.
 */
export type ApplyResult =
  | {type: 'kv'; ok: boolean; error?: string}
  | {type: 'txn'; txn: TxnResult}
  | {type: 'session-create'; id?: string; error?: string}
  | {type: 'session-destroy'}
  | {type: 'session-renew'; found: boolean}
  | {type: 'node-register'}
  /** `error`: Consul's state-store rejection (missing node/service registration); nothing changed. */
  | {type: 'catalog-register'; error?: string; code?: RegisterRejection}
  | {type: 'catalog-deregister'}
  | {type: 'tombstone-reap'}
  /** How many of the batch were stored (updates for nodes not in the catalog are dropped). */
  | {type: 'coordinate-batch-update'; stored: number}
  | {type: 'restore'; error?: string}
  /** `error`: Consul's state-store rejection (name taken, missing session, template); nothing changed. */
  | {type: 'prepared-query-set'; error?: string}
  | {type: 'prepared-query-delete'}
  | {type: 'acl'; result: AclResult}
  /** `ok`: false when ?cas= did not match. */
  | {type: 'autopilot-set'; ok: boolean}

/** A read's answer plus the index a blocking query compares against (never 0 once rendered). */
export interface Indexed<T> {
  index: number
  value: T
}
