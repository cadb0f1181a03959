import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {formatFlag, wantsJson} from '../../../lib/cli/format-flag.js'
import {clientFlags} from '../../../lib/cli/http-flags.js'
import {stringFlag} from '../../../lib/cli/flags.js'
import * as acl from '../../../lib/api/acl.js'

export default class AclPolicyDelete extends BaseCommand {
  static description = 'Deletes an ACL policy by ID or name.'
  static usage = 'acl policy delete [options] -id POLICY_ID | -name NAME'
  static examples = ['coord acl policy delete -name app-kv']
  static flags = {...clientFlags, ...formatFlag, id: stringFlag({description: 'The ID of the policy to delete.'}),
    name: stringFlag({description: 'The name of the policy to delete.'})}

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(AclPolicyDelete.flags)
    if (args.length > 0) throw new CommandError(`Too many arguments (expected 0, got ${args.length})`)
    const json = wantsJson(flags.format)
    const client = await this.api()
    if (flags.id === '' && flags.name === '') throw new CommandError('Must specify either the -id or -name parameters')
    const found = await (flags.id !== '' ? acl.policyRead(client, flags.id) : acl.policyReadByName(client, flags.name)).catch((error: Error) => { throw new CommandError(`Error reading policy: ${error.message}`, {cause: error}) })
    await acl.policyDelete(client, found.ID).catch((error: Error) => { throw new CommandError(`Error deleting policy "${found.ID}": ${error.message}`, {cause: error}) })
    if (json) return this.printJson(true)
    this.io.out(`Policy "${found.ID}" deleted successfully`)
  }
}
