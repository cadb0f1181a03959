// The catalog write requests anti-entropy proposes (contract 2: Consul's PUT
// /v1/catalog/register|deregister bodies, owned by state/catalog-request.ts) and what it reads
// back of the catalog.
import type {Command} from '../state/types.js'

export type {DeregisterRequest, RegisterCheck, RegisterRequest, RegisterService} from '../state/catalog-request.js'

export type CatalogCommand = Extract<Command, {type: 'catalog-register' | 'catalog-deregister'}>

/** What anti-entropy needs to read of the catalog: whether the node is there, and the IDs it holds for it. */
export interface CatalogView {
  nodeEntries(node: string): Promise<{nodeExists: boolean; serviceIds: string[]; checkIds: string[]}>
}
