import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {formatFlag, wantsJson} from '../../../lib/cli/format-flag.js'
import {clientFlags} from '../../../lib/cli/http-flags.js'
import {boolFlag, stringFlag} from '../../../lib/cli/flags.js'
import * as acl from '../../../lib/api/acl.js'
import * as render from '../../../lib/cli/acl-render.js'

export default class AclTokenRead extends BaseCommand {
  static description = 'Reads an ACL token by accessor ID, or the token in use with -self.'
  static usage = 'acl token read [options] -id TOKEN_ID'
  static examples = ['coord acl token read -id 986193f2-...', 'coord acl token read -self']
  static flags = {...clientFlags, ...formatFlag, id: stringFlag({description: 'The accessor ID of the token to read.'}),
    self: boolFlag({description: 'Read the token used by this request (the one -token or CONSUL_HTTP_TOKEN names).'})}

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(AclTokenRead.flags)
    if (args.length > 0) throw new CommandError(`Too many arguments (expected 0, got ${args.length})`)
    const json = wantsJson(flags.format)
    const client = await this.api()
    if (!flags.self && flags.id === '') throw new CommandError('Must specify the -id parameter')
    const token = await (flags.self ? acl.tokenReadSelf(client) : acl.tokenRead(client, flags.id)).catch((error: Error) => { throw new CommandError(`Error reading token: ${error.message}`, {cause: error}) })
    if (json) return this.printJson(token)
    this.io.out(render.renderToken(token).join('\n'))
  }
}
