import {BaseCommand} from '../../lib/cli/base-command.js'
import {CommandError} from '../../lib/cli/errors.js'
import {clientFlags} from '../../lib/cli/http-flags.js'
import {setAgentToken} from '../../lib/api/acl.js'

const KINDS = ['default', 'agent', 'recovery', 'agent_recovery', 'replication']

export default class AclSetAgentToken extends BaseCommand {
  static description = 'Updates one of the agent\'s ACL tokens (default, agent, recovery, replication) at run time.'
  static usage = 'acl set-agent-token [options] TYPE TOKEN'
  static examples = ['coord acl set-agent-token default 986193f2-...']
  static flags = {...clientFlags}

  protected async run(): Promise<void> {
    const {args} = this.parse(AclSetAgentToken.flags)
    if (args.length !== 2) throw new CommandError(`Missing TYPE and TOKEN arguments (expected 2, got ${args.length})`)
    const [kind, token] = args
    if (!KINDS.includes(kind)) throw new CommandError(`Unknown token type "${kind}": expected one of ${KINDS.join(', ')}`)
    const client = await this.api()
    // Consul's CLI spells the recovery kind "recovery"; the endpoint's is agent_recovery.
    await setAgentToken(client, kind === 'recovery' ? 'agent_recovery' : kind, token).catch((error: Error) => {
      throw new CommandError(`Failed to set ACL token "${kind}": ${error.message}`, {cause: error})
    })
    this.io.out(`ACL token "${kind}" set successfully`)
  }
}
