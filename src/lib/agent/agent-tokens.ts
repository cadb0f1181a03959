// The agent's own ACL tokens (Consul docs: agent/config acl.tokens; api-docs/agent#update-acl-tokens):
// set from config at start, replaced at run time by PUT /v1/agent/token/<kind>. Secrets live here
// and nowhere in logs.
import type {AclTokens} from './acl-config.js'

/** The kinds /v1/agent/token/<kind> takes, with Consul's legacy spellings. */
export const AGENT_TOKEN_KINDS: Readonly<Record<string, keyof AclTokens>> = {
  default: 'default', agent: 'agent', agent_recovery: 'agentRecovery', agent_master: 'agentRecovery',
  acl_token: 'default', acl_agent_token: 'agent', acl_agent_master_token: 'agentRecovery',
  replication: 'replication', acl_replication_token: 'replication',
}

export class AgentTokens {
  #tokens: Record<keyof AclTokens, string>

  constructor(initial: AclTokens) {
    this.#tokens = {...initial}
  }

  get(kind: keyof AclTokens): string {
    return this.#tokens[kind]
  }

  set(kind: keyof AclTokens, secret: string): void {
    this.#tokens[kind] = secret
  }
}
