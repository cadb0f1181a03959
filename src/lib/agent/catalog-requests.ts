// The catalog write requests anti-entropy proposes (contract 2): Consul's PUT
// /v1/catalog/register|deregister bodies. The `catalog` branch owns the command types in
// state/types.ts; these mirror the contract text so this branch builds before that merge, and
// the lead points the imports at state/types.ts when both are in.

export interface RegisterService {
  ID: string
  Service: string
  Tags: string[]
  Address: string
  TaggedAddresses: Record<string, {Address: string; Port: number}>
  Meta: Record<string, string>
  Port: number
  Weights: {Passing: number; Warning: number}
  EnableTagOverride: boolean
  Kind?: string
}

export interface RegisterCheck {
  Node: string
  CheckID: string
  Name: string
  Status: string
  Notes: string
  Output: string
  ServiceID: string
  ServiceName: string
  ServiceTags: string[]
  Type: string
  Interval: string
  Timeout: string
  Definition: Record<string, unknown>
}

export interface RegisterRequest {
  Node: string
  ID?: string
  Address: string
  Datacenter?: string
  TaggedAddresses?: Record<string, string>
  NodeMeta?: Record<string, string>
  Service?: RegisterService
  Check?: RegisterCheck
  Checks?: RegisterCheck[]
  SkipNodeUpdate?: boolean
}

export interface DeregisterRequest {
  Node: string
  Datacenter?: string
  CheckID?: string
  ServiceID?: string
}

export type CatalogCommand =
  | {type: 'catalog-register'; now: number; request: RegisterRequest}
  | {type: 'catalog-deregister'; now: number; request: DeregisterRequest}

/** What anti-entropy needs to read of the catalog: the IDs it holds for one node. */
export interface CatalogView {
  nodeEntries(node: string): Promise<{serviceIds: string[]; checkIds: string[]}>
}
