// The agent's own ACL tokens (Consul docs: agent/config acl.tokens; api-docs/agent#update-acl-tokens):
// set from config at start, replaced at run time by PUT /v1/agent/token/<kind>. Secrets live here
// and nowhere in logs.
//
// With acl.enable_token_persistence, tokens set through the API are kept in <data_dir>/acl-tokens.json
// (mode 0600, replaced atomically before the request is answered) and, as in Consul
// (agent/token/persistence.go), a persisted token wins over the config's at the next start.
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {writeFileAtomicallySync} from '../atomic-file.js'
import type {AclTokens} from './acl-config.js'

/** The kinds /v1/agent/token/<kind> takes, with Consul's legacy spellings. */
export const AGENT_TOKEN_KINDS: Readonly<Record<string, keyof AclTokens>> = {
  default: 'default', agent: 'agent', agent_recovery: 'agentRecovery', agent_master: 'agentRecovery',
  acl_token: 'default', acl_agent_token: 'agent', acl_agent_master_token: 'agentRecovery',
  replication: 'replication', acl_replication_token: 'replication',
}

/** Consul's file name and its JSON field names (persistedTokens). */
export const TOKENS_FILE = 'acl-tokens.json'
const FILE_FIELDS: ReadonlyArray<[string, keyof AclTokens]> = [
  ['agent', 'agent'], ['agent_recovery', 'agentRecovery'], ['agent_master', 'agentRecovery'], ['default', 'default'], ['replication', 'replication'],
]

export class AgentTokens {
  #tokens: Record<keyof AclTokens, string>
  /** Tokens set through the API: the ones persisted. */
  readonly #fromApi: Partial<Record<keyof AclTokens, string>> = {}
  readonly #file: string | undefined

  /** `persistDir`: the data dir when enable_token_persistence is on; throws naming the file when it cannot be read. */
  constructor(initial: AclTokens, persistDir?: string) {
    this.#tokens = {...initial}
    this.#file = persistDir === undefined ? undefined : join(persistDir, TOKENS_FILE)
    if (this.#file && existsSync(this.#file)) {
      for (const [kind, secret] of Object.entries(readTokensFile(this.#file)) as Array<[keyof AclTokens, string]>) {
        this.#tokens[kind] = secret
        this.#fromApi[kind] = secret
      }
    }
  }

  get(kind: keyof AclTokens): string {
    return this.#tokens[kind]
  }

  /** Sets a token (API); with persistence it is on disk before this returns (throws when it cannot be). */
  set(kind: keyof AclTokens, secret: string): void {
    if (this.#file) {
      const next = {...this.#fromApi, [kind]: secret}
      writeTokensFile(this.#file, next)
      this.#fromApi[kind] = secret
    }
    this.#tokens[kind] = secret
  }
}

function readTokensFile(path: string): Partial<Record<keyof AclTokens, string>> {
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new Error(`failed to load tokens file ${JSON.stringify(path)}: ${(error as Error).message}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`failed to load tokens file ${JSON.stringify(path)}: not a JSON object`)
  const out: Partial<Record<keyof AclTokens, string>> = {}
  for (const [field, kind] of FILE_FIELDS) {
    const value = (parsed as Record<string, unknown>)[field]
    if (value === undefined || value === '') continue
    if (typeof value !== 'string') throw new Error(`failed to load tokens file ${JSON.stringify(path)}: ${field} is not a string`)
    out[kind] = value
  }
  return out
}

/** tmp (created 0600), fsync, rename: a crash leaves the old file or the new, never half of one. */
function writeTokensFile(path: string, tokens: Partial<Record<keyof AclTokens, string>>): void {
  const body: Record<string, string> = {}
  for (const [field, kind] of FILE_FIELDS) if (tokens[kind] !== undefined && field !== 'agent_master') body[field] = tokens[kind]!
  writeFileAtomicallySync(path, JSON.stringify(body), 0o600)
}
