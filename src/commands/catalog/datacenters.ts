import {catalogDatacenters} from '../../lib/api/catalog.js'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {CommandError} from '../../lib/cli/errors.js'
import {clientFlags} from '../../lib/cli/http-flags.js'

export default class CatalogDatacenters extends BaseCommand {
  static description = 'Outputs the list of all known datacenters, sorted by estimated distance from this agent.'
  static usage = 'catalog datacenters [options]'
  static examples = ['coord catalog datacenters']
  static flags = {...clientFlags}

  protected async run(): Promise<void> {
    const {args} = this.parse(CatalogDatacenters.flags)
    if (args.length > 0) throw new CommandError(`Too many arguments (expected 0, got ${args.length})`)
    const client = await this.api()
    const dcs = await catalogDatacenters(client).catch((error: Error) => {
      throw new CommandError(`Error listing datacenters: ${error.message}`, {cause: error})
    })
    if (dcs.length === 0) throw new CommandError('No datacenters found')
    for (const dc of dcs) this.io.out(dc)
  }
}
