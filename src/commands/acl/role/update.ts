import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {formatFlag, wantsJson} from '../../../lib/cli/format-flag.js'
import {clientFlags} from '../../../lib/cli/http-flags.js'
import {stringFlag} from '../../../lib/cli/flags.js'
import * as acl from '../../../lib/api/acl.js'
import * as render from '../../../lib/cli/acl-render.js'
import {identityFlags, policyLinkFlags, readAclLinks, updatedList} from '../../../lib/cli/acl-links.js'

export default class AclRoleUpdate extends BaseCommand {
  static description = "Updates an ACL role; lists given replace the role's."
  static usage = 'acl role update [options] -id ROLE_ID | -name NAME'
  static examples = ['coord acl role update -name web -policy-name other']
  static flags = {...clientFlags, ...formatFlag, id: stringFlag({description: 'The ID of the role to update.'}),
    name: stringFlag({description: 'The name of the role to update.'}),
    description: stringFlag({description: 'A description of the role.'}),
    ...policyLinkFlags('role'),
    ...identityFlags('role')}

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(AclRoleUpdate.flags)
    if (args.length > 0) throw new CommandError(`Too many arguments (expected 0, got ${args.length})`)
    const json = wantsJson(flags.format)
    const client = await this.api()
    if (flags.id === '' && flags.name === '') throw new CommandError('Must specify either the -id or -name parameters')
    const found = await (flags.id !== '' ? acl.roleRead(client, flags.id) : acl.roleReadByName(client, flags.name)).catch((error: Error) => { throw new CommandError(`Error reading role: ${error.message}`, {cause: error}) })
    const {policies, serviceIdentities, nodeIdentities} = readAclLinks(flags)
    const role = await acl.roleUpdate(client, {
      ID: found.ID, Name: found.Name, Description: flags.description !== '' ? flags.description : found.Description,
      Policies: updatedList(policies, found.Policies),
      ServiceIdentities: updatedList(serviceIdentities, found.ServiceIdentities),
      NodeIdentities: updatedList(nodeIdentities, found.NodeIdentities),
    }).catch((error: Error) => { throw new CommandError(`Failed to update role ${found.ID}: ${error.message}`, {cause: error}) })
    if (json) return this.printJson(role)
    this.io.out(render.renderRole(role).join('\n'))
  }
}
