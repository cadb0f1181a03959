import {agentSelf} from '../lib/api/agent.js'
import {BaseCommand} from '../lib/cli/base-command.js'
import {CommandError} from '../lib/cli/errors.js'
import {formatFlag, wantsJson} from '../lib/cli/format-flag.js'
import {clientFlags} from '../lib/cli/http-flags.js'

export default class Info extends BaseCommand {
  static description = 'Provides debugging information for operators. The output is grouped by section (agent, build, consul, raft, runtime, serf_lan, serf_wan), each key = value sorted by name.'
  static usage = 'info [options]'
  static examples = ['coord info', 'coord info -format=json']
  static flags = {...clientFlags, ...formatFlag}

  protected async run(): Promise<void> {
    const {flags} = this.parse(Info.flags)
    const json = wantsJson(flags.format)
    const client = await this.api()
    const self = await agentSelf(client).catch((error: Error) => {
      throw new CommandError(`Error querying agent: ${error.message}`, {cause: error})
    })
    const stats = self?.Stats ?? {}
    if (json) return this.printJson(stats)
    for (const section of Object.keys(stats).sort()) {
      this.io.out(`${section}:`)
      const values = stats[section] ?? {}
      for (const key of Object.keys(values).sort()) this.io.out(`\t${key} = ${values[key]}`)
    }
  }
}
