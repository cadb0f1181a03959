// The agent's log file (log_file, -log-file) with Consul's rotation (logging/logfile.go): the active
// file keeps its name; when it holds log_rotate_bytes or is log_rotate_duration old, it is renamed
// to <name>-<unix nanoseconds><ext> and a new one is opened; log_rotate_max_files archives are kept
// (0: all, -1: none), the oldest removed first. A path ending in / is a directory holding consul.log.
// Writes are synchronous: a line is on disk before the next one is formatted, so a crash loses none.
import {closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync} from 'node:fs'
import {basename, dirname, extname, join} from 'node:path'
import type {LogFileSettings} from './config.js'

export class LogFile {
  readonly #dir: string
  readonly #name: string
  #fd: number | undefined
  #bytes = 0
  #createdAt = 0
  #lastArchive = 0n

  constructor(private readonly settings: LogFileSettings, private readonly now: () => number = Date.now) {
    const isDir = settings.path.endsWith('/')
    this.#dir = isDir ? settings.path : dirname(settings.path)
    this.#name = isDir ? 'consul.log' : basename(settings.path)
    mkdirSync(this.#dir, {recursive: true})
    this.#open()
  }

  /** The active file's path. */
  get path(): string {
    return join(this.#dir, this.#name)
  }

  write(line: string): void {
    if (this.#fd === undefined) return
    this.#rotateIfDue()
    const bytes = Buffer.from(`${line}\n`)
    writeSync(this.#fd, bytes)
    this.#bytes += bytes.length
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd)
    this.#fd = undefined
  }

  #open(): void {
    this.#fd = openSync(this.path, 'a', 0o640)
    // An existing file is appended to, as Consul's: its bytes count toward the limit.
    this.#bytes = statSync(this.path).size
    this.#createdAt = this.now()
  }

  #rotateIfDue(): void {
    const {rotateBytes, rotateDurationMs} = this.settings
    const full = rotateBytes > 0 && this.#bytes >= rotateBytes
    const old = rotateDurationMs > 0 && this.now() - this.#createdAt >= rotateDurationMs
    if (!full && !old) return
    this.close()
    const ext = extname(this.#name) || '.log'
    const stem = this.#name.slice(0, this.#name.length - extname(this.#name).length)
    // Unix nanoseconds, strictly increasing so archives sort in the order they were made.
    const nanos = BigInt(this.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n
    this.#lastArchive = nanos > this.#lastArchive ? nanos : this.#lastArchive + 1n
    renameSync(this.path, join(this.#dir, `${stem}-${this.#lastArchive}${ext}`))
    this.#prune(stem, ext)
    this.#open()
  }

  #prune(stem: string, ext: string): void {
    const keep = this.settings.rotateMaxFiles
    if (keep === 0) return
    const archives = readdirSync(this.#dir).filter((name) => name.startsWith(`${stem}-`) && name.endsWith(ext)).sort()
    const remove = keep < 0 ? archives : archives.slice(0, Math.max(0, archives.length - keep))
    for (const name of remove) rmSync(join(this.#dir, name), {force: true})
  }
}
