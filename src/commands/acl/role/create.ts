import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {formatFlag, wantsJson} from '../../../lib/cli/format-flag.js'
import {clientFlags} from '../../../lib/cli/http-flags.js'
import {listFlag, stringFlag} from '../../../lib/cli/flags.js'
import * as acl from '../../../lib/api/acl.js'
import * as render from '../../../lib/cli/acl-render.js'

export default class AclRoleCreate extends BaseCommand {
  static description = 'Creates a new ACL role.'
  static usage = 'acl role create -name NAME [options]'
  static examples = ['coord acl role create -name web -policy-name app-kv -service-identity web']
  static flags = {...clientFlags, ...formatFlag, name: stringFlag({description: 'The new role\'s name. Required.'}),
    description: stringFlag({description: 'A description of the role.'}),
    'policy-id': listFlag({description: 'ID of a policy to use for this role. May be given multiple times.'}),
    'policy-name': listFlag({description: 'Name of a policy to use for this role. May be given multiple times.'}),
    'service-identity': listFlag({description: 'Name of a service identity to use for this role, optionally followed by :dc1,dc2. May be given multiple times.'}),
    'node-identity': listFlag({description: 'Name of a node identity to use for this role, as node:datacenter. May be given multiple times.'})}

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(AclRoleCreate.flags)
    if (args.length > 0) throw new CommandError(`Too many arguments (expected 0, got ${args.length})`)
    const json = wantsJson(flags.format)
    const client = await this.api()
    if (flags.name === '') throw new CommandError('Missing required \'-name\' flag')
    let serviceIdentities: ReturnType<typeof render.parseServiceIdentity>[]
    let nodeIdentities: ReturnType<typeof render.parseNodeIdentity>[]
    try {
      serviceIdentities = flags['service-identity'].map(render.parseServiceIdentity)
      nodeIdentities = flags['node-identity'].map(render.parseNodeIdentity)
    } catch (error) {
      throw new CommandError((error as Error).message)
    }
    const policies = [...flags['policy-id'].map((ID) => ({ID})), ...flags['policy-name'].map((Name) => ({ID: '', Name}))]
    const role = await acl.roleCreate(client, {Name: flags.name, Description: flags.description, Policies: policies, ServiceIdentities: serviceIdentities, NodeIdentities: nodeIdentities}).catch((error: Error) => { throw new CommandError(`Failed to create new role: ${error.message}`, {cause: error}) })
    if (json) return this.printJson(role)
    this.io.out(render.renderRole(role).join('\n'))
  }
}
