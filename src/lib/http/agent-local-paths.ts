// Which /v1 requests an agent answers itself (contract 1 of the coord brief, and Consul's split):
// the agent's own endpoints, user events and the gossip keyring run on the agent that receives them;
// on a client agent every other /v1 request is forwarded whole to a server. The one list.
export const AGENT_LOCAL_PREFIXES: readonly string[] = ['/v1/agent/', '/v1/event/', '/v1/operator/keyring']

/** True when `path` (decoded, without the query) is served by the receiving agent itself. */
export function runsOnAgent(path: string): boolean {
  if (!path.startsWith('/v1/')) return true // '/', the UI, anything outside the API: never forwarded
  return AGENT_LOCAL_PREFIXES.some((prefix) => path === prefix || path.startsWith(prefix) || path === prefix.replace(/\/$/, ''))
}
