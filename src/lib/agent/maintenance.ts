// Node and service maintenance mode, as Consul models it: a critical check owned by the agent
// (`_node_maintenance`, `_service_maintenance:<id>`) whose Notes carry the reason. Health queries
// then hide the node or instance; disabling removes the check.
import {checkDefinitionOf, type CheckDefinition} from './definitions.js'
import {LocalStateError, NODE_MAINTENANCE_ID, SERVICE_MAINTENANCE_PREFIX, unknownServiceMessage, type LocalState} from './local-state.js'

export const DEFAULT_NODE_MAINT_REASON = 'Maintenance mode is enabled for this node, but no reason was provided. This is a default message.'
export const DEFAULT_SERVICE_MAINT_REASON = 'Maintenance mode is enabled for this service, but no reason was provided. This is a default message.'

function maintenanceCheck(id: string, name: string, notes: string, serviceId: string): CheckDefinition {
  return checkDefinitionOf({CheckID: id, Name: name, Notes: notes, ServiceID: serviceId, Status: 'critical'})
}

export function enableNodeMaintenance(local: LocalState, reason: string): void {
  // Consul keeps the first reason while maintenance stays on.
  if (local.check(NODE_MAINTENANCE_ID)) return
  local.addCheck(maintenanceCheck(NODE_MAINTENANCE_ID, 'Node Maintenance Mode', reason || DEFAULT_NODE_MAINT_REASON, ''), 'internal')
}

export function disableNodeMaintenance(local: LocalState): void {
  local.removeCheck(NODE_MAINTENANCE_ID)
}

export function serviceMaintenanceId(serviceId: string): string {
  return `${SERVICE_MAINTENANCE_PREFIX}${serviceId}`
}

export function enableServiceMaintenance(local: LocalState, serviceId: string, reason: string): void {
  if (!local.service(serviceId)) throw new LocalStateError(unknownServiceMessage(serviceId), 'NOT_FOUND')
  const id = serviceMaintenanceId(serviceId)
  if (local.check(id)) return
  local.addCheck(maintenanceCheck(id, 'Service Maintenance Mode', reason || DEFAULT_SERVICE_MAINT_REASON, serviceId), 'internal')
}

export function disableServiceMaintenance(local: LocalState, serviceId: string): void {
  if (!local.service(serviceId)) throw new LocalStateError(unknownServiceMessage(serviceId), 'NOT_FOUND')
  local.removeCheck(serviceMaintenanceId(serviceId))
}
