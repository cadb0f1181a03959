import {BaseCommand} from '../../lib/cli/base-command.js'
import {CommandError} from '../../lib/cli/errors.js'
import {boolFlag, intFlag, stringFlag} from '../../lib/cli/flags.js'
import {readFileGo} from '../../lib/cli/go-compat.js'
import {inspectOutput, inspectTables, renderInspectJson, renderInspectPretty} from '../../lib/cli/snapshot-render.js'
import {boxTable} from '../../lib/cli/terminal.js'
import {readArchive} from '../../lib/snapshot/archive.js'
import {snapshotStats} from '../../lib/snapshot/stats.js'

export default class SnapshotInspect extends BaseCommand {
  static description = 'Displays information about a snapshot file on disk (coord\'s or Consul\'s): its metadata, and the records it holds by type. No agent is needed.'
  static usage = 'snapshot inspect [options] FILE'
  static examples = ['coord snapshot inspect backup.snap', 'coord snapshot inspect -kvdetails -kvdepth=3 backup.snap', 'coord snapshot inspect -format=json backup.snap']
  static flags = {
    kvdetails: boolFlag({description: 'Provides a detailed KV space usage breakdown for any KV data that\'s been stored.'}),
    kvdepth: intFlag({description: 'Can only be used with -kvdetails. The key prefix depth used to breakdown KV store data. Defaults to 2.', default: 2}),
    kvfilter: stringFlag({description: 'Can only be used with -kvdetails. Limits KV key breakdown using this prefix filter.'}),
    format: stringFlag({description: 'Output format {pretty|json}', default: 'pretty', helpValue: '<pretty|json>'}),
  }

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(SnapshotInspect.flags)
    if (args.length === 0) throw new CommandError('Missing FILE argument')
    if (args.length > 1) throw new CommandError(`Too many arguments (expected 1, got ${args.length})`)
    const bytes = await readFileGo(args[0]).catch((error: Error) => {
      throw new CommandError(`Error opening snapshot file: ${error.message}`, {cause: error})
    })
    const {meta, state} = await readArchive(bytes).catch((error: Error) => {
      throw new CommandError(`Error reading snapshot: ${error.message}`, {cause: error})
    })
    let info
    try {
      info = inspectOutput(meta, snapshotStats(state, {kvDetails: flags.kvdetails, kvDepth: flags.kvdepth, kvFilter: flags.kvfilter}))
    } catch (error) {
      throw new CommandError(`Error extracting snapshot data: ${(error as Error).message}`, {cause: error})
    }
    if (flags.format === 'json') this.io.out(renderInspectJson(info))
    else if (flags.format === 'pretty' && this.io.stdoutIsTTY) {
      // A person reads it: tables. Piped or redirected, Consul's tabwriter layout below.
      const tables = await Promise.all(inspectTables(info).map(([head, rows]) => boxTable(this.io, head, rows)))
      this.io.out(tables.join('\n'))
    } else if (flags.format === 'pretty') this.io.out(renderInspectPretty(info))
    else throw new CommandError(`Error outputting enhanced snapshot data: Unknown format: ${flags.format}`)
  }
}
