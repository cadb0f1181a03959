import {autopilotServerState} from '../../../lib/api/operator.js'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {formatFlag, wantsJson} from '../../../lib/cli/format-flag.js'
import {clientFlags, serverFlags} from '../../../lib/cli/http-flags.js'
import {renderAutopilotState} from '../../../lib/cli/operator-render.js'

export default class OperatorAutopilotState extends BaseCommand {
  static description = 'Displays the current Autopilot state: health, failure tolerance and each server\'s status.'
  static usage = 'operator autopilot state [options]'
  static examples = ['coord operator autopilot state', 'coord operator autopilot state -format=json']
  static flags = {...clientFlags, ...serverFlags, ...formatFlag}

  protected async run(): Promise<void> {
    const {flags} = this.parse(OperatorAutopilotState.flags)
    const client = await this.api()
    const state = await autopilotServerState(client, {stale: flags.stale}).catch((error: Error) => {
      throw new CommandError(`Error querying Autopilot state: ${error.message}`, {cause: error})
    })
    if (wantsJson(flags.format)) return this.printJson(state)
    this.io.out(renderAutopilotState(state).join('\n'))
  }
}
