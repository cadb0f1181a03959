// The wire shapes of the agent's local services and checks (Consul's api.AgentService and
// api.AgentCheck / HealthCheck), and the error mapping the agent-local endpoints share.
import {createHash} from 'node:crypto'
import {DefinitionError, checkType} from '../agent/definitions.js'
import {LocalStateError, type LocalCheck, type LocalService, type LocalState} from '../agent/local-state.js'
import {CheckNotTtlError} from '../agent/check-supervisor.js'
import {HttpError, badRequest, notFound} from '../errors.js'

export function renderService(service: LocalService, datacenter: string): Record<string, unknown> {
  const d = service.def
  const out: Record<string, unknown> = {}
  if (d.Kind !== '') out.Kind = d.Kind
  Object.assign(out, {ID: d.ID, Service: d.Service, Tags: d.Tags, Meta: d.Meta, Port: d.Port, Address: d.Address})
  if (Object.keys(d.TaggedAddresses).length > 0) out.TaggedAddresses = d.TaggedAddresses
  Object.assign(out, {Weights: d.Weights, EnableTagOverride: d.EnableTagOverride, Datacenter: datacenter})
  return out
}

/** Consul's ContentHash: changes whenever the rendered service does (hash-based blocking). */
export function contentHash(rendered: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(rendered)).digest('hex').slice(0, 16)
}

export function renderCheck(check: LocalCheck, local: LocalState, node: string): Record<string, unknown> {
  const d = check.def
  const service = d.ServiceID ? local.service(d.ServiceID) : undefined
  return {
    Node: node, CheckID: d.CheckID, Name: d.Name, Status: check.status, Notes: d.Notes, Output: check.output,
    ServiceID: d.ServiceID, ServiceName: service?.def.Service ?? '', ServiceTags: service?.def.Tags ?? [],
    Type: check.source === 'internal' ? '' : checkType(d), Interval: d.Interval, Timeout: d.Timeout, ExposedPort: 0,
    Definition: {}, CreateIndex: 0, ModifyIndex: 0,
  }
}

/** The registry's errors as the HTTP API answers them. */
export function toHttpError(error: unknown): unknown {
  if (error instanceof DefinitionError) return badRequest(error.message)
  if (error instanceof LocalStateError) return error.code === 'NOT_FOUND' ? notFound(error.message) : badRequest(error.message)
  if (error instanceof CheckNotTtlError) return new HttpError(500, error.message, error.code)
  return error
}

/** Runs `fn`, translating registry errors into HttpErrors for server.ts. */
export function translating<T>(fn: () => T): T {
  try {
    return fn()
  } catch (error) {
    throw toHttpError(error)
  }
}
