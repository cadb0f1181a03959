import {raftTransferLeader} from '../../../lib/api/operator.js'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {stringFlag} from '../../../lib/cli/flags.js'
import {clientFlags, serverFlags} from '../../../lib/cli/http-flags.js'

export default class OperatorRaftTransferLeader extends BaseCommand {
  static description = 'Transfer raft leadership to another node: the server with -id, or any other voter.'
  static usage = 'operator raft transfer-leader [options]'
  static examples = ['coord operator raft transfer-leader', 'coord operator raft transfer-leader -id=<server id>']
  static flags = {
    ...clientFlags, ...serverFlags,
    id: stringFlag({description: 'The ID of the node to transfer leadership to.', helpValue: '<server id>'}),
  }

  protected async run(): Promise<void> {
    const {flags} = this.parse(OperatorRaftTransferLeader.flags)
    const client = await this.api()
    // Consul's wording, spelling included ("transfering").
    const failed = (detail: string, cause?: unknown): CommandError => new CommandError(`Error transfering leadership: Failed to transfer leadership${detail}`, {cause})
    const ok = await raftTransferLeader(client, flags.id, {stale: flags.stale}).catch((error: Error) => {
      throw failed(` ${error.message}`, error)
    })
    if (!ok) throw failed('')
    this.io.out('Success')
  }
}
