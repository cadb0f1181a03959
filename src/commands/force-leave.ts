import {agentForceLeave} from '../lib/api/agent.js'
import {BaseCommand} from '../lib/cli/base-command.js'
import {CommandError, FlagError} from '../lib/cli/errors.js'
import {boolFlag} from '../lib/cli/flags.js'
import {clientFlags} from '../lib/cli/http-flags.js'

export default class ForceLeave extends BaseCommand {
  static description = 'Forces a member of the cluster to enter the "left" state (a failed node is then no longer reconnected to). With -prune it is removed from the member list at once.'
  static usage = 'force-leave [options] name'
  static examples = ['coord force-leave node-3', 'coord force-leave -prune node-3']
  static flags = {
    ...clientFlags,
    prune: boolFlag({description: 'Remove agent forcibly from list of members.'}),
    wan: boolFlag({description: 'Exclusively leave the agent from the WAN serf pool.'}),
  }

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(ForceLeave.flags)
    if (args.length !== 1) throw new FlagError('A single node name must be specified to force leave.\n')
    const client = await this.api()
    await agentForceLeave(client, args[0], {prune: flags.prune, wan: flags.wan}).catch((error: Error) => {
      throw new CommandError(`Error force leaving: ${error.message}`, {cause: error})
    })
  }
}
