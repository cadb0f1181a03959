import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {formatFlag, wantsJson} from '../../../lib/cli/format-flag.js'
import {clientFlags} from '../../../lib/cli/http-flags.js'
import {stringFlag} from '../../../lib/cli/flags.js'
import * as acl from '../../../lib/api/acl.js'
import * as render from '../../../lib/cli/acl-render.js'
import {identityFlags, policyLinkFlags, readAclLinks} from '../../../lib/cli/acl-links.js'

export default class AclRoleCreate extends BaseCommand {
  static description = 'Creates a new ACL role.'
  static usage = 'acl role create -name NAME [options]'
  static examples = ['coord acl role create -name web -policy-name app-kv -service-identity web']
  static flags = {...clientFlags, ...formatFlag, name: stringFlag({description: 'The new role\'s name. Required.'}),
    description: stringFlag({description: 'A description of the role.'}),
    ...policyLinkFlags('role'),
    ...identityFlags('role')}

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(AclRoleCreate.flags)
    if (args.length > 0) throw new CommandError(`Too many arguments (expected 0, got ${args.length})`)
    const json = wantsJson(flags.format)
    const client = await this.api()
    if (flags.name === '') throw new CommandError('Missing required \'-name\' flag')
    const {policies, serviceIdentities, nodeIdentities} = readAclLinks(flags)
    const role = await acl.roleCreate(client, {Name: flags.name, Description: flags.description, Policies: policies, ServiceIdentities: serviceIdentities, NodeIdentities: nodeIdentities}).catch((error: Error) => { throw new CommandError(`Failed to create new role: ${error.message}`, {cause: error}) })
    if (json) return this.printJson(role)
    this.io.out(render.renderRole(role).join('\n'))
  }
}
