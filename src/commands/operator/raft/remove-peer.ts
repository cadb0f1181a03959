import {raftRemovePeer} from '../../../lib/api/operator.js'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {stringFlag} from '../../../lib/cli/flags.js'
import {clientFlags, serverFlags} from '../../../lib/cli/http-flags.js'

export default class OperatorRaftRemovePeer extends BaseCommand {
  static description = 'Remove the Consul server with given -address (or -id) from the Raft configuration. If the server still shows in the output of "coord members", prefer "coord force-leave".'
  static usage = 'operator raft remove-peer [options]'
  static examples = ['coord operator raft remove-peer -id=<server id>', 'coord operator raft remove-peer -address=10.0.0.2:8300']
  static flags = {
    ...clientFlags, ...serverFlags,
    address: stringFlag({description: 'The address to remove from the Raft configuration.', helpValue: '<ip:port>'}),
    id: stringFlag({description: 'The ID to remove from the Raft configuration.', helpValue: '<server id>'}),
  }

  protected async run(): Promise<void> {
    const {flags} = this.parse(OperatorRaftRemovePeer.flags)
    const removing = (message: string, cause?: unknown): CommandError => new CommandError(`Error removing peer: ${message}`, {cause})
    if (flags.address === '' && flags.id === '') throw removing('an address or id is required for the peer to remove')
    if (flags.address !== '' && flags.id !== '') throw removing('cannot give both an address and id')
    const client = await this.api()
    await raftRemovePeer(client, flags.address !== '' ? {address: flags.address} : {id: flags.id}).catch((error: Error) => {
      throw removing(error.message, error)
    })
    this.io.out(flags.address !== '' ? `Removed peer with address ${JSON.stringify(flags.address)}` : `Removed peer with id ${JSON.stringify(flags.id)}`)
  }
}
