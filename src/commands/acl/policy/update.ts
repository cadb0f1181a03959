import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {formatFlag, wantsJson} from '../../../lib/cli/format-flag.js'
import {clientFlags} from '../../../lib/cli/http-flags.js'
import {listFlag, stringFlag} from '../../../lib/cli/flags.js'
import * as acl from '../../../lib/api/acl.js'
import * as render from '../../../lib/cli/acl-render.js'
import {readDataArg} from '../../../lib/cli/kv-input.js'

export default class AclPolicyUpdate extends BaseCommand {
  static description = 'Updates an ACL policy; fields not given keep their values.'
  static usage = 'acl policy update [options] -id POLICY_ID | -name NAME'
  static examples = ['coord acl policy update -name app-kv -rules @app.hcl']
  static flags = {...clientFlags, ...formatFlag, id: stringFlag({description: 'The ID of the policy to update.'}),
    name: stringFlag({description: 'The name of the policy to update (with -id: its new name).'}),
    description: stringFlag({description: 'A new description.'}),
    rules: stringFlag({description: 'New rules, inline, as @file, or - for stdin.'}),
    'valid-datacenter': listFlag({description: 'Datacenter where the policy is valid (replaces the list). May be given multiple times.'})}

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(AclPolicyUpdate.flags)
    if (args.length > 0) throw new CommandError(`Too many arguments (expected 0, got ${args.length})`)
    const json = wantsJson(flags.format)
    const client = await this.api()
    if (flags.id === '' && flags.name === '') throw new CommandError('Must specify either the -id or -name parameters')
    const found = await (flags.id !== '' ? acl.policyRead(client, flags.id) : acl.policyReadByName(client, flags.name)).catch((error: Error) => { throw new CommandError(`Error reading policy: ${error.message}`, {cause: error}) })
    const rules = flags.rules === '' ? found.Rules ?? '' : (await readDataArg(flags.rules, this.io)).toString('utf8')
    const policy = await acl.policyUpdate(client, {
      ID: found.ID, Name: flags.id !== '' && flags.name !== '' ? flags.name : found.Name,
      Description: flags.description !== '' ? flags.description : found.Description, Rules: rules,
      Datacenters: flags['valid-datacenter'].length ? flags['valid-datacenter'] : (found.Datacenters ?? []),
    }).catch((error: Error) => { throw new CommandError(`Failed to update policy ${found.ID}: ${error.message}`, {cause: error}) })
    if (json) return this.printJson(policy)
    this.io.out(render.renderPolicy(policy).join('\n'))
  }
}
