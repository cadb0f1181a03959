import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {formatFlag, wantsJson} from '../../../lib/cli/format-flag.js'
import {clientFlags} from '../../../lib/cli/http-flags.js'
import {listFlag, stringFlag} from '../../../lib/cli/flags.js'
import * as acl from '../../../lib/api/acl.js'
import * as render from '../../../lib/cli/acl-render.js'

export default class AclRoleUpdate extends BaseCommand {
  static description = "Updates an ACL role; lists given replace the role's."
  static usage = 'acl role update [options] -id ROLE_ID | -name NAME'
  static examples = ['coord acl role update -name web -policy-name other']
  static flags = {...clientFlags, ...formatFlag, id: stringFlag({description: 'The ID of the role to update.'}),
    name: stringFlag({description: 'The name of the role to update.'}),
    description: stringFlag({description: 'A description of the role.'}),
    'policy-id': listFlag({description: 'ID of a policy to use for this role. May be given multiple times.'}),
    'policy-name': listFlag({description: 'Name of a policy to use for this role. May be given multiple times.'}),
    'service-identity': listFlag({description: 'Name of a service identity to use for this role, optionally followed by :dc1,dc2. May be given multiple times.'}),
    'node-identity': listFlag({description: 'Name of a node identity to use for this role, as node:datacenter. May be given multiple times.'})}

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(AclRoleUpdate.flags)
    if (args.length > 0) throw new CommandError(`Too many arguments (expected 0, got ${args.length})`)
    const json = wantsJson(flags.format)
    const client = await this.api()
    if (flags.id === '' && flags.name === '') throw new CommandError('Must specify either the -id or -name parameters')
    const found = await (flags.id !== '' ? acl.roleRead(client, flags.id) : acl.roleReadByName(client, flags.name)).catch((error: Error) => { throw new CommandError(`Error reading role: ${error.message}`, {cause: error}) })
    let serviceIdentities: ReturnType<typeof render.parseServiceIdentity>[]
    let nodeIdentities: ReturnType<typeof render.parseNodeIdentity>[]
    try {
      serviceIdentities = flags['service-identity'].map(render.parseServiceIdentity)
      nodeIdentities = flags['node-identity'].map(render.parseNodeIdentity)
    } catch (error) {
      throw new CommandError((error as Error).message)
    }
    const policies = [...flags['policy-id'].map((ID) => ({ID})), ...flags['policy-name'].map((Name) => ({ID: '', Name}))]
    const role = await acl.roleUpdate(client, {
      ID: found.ID, Name: found.Name, Description: flags.description !== '' ? flags.description : found.Description,
      Policies: policies.length ? policies : (found.Policies ?? []),
      ServiceIdentities: serviceIdentities.length ? serviceIdentities : (found.ServiceIdentities ?? []),
      NodeIdentities: nodeIdentities.length ? nodeIdentities : (found.NodeIdentities ?? []),
    }).catch((error: Error) => { throw new CommandError(`Failed to update role ${found.ID}: ${error.message}`, {cause: error}) })
    if (json) return this.printJson(role)
    this.io.out(render.renderRole(role).join('\n'))
  }
}
