import {kvPut} from '../../lib/api/kv.js'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {CommandError} from '../../lib/cli/errors.js'
import {boolFlag, stringFlag, uint64Flag} from '../../lib/cli/flags.js'
import {decodeBase64Std, stripLeadingSlash} from '../../lib/cli/go-compat.js'
import {clientFlags, serverFlags} from '../../lib/cli/http-flags.js'
import {readDataArg} from '../../lib/cli/kv-input.js'

export default class KvPut extends BaseCommand {
  static description = 'Writes the data to the given path in the key-value store. The data can be of any type. DATA may be given literally, as @path to read a file, or as - to read stdin.'
  static usage = 'kv put [options] KEY [DATA]'
  static examples = ['coord kv put redis/config/connections 5', 'coord kv put -flags=42 foo bar', 'coord kv put -cas -modify-index=123 foo bar', 'coord kv put foo @data.json', 'echo 5 | coord kv put foo -']
  static flags = {
    ...clientFlags, ...serverFlags,
    acquire: boolFlag({description: 'Obtain a lock on the key. If the key does not exist, this will create the key and obtain the lock. The session must already exist and be specified via the -session flag. The default value is false.'}),
    base64: boolFlag({description: 'Treat the data as base 64 encoded. The default value is false.'}),
    cas: boolFlag({description: 'Perform a Check-And-Set operation. Specifying this value also requires the -modify-index flag to be set. The default value is false.'}),
    flags: uint64Flag({description: 'Unsigned integer value to assign to this key-value pair. This value is not read by Consul, so clients can use this value however makes sense for their use case. The default value is 0.'}),
    'modify-index': uint64Flag({description: 'Unsigned integer representing the ModifyIndex of the key. This is used in combination with the -cas flag.'}),
    release: boolFlag({description: 'Forfeit the lock on the key at the given path. This requires the -session flag to be set. The key must be held by the session in order to be unlocked. The default value is false.'}),
    session: stringFlag({description: 'User-defined identifer for this session as a string. This is commonly used with the -acquire and -release operations to build robust locking, but it can be set on any key. The default value is empty (no session).'}),
  }

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(KvPut.flags)
    if (args.length === 0) throw new CommandError('Error! Missing KEY argument')
    if (args.length > 2) throw new CommandError(`Error! Too many arguments (expected 1 or 2, got ${args.length})`)
    const key = stripLeadingSlash(args[0])
    let value = args.length === 2 && args[1] !== '' ? await readDataArg(args[1], this.io) : Buffer.alloc(0)
    if (flags.base64) {
      try {
        value = decodeBase64Std(value.toString('utf8'))
      } catch (error) {
        throw new CommandError(`Error! Cannot base 64 decode data: ${(error as Error).message}`)
      }
    }
    if ((flags.release || flags.acquire) && flags.session === '') throw new CommandError('Error! Missing -session (required with -acquire and -release)')
    if (flags.cas && flags['modify-index'] === '0') throw new CommandError('Must specify -modify-index with -cas!')
    const client = await this.api()
    const base = {flags: flags.flags}
    const failed = (message: string) => (error: unknown): never => { throw new CommandError(message.replace('%s', (error as Error).message), {cause: error}) }
    if (flags.cas) {
      const ok = await kvPut(client, key, value, {...base, cas: flags['modify-index']}).catch(failed(`Error! Did not write to ${key}: %s`))
      if (!ok) throw new CommandError(`Error! Did not write to ${key}: CAS failed`)
      this.io.out(`Success! Data written to: ${key}`)
    } else if (flags.acquire) {
      const ok = await kvPut(client, key, value, {...base, acquire: flags.session}).catch(failed('Error! Failed writing data: %s'))
      if (!ok) throw new CommandError('Error! Did not acquire lock')
      this.io.out(`Success! Lock acquired on: ${key}`)
    } else if (flags.release) {
      // Consul prints the key, not the error, here (Consul docs: commands/kv).
      const ok = await kvPut(client, key, value, {...base, release: flags.session}).catch(failed(`Error! Failed writing data: ${key}`))
      if (!ok) throw new CommandError('Error! Did not release lock')
      this.io.out(`Success! Lock released on: ${key}`)
    } else {
      await kvPut(client, key, value, base).catch(failed('Error! Failed writing data: %s'))
      this.io.out(`Success! Data written to: ${key}`)
    }
  }
}
