import {snapshotRestore} from '../../lib/api/snapshot.js'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {CommandError} from '../../lib/cli/errors.js'
import {readFileGo} from '../../lib/cli/go-compat.js'
import {clientFlags, serverFlags} from '../../lib/cli/http-flags.js'
import {withSpinner} from '../../lib/cli/terminal.js'

export default class SnapshotRestore extends BaseCommand {
  static description = 'Restores an atomic, point-in-time snapshot of the state of the Consul servers which includes key/value entries, service catalog, prepared queries, sessions, and ACLs. The restore is one replicated write: every server swaps its state at the same log index.'
  static usage = 'snapshot restore [options] FILE'
  static examples = ['coord snapshot restore backup.snap']
  static flags = {...clientFlags, ...serverFlags}

  protected async run(): Promise<void> {
    const {args} = this.parse(SnapshotRestore.flags)
    if (args.length === 0) throw new CommandError('Missing FILE argument')
    if (args.length > 1) throw new CommandError(`Too many arguments (expected 1, got ${args.length})`)
    const client = await this.api()
    const archive = await readFileGo(args[0]).catch((error: Error) => {
      throw new CommandError(`Error opening snapshot file: ${error.message}`, {cause: error})
    })
    await withSpinner(this.io, 'Restoring snapshot', () => snapshotRestore(client, archive).catch((error: Error) => {
      throw new CommandError(`Error restoring snapshot: ${error.message}`, {cause: error})
    }))
    this.io.out('Restored snapshot')
  }
}
