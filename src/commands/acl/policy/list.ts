import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {formatFlag, wantsJson} from '../../../lib/cli/format-flag.js'
import {clientFlags} from '../../../lib/cli/http-flags.js'
import * as acl from '../../../lib/api/acl.js'
import * as render from '../../../lib/cli/acl-render.js'

export default class AclPolicyList extends BaseCommand {
  static description = 'Lists all ACL policies.'
  static usage = 'acl policy list [options]'
  static examples = ['coord acl policy list']
  static flags = {...clientFlags, ...formatFlag}

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(AclPolicyList.flags)
    if (args.length > 0) throw new CommandError(`Too many arguments (expected 0, got ${args.length})`)
    const json = wantsJson(flags.format)
    const client = await this.api()
    const policies = await acl.policyList(client).catch((error: Error) => { throw new CommandError(`Failed to retrieve the policy list: ${error.message}`, {cause: error}) })
    if (json) return this.printJson(policies)
    this.io.out(render.renderPolicyList(policies).join('\n'))
  }
}
