// The agent's local services, checks, maintenance and reload (Consul docs: api-docs/agent, api-docs/agent/service): what
// `coord services`, `coord maint` and `coord reload` call. Works against coord and Consul alike.
import type {ApiClient} from './client.js'

/** The fields of Consul's api.HealthCheck that every endpoint rendering a check carries. */
export interface HealthCheckFields {
  CheckID: string
  Name: string
  Status: string
  Notes: string
  Output: string
  ServiceID: string
}

/** A health check as /v1/agent/checks renders it (the fields the CLI reads). */
export interface AgentCheck extends HealthCheckFields {
  Node: string
  ServiceName: string
  [extra: string]: unknown
}

/** PUT /v1/agent/service/register with a service definition (Consul's JSON, PascalCase). */
export async function agentServiceRegister(client: ApiClient, definition: Record<string, unknown>, options: {replaceExistingChecks?: boolean} = {}): Promise<void> {
  await client.call('PUT', '/v1/agent/service/register', {
    body: JSON.stringify(definition), params: {'replace-existing-checks': options.replaceExistingChecks === true},
  })
}

export async function agentServiceDeregister(client: ApiClient, id: string): Promise<void> {
  await client.call('PUT', `/v1/agent/service/deregister/${id}`)
}

export async function agentChecks(client: ApiClient): Promise<Record<string, AgentCheck>> {
  const {value} = await client.getJson('/v1/agent/checks')
  return (value ?? {}) as Record<string, AgentCheck>
}

export async function agentNodeMaintenance(client: ApiClient, enable: boolean, reason: string): Promise<void> {
  await client.call('PUT', '/v1/agent/maintenance', {params: {enable: String(enable), reason: reason || undefined}})
}

export async function agentServiceMaintenance(client: ApiClient, serviceId: string, enable: boolean, reason: string): Promise<void> {
  await client.call('PUT', `/v1/agent/service/maintenance/${serviceId}`, {params: {enable: String(enable), reason: reason || undefined}})
}

export async function agentReload(client: ApiClient): Promise<void> {
  await client.call('PUT', '/v1/agent/reload')
}
