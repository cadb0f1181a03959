import {agentJoin} from '../lib/api/agent.js'
import {BaseCommand} from '../lib/cli/base-command.js'
import {CommandError, FlagError} from '../lib/cli/errors.js'
import {boolFlag} from '../lib/cli/flags.js'
import {clientFlags} from '../lib/cli/http-flags.js'

export default class Join extends BaseCommand {
  static description = 'Tells a running agent to join the cluster by contacting the given addresses (host, or host:port with the serf LAN port, 8301 when omitted).'
  static usage = 'join [options] address ...'
  static examples = ['coord join 10.0.0.2', 'coord join 10.0.0.2:8301 10.0.0.3']
  static flags = {
    ...clientFlags,
    wan: boolFlag({description: 'Joins a server to another server in the WAN pool.'}),
  }

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(Join.flags)
    if (args.length === 0) throw new FlagError('At least one address to join must be specified.\n')
    const client = await this.api()
    let joined = 0
    for (const address of args) {
      try {
        await agentJoin(client, address, {wan: flags.wan})
        joined++
      } catch (error) {
        this.io.err(`Error joining address '${address}': ${(error as Error).message}`)
      }
    }
    if (joined === 0) throw new CommandError('Failed to join any nodes.')
    this.io.out(`Successfully joined cluster by contacting ${joined} nodes.`)
  }
}
