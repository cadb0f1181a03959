// The catalog write requests anti-entropy proposes (Consul's PUT
// /v1/catalog/register|deregister bodies, owned by state/catalog-request.ts) and what it reads
// back of the catalog.
import type {HealthCheckFields} from '../api/agent-local.js'
import type {Command} from '../state/types.js'

export type {DeregisterRequest, RegisterCheck, RegisterRequest, RegisterService} from '../state/catalog-request.js'

export type CatalogCommand = Extract<Command, {type: 'catalog-register' | 'catalog-deregister'}>

/** A catalog service or check in the shape anti-entropy compares (the fields it writes). */
export interface SyncedService {
  ID: string
  Service: string
  Tags: string[]
  Address: string
  TaggedAddresses: Record<string, {Address: string; Port: number}>
  Meta: Record<string, string>
  Port: number
  Weights: {Passing: number; Warning: number}
  EnableTagOverride: boolean
  Kind: string
}

/** A catalog check in the shape anti-entropy compares: the common api.HealthCheck fields. */
export type SyncedCheck = HealthCheckFields

/** What anti-entropy reads of the catalog: whether the node is there, and its services and checks. */
export interface CatalogView {
  /** nodeMeta: the catalog record's meta (undefined when the node is not there). */
  nodeEntries(node: string): Promise<{nodeExists: boolean; nodeMeta?: Record<string, string>; services: SyncedService[]; checks: SyncedCheck[]}>
}
