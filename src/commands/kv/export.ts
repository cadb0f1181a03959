import {kvList} from '../../lib/api/kv.js'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {CommandError} from '../../lib/cli/errors.js'
import {stripLeadingSlash} from '../../lib/cli/go-compat.js'
import {clientFlags, serverFlags} from '../../lib/cli/http-flags.js'
import {renderExport} from '../../lib/cli/kv-render.js'

export default class KvExport extends BaseCommand {
  static description = 'Retrieves key-value pairs for the given prefix from Consul\'s key-value store, and writes a JSON representation to stdout. This can be used with the command "coord kv import" to move entire trees between Consul clusters.'
  static usage = 'kv export [options] [PREFIX]'
  static examples = ['coord kv export', 'coord kv export vault/ > vault.json']
  static flags = {...clientFlags, ...serverFlags}

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(KvExport.flags)
    if (args.length > 1) throw new CommandError(`Too many arguments (expected 1, got ${args.length})`)
    const client = await this.api()
    const {pairs} = await kvList(client, stripLeadingSlash(args[0] ?? ''), {stale: flags.stale}).catch((error: Error) => {
      throw new CommandError(`Error querying Consul agent: ${error.message}`, {cause: error})
    })
    this.io.out(renderExport(pairs))
  }
}
