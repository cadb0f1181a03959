// Which /v1 requests an agent answers itself (Consul's split between agent and server endpoints):
// the agent's own endpoints, user events and the gossip keyring run on the agent that receives them;
// on a client agent every other /v1 request is forwarded whole to a server. The one list.
export const AGENT_LOCAL_PREFIXES: readonly string[] = ['/v1/agent/', '/v1/event/', '/v1/operator/keyring']

/** True when `path` (decoded, without the query) is served by the receiving agent itself. */
export function runsOnAgent(path: string): boolean {
  if (!path.startsWith('/v1/')) return true // '/', the UI, anything outside the API: never forwarded
  return AGENT_LOCAL_PREFIXES.some((prefix) => path === prefix || path.startsWith(prefix) || path === prefix.replace(/\/$/, ''))
}

/**
 * The one agent-local request a server may run for someone else: firing a user event. Consul's
 * agents fire through a server RPC (Internal.EventFire), which is how `?dc=` reaches another
 * datacenter's LAN pool.
 */
export function firesOnServer(path: string): boolean {
  return path.startsWith('/v1/event/fire/')
}

/**
 * Server endpoints whose Consul handlers never read `?dc=` (they list the WAN pool's datacenters,
 * the same from any of them): answered here whatever it says.
 */
const DATACENTER_BLIND_PATHS: readonly string[] = ['/v1/catalog/datacenters', '/v1/coordinate/datacenters']

/**
 * True when `?dc=` decides where `path` runs (Consul's handlers that parse it into the RPC's
 * Datacenter): every server endpoint but the datacenter lists, and user event fires. The agent's
 * own endpoints ignore it, as Consul's do. Prefix rules, so new server endpoints follow at once.
 */
export function honorsDatacenter(path: string): boolean {
  if (firesOnServer(path)) return true
  return !runsOnAgent(path) && !DATACENTER_BLIND_PATHS.includes(path)
}
