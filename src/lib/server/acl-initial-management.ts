// acl.tokens.initial_management: the leader makes sure a management token with that secret exists,
// as Consul's leader does when it initializes ACLs (agent/consul/leader.go initializeACLs): as the
// bootstrap when the cluster was never bootstrapped (so /v1/acl/bootstrap is then refused), else as
// a plain token write. Once the token exists nothing is written again. The secret is never logged.
import {randomUUID} from 'node:crypto'
import type {Consensus} from '../consensus.js'
import type {Logger} from '../logger.js'
import type {StateMachine} from '../state/state-machine.js'
import {GLOBAL_MANAGEMENT_POLICY_ID, type AclResult, type AclTokenInput} from '../state/acl.js'

/** Attempts per leadership term (a lost leadership mid-way tries again at the next one). */
const ATTEMPTS = 5

export async function ensureInitialManagement(raft: Consensus, state: StateMachine, secret: string, log: Logger): Promise<void> {
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    if (!raft.isLeader()) return
    try {
      // What this leader's state says is current once everything committed before its term is applied.
      await raft.readBarrier('consistent', 0)
      if (state.acl.tokenBySecret(secret)) return
      const token: AclTokenInput = {
        AccessorID: randomUUID(), SecretID: secret, Description: 'Initial Management Token',
        Policies: [{ID: GLOBAL_MANAGEMENT_POLICY_ID}], Roles: [], ServiceIdentities: [], NodeIdentities: [],
        Local: false, CreateTime: new Date().toISOString(), Hash: '',
      }
      const bootstrap = state.acl.bootstrapIndex === 0
      const {result} = await raft.propose({type: 'acl', now: Date.now(), op: bootstrap ? {op: 'bootstrap', token} : {op: 'token-set', token, create: true}})
      const outcome = result as AclResult
      if (outcome.ok) {
        log.info(bootstrap ? 'Bootstrapped ACL initial management token from configuration' : 'Created ACL initial management token from configuration', {accessor: token.AccessorID})
        return
      }
      // Another leader's write (or a bootstrap) got there first: look again.
      log.debug('initial management token not written, looking again', {reason: outcome.error})
    } catch (error) {
      log.warn('failed to create the ACL initial management token; trying again', {attempt, error: (error as Error).message})
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt))
    }
  }
  log.error('gave up creating the ACL initial management token (acl.tokens.initial_management) for this leadership term')
}
