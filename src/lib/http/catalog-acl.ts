// Who may write what in the catalog (Consul's agent/consul/catalog_endpoint.go vetRegisterWithACL and
// vetDeregisterWithACL): node:write when the node record is created or changed, service:write on each
// service registered, replaced or removed, and on a service check's service; node:write for a node
// check. Where Consul would need a record that does not exist, coord asks node:write (fail closed).
import type {Authorizer} from '../acl/authorizer.js'
import type {Catalog} from '../state/catalog.js'
import type {DeregisterRequest, RegisterRequest} from '../state/catalog-request.js'
import {permissionDenied} from './acl-authorize.js'
import type {ResolvedToken} from './context.js'

type Need = {kind: 'node' | 'service'; name: string}

const sameMap = (a: Record<string, string> | undefined, b: Record<string, string>) => {
  const left = a ?? {}
  const keys = Object.keys(left)
  return keys.length === Object.keys(b).length && keys.every((k) => left[k] === b[k])
}

export function registerNeeds(request: RegisterRequest, catalog: Catalog): Need[] {
  const needs: Need[] = []
  const node = catalog.node(request.Node)
  const nodeChanges = node === undefined || (!request.SkipNodeUpdate && (
    (request.Address !== undefined && request.Address !== node.address)
    || (request.ID !== undefined && request.ID !== '' && request.ID !== node.id)
    || (request.TaggedAddresses !== undefined && !sameMap(request.TaggedAddresses, node.taggedAddresses))
    || (request.NodeMeta !== undefined && !sameMap(request.NodeMeta, node.meta))))
  if (nodeChanges) needs.push({kind: 'node', name: request.Node})
  const service = request.Service
  if (service) {
    needs.push({kind: 'service', name: service.Service})
    const replaced = catalog.service(request.Node, service.ID ?? service.Service)
    if (replaced && replaced.service !== service.Service) needs.push({kind: 'service', name: replaced.service})
  }
  for (const check of [...(request.Checks ?? []), ...(request.Check ? [request.Check] : [])]) {
    const serviceId = check.ServiceID ?? ''
    if (serviceId === '') {
      needs.push({kind: 'node', name: request.Node})
      continue
    }
    const name = service && (service.ID ?? service.Service) === serviceId ? service.Service : catalog.service(request.Node, serviceId)?.service
    needs.push(name === undefined ? {kind: 'node', name: request.Node} : {kind: 'service', name})
  }
  return needs
}

export function deregisterNeeds(request: DeregisterRequest, catalog: Catalog): Need[] {
  if (request.ServiceID) {
    const service = catalog.service(request.Node, request.ServiceID)
    return [service ? {kind: 'service', name: service.service} : {kind: 'node', name: request.Node}]
  }
  if (request.CheckID) {
    const check = catalog.check(request.Node, request.CheckID)
    return [check && check.serviceId !== '' ? {kind: 'service', name: check.serviceName} : {kind: 'node', name: request.Node}]
  }
  return [{kind: 'node', name: request.Node}]
}

/** Throws Consul's 403 for the first need the token lacks. */
export function requireNeeds(who: ResolvedToken, needs: Need[]): void {
  const authz: Authorizer = who.authorizer
  for (const need of needs) if (!authz.allowed(need.kind, need.name, 'write')) throw permissionDenied(who.accessorId, need.kind, 'write', need.name)
}
