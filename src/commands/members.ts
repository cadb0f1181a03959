import {agentMembers} from '../lib/api/agent.js'
import {BaseCommand} from '../lib/cli/base-command.js'
import {CommandError, EXIT, SilentExit} from '../lib/cli/errors.js'
import {boolFlag, stringFlag} from '../lib/cli/flags.js'
import {formatFlag, wantsJson} from '../lib/cli/format-flag.js'
import {clientFlags} from '../lib/cli/http-flags.js'
import {palette} from '../lib/cli/terminal.js'
import {renderMembers, renderMembersDetailed, selectMembers} from '../lib/cli/members-render.js'

export default class Members extends BaseCommand {
  static description = 'Outputs the members of a running agent\'s cluster. Exits 2 when no member matches.'
  static usage = 'members [options]'
  static examples = ['coord members', 'coord members -detailed', 'coord members -status=alive', 'coord members -wan', 'coord members -format=json']
  static flags = {
    ...clientFlags, ...formatFlag,
    detailed: boolFlag({description: 'Provides detailed information about nodes.'}),
    status: stringFlag({description: 'If provided, output is filtered to only nodes matching the regular expression for status.', default: '.*'}),
    wan: boolFlag({description: 'If the agent is in server mode, this can be used to return the other peers in the WAN pool.'}),
    segment: stringFlag({description: '(Enterprise-only) If provided, output is filtered to only nodes in the given segment.'}),
    filter: stringFlag({description: 'Filter to use with the request.', helpValue: '<expression>'}),
  }

  protected async run(): Promise<void> {
    const {flags} = this.parse(Members.flags)
    const json = wantsJson(flags.format)
    let statusRe: RegExp
    try {
      statusRe = new RegExp(flags.status)
    } catch (error) {
      throw new CommandError(`Failed to compile status regexp: ${(error as Error).message}`)
    }
    const client = await this.api()
    const members = await agentMembers(client, {wan: flags.wan, segment: flags.segment, filter: flags.filter}).catch((error: Error) => {
      throw new CommandError(`Error retrieving members: ${error.message}`, {cause: error})
    })
    const selected = selectMembers(members, statusRe, flags.segment)
    if (selected.length === 0) throw new SilentExit(EXIT.noMatch, 'MEMBERS_NO_MATCH')
    if (json) return this.printJson(selected)
    const {status} = await palette(this.io)
    for (const line of flags.detailed ? renderMembersDetailed(selected, status) : renderMembers(selected, status)) this.io.out(line)
  }
}
