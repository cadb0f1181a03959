import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {formatFlag, wantsJson} from '../../../lib/cli/format-flag.js'
import {clientFlags} from '../../../lib/cli/http-flags.js'
import {boolFlag, stringFlag} from '../../../lib/cli/flags.js'
import * as acl from '../../../lib/api/acl.js'
import * as render from '../../../lib/cli/acl-render.js'
import {identityFlags, policyLinkFlags, readAclLinks, roleLinkFlags} from '../../../lib/cli/acl-links.js'

export default class AclTokenCreate extends BaseCommand {
  static description = 'Creates a new ACL token.'
  static usage = 'acl token create [options]'
  static examples = ['coord acl token create -description "app" -policy-name app-kv']
  static flags = {...clientFlags, ...formatFlag, description: stringFlag({description: 'A description of the token.'}),
    ...policyLinkFlags('token'),
    ...roleLinkFlags('token'),
    ...identityFlags('token'),
    'expires-ttl': stringFlag({description: 'Duration after which the token expires, e.g. "1h" (at least 1m).'}),
    local: boolFlag({description: 'Create this as a datacenter-local token.'}),
    accessor: stringFlag({description: 'A UUID to use as the token accessor ID (generated when omitted).'}),
    secret: stringFlag({description: 'A UUID to use as the token secret ID (generated when omitted).'})}

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(AclTokenCreate.flags)
    if (args.length > 0) throw new CommandError(`Too many arguments (expected 0, got ${args.length})`)
    const json = wantsJson(flags.format)
    const client = await this.api()
    const {policies, roles, serviceIdentities, nodeIdentities} = readAclLinks(flags)
    const token = await acl.tokenCreate(client, {
      Description: flags.description, Policies: policies, Roles: roles, ServiceIdentities: serviceIdentities, NodeIdentities: nodeIdentities,
      Local: flags.local, ...(flags['expires-ttl'] ? {ExpirationTTL: flags['expires-ttl']} : {}),
      ...(flags.accessor ? {AccessorID: flags.accessor} : {}), ...(flags.secret ? {SecretID: flags.secret} : {}),
    }).catch((error: Error) => { throw new CommandError(`Failed to create new token: ${error.message}`, {cause: error}) })
    if (json) return this.printJson(token)
    this.io.out(render.renderToken(token).join('\n'))
  }
}
