import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {formatFlag, wantsJson} from '../../../lib/cli/format-flag.js'
import {clientFlags} from '../../../lib/cli/http-flags.js'
import {boolFlag, stringFlag} from '../../../lib/cli/flags.js'
import * as acl from '../../../lib/api/acl.js'
import * as render from '../../../lib/cli/acl-render.js'
import {identityFlags, policyLinkFlags, readAclLinks, roleLinkFlags, updatedList} from '../../../lib/cli/acl-links.js'

export default class AclTokenUpdate extends BaseCommand {
  static description = "Updates an ACL token: the given lists replace the token's, or are added to them with the -merge-* flags."
  static usage = 'acl token update [options] -id TOKEN_ID'
  static examples = ['coord acl token update -id 986193f2-... -policy-name other']
  static flags = {...clientFlags, ...formatFlag, id: stringFlag({description: 'The accessor ID of the token to update.'}),
    description: stringFlag({description: 'A description of the token.'}),
    ...policyLinkFlags('token'),
    ...roleLinkFlags('token'),
    ...identityFlags('token'),
    'merge-policies': boolFlag({description: 'Add the given policies to the token\'s instead of replacing them.'}),
    'merge-roles': boolFlag({description: 'Add the given roles to the token\'s instead of replacing them.'}),
    'merge-service-identities': boolFlag({description: 'Add the given service identities to the token\'s instead of replacing them.'}),
    'merge-node-identities': boolFlag({description: 'Add the given node identities to the token\'s instead of replacing them.'})}

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(AclTokenUpdate.flags)
    if (args.length > 0) throw new CommandError(`Too many arguments (expected 0, got ${args.length})`)
    const json = wantsJson(flags.format)
    const client = await this.api()
    if (flags.id === '') throw new CommandError('Cannot update a token without specifying the -id parameter')
    const current = await acl.tokenRead(client, flags.id).catch((error: Error) => { throw new CommandError(`Error when retrieving current token: ${error.message}`, {cause: error}) })
    const {policies, roles, serviceIdentities, nodeIdentities} = readAclLinks(flags)
    const token = await acl.tokenUpdate(client, {
      AccessorID: current.AccessorID,
      Description: flags.description !== '' ? flags.description : current.Description,
      Policies: updatedList(policies, current.Policies, flags['merge-policies']),
      Roles: updatedList(roles, current.Roles, flags['merge-roles']),
      ServiceIdentities: updatedList(serviceIdentities, current.ServiceIdentities, flags['merge-service-identities']),
      NodeIdentities: updatedList(nodeIdentities, current.NodeIdentities, flags['merge-node-identities']),
      Local: current.Local,
    }).catch((error: Error) => { throw new CommandError(`Failed to update token ${flags.id}: ${error.message}`, {cause: error}) })
    if (json) return this.printJson(token)
    this.io.out('Token updated successfully.')
    this.io.out(render.renderToken(token).join('\n'))
  }
}
