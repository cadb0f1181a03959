import {kvGet, kvKeys, kvList} from '../../lib/api/kv.js'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {CommandError} from '../../lib/cli/errors.js'
import {boolFlag, stringFlag} from '../../lib/cli/flags.js'
import {formatFlag, wantsJson} from '../../lib/cli/format-flag.js'
import {stripLeadingSlash} from '../../lib/cli/go-compat.js'
import {clientFlags, serverFlags} from '../../lib/cli/http-flags.js'
import {kvPairJson, renderDetailed} from '../../lib/cli/kv-render.js'

export default class KvGet extends BaseCommand {
  static description = 'Retrieves the value from Consul\'s key-value store at the given key name. If no key exists with that name, an error is returned. If a key exists with that name but has no data, nothing is returned. A key name or prefix is required.'
  static usage = 'kv get [options] [KEY_OR_PREFIX]'
  static examples = ['coord kv get foo', 'coord kv get -detailed foo', 'coord kv get -recurse foo/', 'coord kv get -keys -separator=/ foo/']
  static flags = {
    ...clientFlags, ...serverFlags, ...formatFlag,
    base64: boolFlag({description: 'Base64 encode the value. The default value is false.'}),
    detailed: boolFlag({description: 'Provide additional metadata about the key in addition to the value such as the ModifyIndex and any flags that may have been set on the key. The default value is false.'}),
    keys: boolFlag({description: 'List keys which start with the given prefix, but not their values. This is especially useful if you only need the key names themselves. This option is commonly combined with the -separator option. The default value is false.'}),
    recurse: boolFlag({description: 'Recursively look at all keys prefixed with the given path. The default value is false.'}),
    separator: stringFlag({description: 'String to use as a separator between keys. The default value is "/", but this option is only taken into account when paired with the -keys flag.', default: '/'}),
  }

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(KvGet.flags)
    const json = wantsJson(flags.format)
    if (args.length > 1) throw new CommandError(`Too many arguments (expected 1, got ${args.length})`)
    const key = stripLeadingSlash(args[0] ?? '')
    if (key === '' && !(flags.recurse || flags.keys)) throw new CommandError('Error! Missing KEY argument')
    const client = await this.api()
    const q = {stale: flags.stale}
    const querying = (error: unknown): CommandError => new CommandError(`Error querying Consul agent: ${(error as Error).message}`, {cause: error})
    if (flags.keys) {
      const {keys} = await kvKeys(client, key, flags.separator, q).catch((e) => { throw querying(e) })
      if (json) await this.printJson(keys)
      else for (const k of keys) this.io.out(k)
      return
    }
    if (flags.recurse) {
      const {pairs} = await kvList(client, key, q).catch((e) => { throw querying(e) })
      if (json) return this.printJson(pairs.map(kvPairJson))
      pairs.forEach((pair, i) => {
        if (flags.detailed) {
          this.writeLine(renderDetailed(pair, flags.base64))
          if (i < pairs.length - 1) this.io.out('')
        } else {
          this.writeLine(Buffer.concat([Buffer.from(`${pair.key}:`), flags.base64 ? Buffer.from(pair.value.toString('base64')) : pair.value]))
        }
      })
      return
    }
    const {pair} = await kvGet(client, key, q).catch((e) => { throw querying(e) })
    if (pair === null) throw new CommandError(`Error! No key exists at: ${key}`)
    if (json) await this.printJson(kvPairJson(pair))
    else if (flags.detailed) this.writeLine(renderDetailed(pair, flags.base64))
    else this.writeLine(flags.base64 ? Buffer.from(pair.value.toString('base64')) : pair.value)
  }

  private writeLine(bytes: Buffer): void {
    this.io.write(Buffer.concat([bytes, Buffer.from('\n')]))
  }
}
