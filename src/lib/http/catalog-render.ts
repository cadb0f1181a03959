// Catalog records → Consul's JSON shapes (api/catalog.go, api/health.go, Consul docs: api-docs/catalog, api-docs/health), field
// order as Consul's Go structs serialize them, and the filter schema of each shape (the selectors
// `?filter=` accepts on it, as go-bexpr derives them from the Go struct).
//
// Empty maps render as {} and empty tag lists as [] (never null), so clients can iterate them.
import type {Schema} from '../filter/evaluate.js'
import type {CatalogNode, CatalogService, NodeCheck} from '../state/types.js'

type Json = Record<string, unknown>

export function renderNode(node: CatalogNode): Json {
  return {
    ID: node.id,
    Node: node.node,
    Address: node.address,
    Datacenter: node.datacenter,
    TaggedAddresses: node.taggedAddresses,
    Meta: node.meta,
    CreateIndex: node.createIndex,
    ModifyIndex: node.modifyIndex,
  }
}

/** A service as structs.NodeService (the `Service` of a health entry, catalog node services). */
export function renderNodeService(s: CatalogService): Json {
  // One object literal (no `delete`, which slows building and serializing); Kind appears only for
  // a non-typical service, as Consul's omitempty.
  const out: Json = {
    ID: s.id,
    Service: s.service,
    Tags: s.tags,
    Address: s.address,
    TaggedAddresses: s.taggedAddresses,
    Meta: s.meta,
    Port: s.port,
    Weights: s.weights,
    EnableTagOverride: s.enableTagOverride,
    Proxy: {Mode: '', MeshGateway: {}, Expose: {}},
    Connect: {},
    CreateIndex: s.createIndex,
    ModifyIndex: s.modifyIndex,
  }
  return s.kind === '' ? out : {Kind: s.kind, ...out}
}

/** One instance of a service with its node (structs.ServiceNode, /v1/catalog/service/:name). */
export function renderServiceNode(s: CatalogService, node: CatalogNode | undefined): Json {
  return {
    ID: node?.id ?? '',
    Node: s.node,
    Address: node?.address ?? '',
    Datacenter: node?.datacenter ?? '',
    TaggedAddresses: node?.taggedAddresses ?? {},
    NodeMeta: node?.meta ?? {},
    ServiceKind: s.kind,
    ServiceID: s.id,
    ServiceName: s.service,
    ServiceTags: s.tags,
    ServiceAddress: s.address,
    ServiceTaggedAddresses: s.taggedAddresses,
    ServiceWeights: s.weights,
    ServiceMeta: s.meta,
    ServicePort: s.port,
    ServiceSocketPath: '',
    ServiceEnableTagOverride: s.enableTagOverride,
    ServiceProxy: {Mode: '', MeshGateway: {}, Expose: {}},
    ServiceConnect: {},
    CreateIndex: s.createIndex,
    ModifyIndex: s.modifyIndex,
  }
}

export function renderCheck(c: NodeCheck): Json {
  return {
    Node: c.node,
    CheckID: c.checkId,
    Name: c.name,
    Status: c.status,
    Notes: c.notes,
    Output: c.output,
    ServiceID: c.serviceId,
    ServiceName: c.serviceName,
    ServiceTags: c.serviceTags,
    Type: c.type,
    Interval: c.interval,
    Timeout: c.timeout,
    ExposedPort: 0,
    Definition: c.definition,
    CreateIndex: c.createIndex,
    ModifyIndex: c.modifyIndex,
  }
}

// --- filter schemas ---

const weights = {fields: {Passing: 'number', Warning: 'number'}} as const
const serviceAddress = {fields: {Address: 'string', Port: 'number'}} as const

export const NODE_SCHEMA: Schema = {fields: {
  ID: 'string', Node: 'string', Address: 'string', Datacenter: 'string', TaggedAddresses: 'map', Meta: 'map',
}}

export const NODE_SERVICE_SCHEMA: Schema = {fields: {
  Kind: 'string', ID: 'string', Service: 'string', Tags: 'strings', Address: 'string',
  TaggedAddresses: {mapOf: serviceAddress}, Meta: 'map', Port: 'number', Weights: weights, EnableTagOverride: 'bool',
}}

export const SERVICE_NODE_SCHEMA: Schema = {fields: {
  ID: 'string', Node: 'string', Address: 'string', Datacenter: 'string', TaggedAddresses: 'map', NodeMeta: 'map',
  ServiceKind: 'string', ServiceID: 'string', ServiceName: 'string', ServiceTags: 'strings', ServiceAddress: 'string',
  ServiceTaggedAddresses: {mapOf: serviceAddress}, ServiceWeights: weights, ServiceMeta: 'map', ServicePort: 'number',
  ServiceEnableTagOverride: 'bool',
}}

export const CHECK_SCHEMA: Schema = {fields: {
  Node: 'string', CheckID: 'string', Name: 'string', Status: 'string', Notes: 'string', Output: 'string',
  ServiceID: 'string', ServiceName: 'string', ServiceTags: 'strings', Type: 'string', Interval: 'string', Timeout: 'string',
}}

export const SERVICE_ENTRY_SCHEMA: Schema = {fields: {
  Node: NODE_SCHEMA, Service: NODE_SERVICE_SCHEMA, Checks: {listOf: CHECK_SCHEMA},
}}
