import {raftGetConfiguration} from '../../../lib/api/operator.js'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {formatFlag, wantsJson} from '../../../lib/cli/format-flag.js'
import {clientFlags, serverFlags} from '../../../lib/cli/http-flags.js'
import {renderPeers} from '../../../lib/cli/operator-render.js'
import {palette} from '../../../lib/cli/terminal.js'

export default class OperatorRaftListPeers extends BaseCommand {
  static description = 'Displays the current Raft peer configuration. With -stale, any server answers (useful when there is no leader).'
  static usage = 'operator raft list-peers [options]'
  static examples = ['coord operator raft list-peers', 'coord operator raft list-peers -stale', 'coord operator raft list-peers -format=json']
  static flags = {...clientFlags, ...serverFlags, ...formatFlag}

  protected async run(): Promise<void> {
    const {flags} = this.parse(OperatorRaftListPeers.flags)
    const json = wantsJson(flags.format)
    const client = await this.api()
    const config = await raftGetConfiguration(client, {stale: flags.stale}).catch((error: Error) => {
      throw new CommandError(`Error getting peers: Failed to retrieve raft configuration: ${error.message}`, {cause: error})
    })
    if (json) return this.printJson(config)
    const {status} = await palette(this.io)
    this.io.out(renderPeers(config, status).join('\n'))
  }
}
