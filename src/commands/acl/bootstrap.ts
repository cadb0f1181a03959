import {BaseCommand} from '../../lib/cli/base-command.js'
import {CommandError} from '../../lib/cli/errors.js'
import {formatFlag, wantsJson} from '../../lib/cli/format-flag.js'
import {clientFlags} from '../../lib/cli/http-flags.js'
import * as acl from '../../lib/api/acl.js'
import * as render from '../../lib/cli/acl-render.js'

export default class AclBootstrap extends BaseCommand {
  static description = 'Bootstraps the ACL system and creates the initial management token (answered once per cluster).'
  static usage = 'acl bootstrap [options]'
  static examples = ['coord acl bootstrap']
  static flags = {...clientFlags, ...formatFlag}

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(AclBootstrap.flags)
    if (args.length > 0) throw new CommandError(`Too many arguments (expected 0, got ${args.length})`)
    const json = wantsJson(flags.format)
    const client = await this.api()
    const token = await acl.aclBootstrap(client).catch((error: Error) => { throw new CommandError(`Failed ACL bootstrapping: ${error.message}`, {cause: error}) })
    if (json) return this.printJson(token)
    this.io.out(render.renderToken(token).join('\n'))
  }
}
