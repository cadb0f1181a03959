import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {formatFlag, wantsJson} from '../../../lib/cli/format-flag.js'
import {clientFlags} from '../../../lib/cli/http-flags.js'
import {stringFlag} from '../../../lib/cli/flags.js'
import * as acl from '../../../lib/api/acl.js'
import * as render from '../../../lib/cli/acl-render.js'

export default class AclTokenClone extends BaseCommand {
  static description = 'Clones an ACL token: a new accessor and secret with the same policies, roles and identities.'
  static usage = 'acl token clone [options] -id TOKEN_ID'
  static examples = ['coord acl token clone -id 986193f2-... -description "copy"']
  static flags = {...clientFlags, ...formatFlag, id: stringFlag({description: 'The accessor ID of the token to clone.'}),
    description: stringFlag({description: 'A description of the new token (default: the original\'s).'})}

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(AclTokenClone.flags)
    if (args.length > 0) throw new CommandError(`Too many arguments (expected 0, got ${args.length})`)
    const json = wantsJson(flags.format)
    const client = await this.api()
    if (flags.id === '') throw new CommandError('Cannot clone a token without specifying the -id parameter')
    const token = await acl.tokenClone(client, flags.id, flags.description).catch((error: Error) => { throw new CommandError(`Error cloning token: ${error.message}`, {cause: error}) })
    if (json) return this.printJson(token)
    this.io.out('Token cloned successfully.')
    this.io.out(render.renderToken(token).join('\n'))
  }
}
