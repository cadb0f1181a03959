import {autopilotGetConfiguration} from '../../../lib/api/operator.js'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {clientFlags, serverFlags} from '../../../lib/cli/http-flags.js'
import {renderAutopilotConfig} from '../../../lib/cli/operator-render.js'

export default class OperatorAutopilotGetConfig extends BaseCommand {
  static description = 'Displays the current Autopilot configuration.'
  static usage = 'operator autopilot get-config [options]'
  static examples = ['coord operator autopilot get-config']
  static flags = {...clientFlags, ...serverFlags}

  protected async run(): Promise<void> {
    const {flags} = this.parse(OperatorAutopilotGetConfig.flags)
    const client = await this.api()
    const config = await autopilotGetConfiguration(client, {stale: flags.stale}).catch((error: Error) => {
      throw new CommandError(`Error querying Autopilot configuration: ${error.message}`, {cause: error})
    })
    this.io.out(renderAutopilotConfig(config).join('\n'))
  }
}
