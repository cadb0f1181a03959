import {agentReload} from '../lib/api/agent-local.js'
import {BaseCommand} from '../lib/cli/base-command.js'
import {CommandError} from '../lib/cli/errors.js'
import {clientFlags} from '../lib/cli/http-flags.js'

export default class Reload extends BaseCommand {
  static description = 'Causes the agent to reload its configuration files (services, checks, watches, log level), as SIGHUP does. A broken file is refused with its reason and the running configuration stays.'
  static usage = 'reload [options]'
  static examples = ['coord reload', 'coord reload -http-addr=10.0.0.2:8500']
  static flags = {...clientFlags}

  protected async run(): Promise<void> {
    this.parse(Reload.flags)
    const client = await this.api()
    await agentReload(client).catch((error: Error) => {
      throw new CommandError(`Error reloading: ${error.message}`, {cause: error})
    })
    this.io.out('Configuration reload triggered')
  }
}
