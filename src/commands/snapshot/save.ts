import {snapshotSave} from '../../lib/api/snapshot.js'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {CommandError} from '../../lib/cli/errors.js'
import {clientFlags, serverFlags} from '../../lib/cli/http-flags.js'
import {saveVerified} from '../../lib/snapshot/file.js'
import {withSpinner} from '../../lib/cli/terminal.js'

export default class SnapshotSave extends BaseCommand {
  static description = 'Retrieves an atomic, point-in-time snapshot of the state of the Consul servers which includes key/value entries, service catalog, prepared queries, sessions, and ACLs. The file is written to FILE.unverified, verified, then renamed to FILE.'
  static usage = 'snapshot save [options] FILE'
  static examples = ['coord snapshot save backup.snap', 'coord snapshot save -stale backup.snap']
  static flags = {...clientFlags, ...serverFlags}

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(SnapshotSave.flags)
    if (args.length === 0) throw new CommandError('Missing FILE argument')
    if (args.length > 1) throw new CommandError(`Too many arguments (expected 1, got ${args.length})`)
    const client = await this.api()
    const {meta} = await withSpinner(this.io, 'Saving snapshot', async () => {
      const saved = await snapshotSave(client, {stale: flags.stale}).catch((error: Error) => {
        throw new CommandError(`Error saving snapshot: ${error.message}`, {cause: error})
      })
      await saveVerified(args[0], saved.archive)
      return saved
    })
    this.io.out(`Saved and verified snapshot to index ${meta.lastIndex}`)
  }
}
