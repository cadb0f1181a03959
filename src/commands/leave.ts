import {agentLeave} from '../lib/api/agent.js'
import {BaseCommand} from '../lib/cli/base-command.js'
import {CommandError, EXIT} from '../lib/cli/errors.js'
import {clientFlags} from '../lib/cli/http-flags.js'
import {withSpinner} from '../lib/cli/terminal.js'

export default class Leave extends BaseCommand {
  static description = 'Causes the agent to gracefully leave the cluster and shut down: peers see it "left", not "failed".'
  static usage = 'leave [options]'
  static examples = ['coord leave', 'coord leave -http-addr=10.0.0.2:8500']
  static flags = {...clientFlags}

  protected async run(): Promise<void> {
    const {args} = this.parse(Leave.flags)
    if (args.length > 0) {
      this.io.err(`Error found unexpected args: [${args.join(' ')}]`)
      this.io.out(await this.usageText())
      throw new CommandError('', {exitCode: EXIT.error})
    }
    const client = await this.api()
    await withSpinner(this.io, 'Leaving the cluster', () => agentLeave(client).catch((error: Error) => {
      throw new CommandError(`Error leaving: ${error.message}`, {cause: error})
    }))
    this.io.out('Graceful leave complete')
  }
}
