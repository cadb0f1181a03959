import {basename, dirname, join} from 'node:path'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {CommandError} from '../../lib/cli/errors.js'
import {readFileGo} from '../../lib/cli/go-compat.js'
import {stringifyJson} from '../../lib/json.js'
import {readArchive} from '../../lib/snapshot/archive.js'
import {decodeRecords, goJsonValue} from '../../lib/snapshot/decode.js'

export default class SnapshotDecode extends BaseCommand {
  static description = 'Decodes a snapshot file on disk (coord\'s or Consul\'s archive, or a raw state.bin with its meta.json beside it) and prints its records as line-delimited JSON objects: {"Data": ..., "Type": "SnapshotHeader"}, then one {"Data": ..., "Type": "<type name>"} per record. No agent is needed.'
  static usage = 'snapshot decode [options] FILE'
  static examples = ['coord snapshot decode backup.snap', 'coord snapshot decode backup.snap | jq -c \'select(.Type == "KVS") | .Data.Key\'']
  static flags = {}

  protected async run(): Promise<void> {
    const {args} = this.parse(SnapshotDecode.flags)
    if (args.length === 0) throw new CommandError('Missing FILE argument')
    if (args.length > 1) throw new CommandError(`Too many arguments (expected 1, got ${args.length})`)
    const bytes = await readFileGo(args[0]).catch((error: Error) => {
      throw new CommandError(`Error opening snapshot file: ${error.message}`, {cause: error})
    })
    let meta: unknown
    let state: Uint8Array
    if (basename(args[0]).toLowerCase() === 'state.bin') {
      // A server's raw snapshot (not an archive), as Consul's decode reads one: meta.json beside it.
      const metaPath = join(dirname(args[0]), 'meta.json')
      const metaRaw = await readFileGo(metaPath).catch((error: Error) => {
        throw new CommandError(`Error reading meta.json from internal snapshot dir: ${error.message}`, {cause: error})
      })
      try {
        meta = JSON.parse(Buffer.from(metaRaw).toString('utf8'))
      } catch (error) {
        throw new CommandError(`Error parsing meta.json from internal snapshot dir: ${(error as Error).message}`, {cause: error})
      }
      state = bytes
    } else {
      ({meta, state} = await readArchive(bytes).catch((error: Error) => {
        throw new CommandError(`Error reading snapshot: ${error.message}`, {cause: error})
      }))
    }
    const line = (record: {Data: unknown; Type: string}) => stringifyJson({Data: goJsonValue(record.Data), Type: record.Type}, 0)
    this.io.out(line({Type: 'SnapshotHeader', Data: meta}))
    try {
      for (const record of decodeRecords(state)) this.io.out(line(record))
    } catch (error) {
      throw new CommandError(`Error extracting snapshot data: ${(error as Error).message}`, {cause: error})
    }
  }
}
