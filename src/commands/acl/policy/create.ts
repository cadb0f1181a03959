import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {formatFlag, wantsJson} from '../../../lib/cli/format-flag.js'
import {clientFlags} from '../../../lib/cli/http-flags.js'
import {listFlag, stringFlag} from '../../../lib/cli/flags.js'
import * as acl from '../../../lib/api/acl.js'
import * as render from '../../../lib/cli/acl-render.js'
import {readDataArg} from '../../../lib/cli/kv-input.js'

export default class AclPolicyCreate extends BaseCommand {
  static description = 'Creates a new ACL policy.'
  static usage = 'acl policy create -name NAME [options]'
  static examples = ['coord acl policy create -name app-kv -rules \'key_prefix "app/" { policy = "write" }\'', 'coord acl policy create -name app-kv -rules @app.hcl']
  static flags = {...clientFlags, ...formatFlag, name: stringFlag({description: 'The new policy\'s name. Required.'}),
    description: stringFlag({description: 'A description of the policy.'}),
    rules: stringFlag({description: 'The policy rules, inline, as @file, or - for stdin.'}),
    'valid-datacenter': listFlag({description: 'Datacenter where the policy is valid. May be given multiple times (default: all).'})}

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(AclPolicyCreate.flags)
    if (args.length > 0) throw new CommandError(`Too many arguments (expected 0, got ${args.length})`)
    const json = wantsJson(flags.format)
    const client = await this.api()
    if (flags.name === '') throw new CommandError('Missing required \'-name\' flag')
    const rules = flags.rules === '' ? '' : (await readDataArg(flags.rules, this.io)).toString('utf8')
    const policy = await acl.policyCreate(client, {Name: flags.name, Description: flags.description, Rules: rules, Datacenters: flags['valid-datacenter']}).catch((error: Error) => { throw new CommandError(`Failed to create new policy: ${error.message}`, {cause: error}) })
    if (json) return this.printJson(policy)
    this.io.out(render.renderPolicy(policy).join('\n'))
  }
}
