import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {formatFlag, wantsJson} from '../../../lib/cli/format-flag.js'
import {clientFlags} from '../../../lib/cli/http-flags.js'
import {boolFlag, listFlag, stringFlag} from '../../../lib/cli/flags.js'
import * as acl from '../../../lib/api/acl.js'
import * as render from '../../../lib/cli/acl-render.js'

export default class AclTokenUpdate extends BaseCommand {
  static description = "Updates an ACL token: the given lists replace the token's, or are added to them with the -merge-* flags."
  static usage = 'acl token update [options] -id TOKEN_ID'
  static examples = ['coord acl token update -id 986193f2-... -policy-name other']
  static flags = {...clientFlags, ...formatFlag, id: stringFlag({description: 'The accessor ID of the token to update.'}),
    description: stringFlag({description: 'A description of the token.'}),
    'policy-id': listFlag({description: 'ID of a policy to use for this token. May be given multiple times.'}),
    'policy-name': listFlag({description: 'Name of a policy to use for this token. May be given multiple times.'}),
    'role-id': listFlag({description: 'ID of a role to use for this token. May be given multiple times.'}),
    'role-name': listFlag({description: 'Name of a role to use for this token. May be given multiple times.'}),
    'service-identity': listFlag({description: 'Name of a service identity to use for this token, optionally followed by :dc1,dc2. May be given multiple times.'}),
    'node-identity': listFlag({description: 'Name of a node identity to use for this token, as node:datacenter. May be given multiple times.'}),
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
    let serviceIdentities: ReturnType<typeof render.parseServiceIdentity>[]
    let nodeIdentities: ReturnType<typeof render.parseNodeIdentity>[]
    try {
      serviceIdentities = flags['service-identity'].map(render.parseServiceIdentity)
      nodeIdentities = flags['node-identity'].map(render.parseNodeIdentity)
    } catch (error) {
      throw new CommandError((error as Error).message)
    }
    const policies = [...flags['policy-id'].map((ID) => ({ID})), ...flags['policy-name'].map((Name) => ({ID: '', Name}))]
    const roles = [...flags['role-id'].map((ID) => ({ID})), ...flags['role-name'].map((Name) => ({ID: '', Name}))]
    const token = await acl.tokenUpdate(client, {
      AccessorID: current.AccessorID,
      Description: flags.description !== '' ? flags.description : current.Description,
      Policies: flags['merge-policies'] ? [...(current.Policies ?? []), ...policies] : policies.length ? policies : (current.Policies ?? []),
      Roles: flags['merge-roles'] ? [...(current.Roles ?? []), ...roles] : roles.length ? roles : (current.Roles ?? []),
      ServiceIdentities: flags['merge-service-identities'] ? [...(current.ServiceIdentities ?? []), ...serviceIdentities] : serviceIdentities.length ? serviceIdentities : (current.ServiceIdentities ?? []),
      NodeIdentities: flags['merge-node-identities'] ? [...(current.NodeIdentities ?? []), ...nodeIdentities] : nodeIdentities.length ? nodeIdentities : (current.NodeIdentities ?? []),
      Local: current.Local,
    }).catch((error: Error) => { throw new CommandError(`Failed to update token ${flags.id}: ${error.message}`, {cause: error}) })
    if (json) return this.printJson(token)
    this.io.out('Token updated successfully.')
    this.io.out(render.renderToken(token).join('\n'))
  }
}
