import {keyringInstall, keyringList, keyringRemove, keyringUse, type KeyringResponseInfo} from '../lib/api/operator.js'
import {BaseCommand} from '../lib/cli/base-command.js'
import {CommandError, FlagError} from '../lib/cli/errors.js'
import {boolFlag, intFlag, stringFlag} from '../lib/cli/flags.js'
import {clientFlags} from '../lib/cli/http-flags.js'

export default class Keyring extends BaseCommand {
  static description = 'Manages encryption keys used for gossip messages. Gossip encryption is optional. When enabled, this command may be used to examine active encryption keys in the cluster, add new keys, and remove old ones. When combined, this functionality provides the ability to perform key rotation cluster-wide, without disrupting the cluster. All variations of the keyring command return 0 if all nodes reply and there are no errors. If any node fails to reply or reports failure, the exit code will be 1.'
  static usage = 'keyring [options]'
  static examples = ['coord keyring -list', 'coord keyring -install="$(coord keygen)"', 'coord keyring -use=<key>', 'coord keyring -remove=<old key>']
  static flags = {
    ...clientFlags,
    install: stringFlag({description: 'Install a new encryption key. This will broadcast the new key to all members in the cluster.'}),
    use: stringFlag({description: 'Change the primary encryption key, which is used to encrypt messages. The key must already be installed before this operation can succeed.'}),
    remove: stringFlag({description: 'Remove the given key from the cluster. This operation may only be performed on keys which are not currently the primary key.'}),
    list: boolFlag({description: 'List all keys currently in use within the cluster.'}),
    'list-primary': boolFlag({description: 'List all primary keys currently in use within the cluster.'}),
    'relay-factor': intFlag({description: 'Setting this to a non-zero value will cause nodes to relay their response to the operation through this many randomly-chosen other nodes in the cluster. The maximum allowed value is 5.'}),
    'local-only': boolFlag({description: 'Setting this to true will force the keyring query to only hit local servers (no WAN traffic). This flag can only be set for list queries.'}),
  }

  protected async run(): Promise<void> {
    const {flags} = this.parse(Keyring.flags)
    const actions = [flags.list, flags['list-primary'], flags.install !== '', flags.use !== '', flags.remove !== ''].filter(Boolean).length
    if (actions === 0) throw new FlagError('Error: one of -list, -list-primary, -install, -use or -remove is required')
    if (actions > 1) throw new CommandError('Only a single action is allowed')
    const relayFactor = flags['relay-factor']
    if (relayFactor < 0 || relayFactor > 5) throw new CommandError('Error parsing relay factor: Relay factor must be in range: [0, 5]')
    const listing = flags.list || flags['list-primary']
    if (flags['local-only'] && !listing) throw new CommandError('Error validating local-only: local-only can only be set for list requests')
    const client = await this.api()
    const failed = (error: Error): never => {
      throw new CommandError(`error: ${error.message}`, {cause: error})
    }
    if (listing) {
      this.io.out(flags.list ? '==> Gathering installed encryption keys...' : '==> Gathering installed primary encryption keys...')
      const responses = await keyringList(client, {relayFactor, localOnly: flags['local-only']}).catch(failed)
      for (const response of responses) for (const line of renderPool(response, flags.list ? response.Keys : response.PrimaryKeys)) this.io.out(line)
      return
    }
    const opts = {relayFactor}
    if (flags.install !== '') {
      this.io.out('==> Installing new gossip encryption key...')
      await keyringInstall(client, flags.install, opts).catch(failed)
    } else if (flags.use !== '') {
      this.io.out('==> Changing primary gossip encryption key...')
      await keyringUse(client, flags.use, opts).catch(failed)
    } else {
      this.io.out('==> Removing gossip encryption key...')
      await keyringRemove(client, flags.remove, opts).catch(failed)
    }
  }
}

/** Consul's formatResponse: a blank line, the pool's name, its messages, then `  <key> [n/N]` per key. */
export function renderPool(response: KeyringResponseInfo, keys: Record<string, number>): string[] {
  let pool = response.WAN ? 'WAN' : `${response.Datacenter} (LAN)`
  if (response.Segment) pool += ` [${response.Segment}]`
  const lines = ['', `${pool}:`]
  for (const [from, message] of Object.entries(response.Messages ?? {})) lines.push(`  ===> ${from}: ${message}`)
  for (const [key, count] of Object.entries(keys ?? {})) lines.push(`  ${key} [${count}/${response.NumNodes}]`)
  return lines
}
