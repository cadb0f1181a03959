import {kvDelete} from '../../lib/api/kv.js'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {CommandError} from '../../lib/cli/errors.js'
import {boolFlag, uint64Flag} from '../../lib/cli/flags.js'
import {stripLeadingSlash} from '../../lib/cli/go-compat.js'
import {clientFlags, serverFlags} from '../../lib/cli/http-flags.js'

export default class KvDelete extends BaseCommand {
  static description = 'Removes the value from Consul\'s key-value store at the given path. If no key exists at the path, no action is taken.'
  static usage = 'kv delete [options] KEY_OR_PREFIX'
  static examples = ['coord kv delete foo', 'coord kv delete -recurse foo/', 'coord kv delete -cas -modify-index=123 foo']
  static flags = {
    ...clientFlags, ...serverFlags,
    cas: boolFlag({description: 'Perform a Check-And-Set operation. Specifying this value also requires the -modify-index flag to be set. The default value is false.'}),
    'modify-index': uint64Flag({description: 'Unsigned integer representing the ModifyIndex of the key. This is used in combination with the -cas flag.'}),
    recurse: boolFlag({description: 'Recursively delete all keys with the path. The default value is false.'}),
  }

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(KvDelete.flags)
    if (args.length > 1) throw new CommandError(`Too many arguments (expected 1, got ${args.length})`)
    const key = stripLeadingSlash(args[0] ?? '')
    const index = flags['modify-index']
    if (key === '' && !flags.recurse) throw new CommandError('Error! Missing KEY argument')
    if (flags.cas && index === '0') throw new CommandError('Cannot delete a key that does not exist. Provide a -modify-index greater than than 0.')
    if (index !== '0' && !flags.cas) throw new CommandError('Cannot specify -modify-index without -cas!')
    if (flags.cas && flags.recurse) throw new CommandError('Cannot specify both -cas and -recurse!')
    const client = await this.api()
    const failed = (message: string) => (error: unknown): never => { throw new CommandError(`${message}: ${(error as Error).message}`, {cause: error}) }
    if (flags.recurse) {
      await kvDelete(client, key, {recurse: true}).catch(failed(`Error! Did not delete prefix ${key}`))
      this.io.out(`Success! Deleted keys with prefix: ${key}`)
    } else if (flags.cas) {
      const ok = await kvDelete(client, key, {cas: index}).catch(failed(`Error! Did not delete key ${key}`))
      if (!ok) throw new CommandError(`Error! Did not delete key ${key}: CAS failed`)
      this.io.out(`Success! Deleted key: ${key}`)
    } else {
      await kvDelete(client, key).catch(failed(`Error deleting key ${key}`))
      this.io.out(`Success! Deleted key: ${key}`)
    }
  }
}
