import {BaseCommand} from '../lib/cli/base-command.js'
import {CommandError} from '../lib/cli/errors.js'
import {stringFlag} from '../lib/cli/flags.js'
import {buildDate, packageInfo} from '../lib/cli/package-info.js'
import {stringifyJson} from '../lib/json.js'

/** RPC protocol versions coord speaks (Consul's layout; scripts parse the layout, not the name). */
const RPC = {Default: 2, Min: 2, Max: 3}

export default class Version extends BaseCommand {
  static description = 'Prints the version of coord and the protocol versions it speaks.'
  static usage = 'version [options]'
  static examples = ['coord version', 'coord version -format=json']
  static flags = {
    format: stringFlag({description: 'Output format. Valid options: pretty, json.', default: 'pretty', helpValue: '<pretty|json>'}),
  }

  protected async run(): Promise<void> {
    const {flags} = this.parse(Version.flags)
    const {version} = packageInfo()
    const date = buildDate()
    if (flags.format === 'json') {
      this.io.out(stringifyJson({Version: version, Revision: '', Prerelease: '', BuildDate: date, RPC}, '   '))
      return
    }
    if (flags.format !== 'pretty') throw new CommandError(`Unknown format: ${flags.format}`)
    const supplement = RPC.Default < RPC.Max ? ` (agent will automatically use protocol >${RPC.Default} when speaking to compatible agents)` : ''
    this.io.out([
      `coord v${version}`,
      `Build Date ${date}`,
      `Protocol ${RPC.Default} spoken by default, understands ${RPC.Min} to ${RPC.Max}${supplement}`,
      '',
    ].join('\n'))
  }
}
