import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {formatFlag, wantsJson} from '../../../lib/cli/format-flag.js'
import {clientFlags} from '../../../lib/cli/http-flags.js'
import {stringFlag} from '../../../lib/cli/flags.js'
import * as acl from '../../../lib/api/acl.js'

export default class AclTokenDelete extends BaseCommand {
  static description = 'Deletes an ACL token.'
  static usage = 'acl token delete [options] -id TOKEN_ID'
  static examples = ['coord acl token delete -id 986193f2-...']
  static flags = {...clientFlags, ...formatFlag, id: stringFlag({description: 'The accessor ID of the token to delete.'})}

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(AclTokenDelete.flags)
    if (args.length > 0) throw new CommandError(`Too many arguments (expected 0, got ${args.length})`)
    const json = wantsJson(flags.format)
    const client = await this.api()
    if (flags.id === '') throw new CommandError('Must specify the -id parameter')
    await acl.tokenDelete(client, flags.id).catch((error: Error) => { throw new CommandError(`Error deleting token "${flags.id}": ${error.message}`, {cause: error}) })
    if (json) return this.printJson(true)
    this.io.out(`Token "${flags.id}" deleted successfully`)
  }
}
