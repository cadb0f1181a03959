// An in-process HTTP edge with ACLs on, for the ACL tests: the real pipeline (server.ts
// handleRequest) and the real state machine, consensus being the one-server case (each command is
// applied at the next index): fast, in-process proof of the endpoints and the enforcement. Real
// agents with ACLs on are in test/integration/acl-cluster.test.ts and acl-token-persistence.test.ts.
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {StateMachine} from '../../src/lib/state/state-machine.js'
import {buildConfig} from '../../src/lib/agent/config.js'
import {LogHub} from '../../src/lib/logger.js'
import {AgentTokens} from '../../src/lib/agent/agent-tokens.js'
import {handleRequest} from '../../src/lib/http/server.js'
import type {AgentContext, Route} from '../../src/lib/http/context.js'
import type {Command} from '../../src/lib/state/types.js'
import {LocalState} from '../../src/lib/agent/local-state.js'
import {parseServiceDefinition} from '../../src/lib/agent/definitions.js'

export interface Answer {status: number; text: string; json: unknown; headers: Headers}

export interface AclEdge {
  readonly agent: AgentContext
  readonly state: StateMachine
  /** Every log line the agent wrote. */
  readonly lines: string[]
  /** Listens on 127.0.0.1 (an ephemeral port); resolves with the base URL. */
  start(routes: (agent: AgentContext) => Route[]): Promise<string>
  stop(): void
  /** Shifts the agent's clock (token expiry). */
  advance(ms: number): void
}

export function aclEdge(opts: {enabled?: boolean; defaultPolicy?: 'allow' | 'deny'} = {}): AclEdge {
  const base = buildConfig({node_name: 'n1', datacenter: 'dc1'}, {dev: true})
  const config = {...base, acl: {...base.acl, enabled: opts.enabled ?? true, defaultPolicy: opts.defaultPolicy ?? 'deny'}}
  const state = new StateMachine()
  const lines: string[] = []
  const logs = new LogHub('debug', (line) => lines.push(line))
  let index = 0
  let skew = 0
  const consensus = {
    propose: async (cmd: Command) => ({index: ++index, result: state.apply(index, cmd)}),
    readBarrier: async () => {},
    knownLeader: () => true,
    lastContactMs: () => 0,
  }
  const agent = {
    config, state, consensus, now: () => Date.now() + skew, aclTokens: new AgentTokens(config.acl.tokens), log: logs.logger('agent'), logs,
    sessionTimers: {clear: () => {}, stop: () => {}, resetAll: () => {}},
    // The agent's local services and checks (empty): what the /v1/agent/service and check rules look up.
    local: localAgent(),
  } as unknown as AgentContext
  let server: Server | undefined
  return {
    agent, state, lines,
    async start(routes) {
      const table = routes(agent)
      server = createServer((req, res) => void handleRequest(agent, table, req, res))
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    },
    stop() {
      server?.closeAllConnections()
      server?.close()
    },
    advance(ms) {
      skew += ms
    },
  }
}

/** The agent's local services and checks: the real LocalState, registering as LocalAgent does (no check runners). */
function localAgent() {
  const state = new LocalState()
  return {
    state,
    registerService(body: unknown, replaceExistingChecks: boolean) {
      const parsed = parseServiceDefinition(body)
      state.addService(parsed.service, parsed.checks, 'api', replaceExistingChecks)
      return parsed
    },
  }
}

export async function call(base: string, method: string, path: string, body?: unknown, token?: string): Promise<Answer> {
  const headers: Record<string, string> = {}
  if (token !== undefined) headers['X-Consul-Token'] = token
  const res = await fetch(base + path, {method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)})
  const text = await res.text()
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return {status: res.status, text, json, headers: res.headers}
}
