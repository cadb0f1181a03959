import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {formatFlag, wantsJson} from '../../../lib/cli/format-flag.js'
import {clientFlags} from '../../../lib/cli/http-flags.js'
import {stringFlag} from '../../../lib/cli/flags.js'
import * as acl from '../../../lib/api/acl.js'
import * as render from '../../../lib/cli/acl-render.js'

export default class AclRoleRead extends BaseCommand {
  static description = 'Reads an ACL role by ID or name.'
  static usage = 'acl role read [options] -id ROLE_ID | -name NAME'
  static examples = ['coord acl role read -name web']
  static flags = {...clientFlags, ...formatFlag, id: stringFlag({description: 'The ID of the role to read.'}),
    name: stringFlag({description: 'The name of the role to read.'})}

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(AclRoleRead.flags)
    if (args.length > 0) throw new CommandError(`Too many arguments (expected 0, got ${args.length})`)
    const json = wantsJson(flags.format)
    const client = await this.api()
    if (flags.id === '' && flags.name === '') throw new CommandError('Must specify either the -id or -name parameters')
    const found = await (flags.id !== '' ? acl.roleRead(client, flags.id) : acl.roleReadByName(client, flags.name)).catch((error: Error) => { throw new CommandError(`Error reading role: ${error.message}`, {cause: error}) })
    if (json) return this.printJson(found)
    this.io.out(render.renderRole(found).join('\n'))
  }
}
