// Snapshot archives in Consul's layout (hashicorp/consul snapshot/archive.go), so coord's and
// Consul's files are interchangeable at the container level: a gzip'd tar holding
//   meta.json   raft's SnapshotMeta as JSON (ID "<term>-<index>-<unix ms>", Index, Term, Size, Version)
//   state.bin   the state machine's snapshot bytes (coord: StateMachine.snapshot(); Consul: its FSM stream)
//   SHA256SUMS  `<hex sha256>  <name>` lines for meta.json and state.bin
// Bytes in, bytes out: no agent code and no file I/O here, so the CLI (`snapshot inspect`, `save`'s
// verify) and the agent's /v1/snapshot both use it. Reading verifies every checksum and refuses
// anything else in the tar, as Consul's read() does; errors are SnapshotArchiveError with Consul's
// wording ("failed to read snapshot file: failed checking integrity of snapshot: ...").
import {createHash} from 'node:crypto'
import {promisify} from 'node:util'
import {gunzip, gzip} from 'node:zlib'
import tar from 'tar-stream'
import {CoordError} from '../errors.js'

/** Largest archive (compressed, and its uncompressed tar) accepted: a guard against gzip bombs. */
export const SNAPSHOT_MAX_BYTES = 1024 * 1024 * 1024

const gzipAsync = promisify(gzip)
const gunzipAsync = promisify(gunzip)

/** hashicorp/raft's SnapshotMeta as it is written to meta.json (Consul keeps Go's field names). */
export interface SnapshotMeta {
  Version: number
  ID: string
  Index: number
  Term: number
  Configuration?: {Servers: Array<{Suffrage: number; ID: string; Address: string}>}
  ConfigurationIndex?: number
  Size: number
  /** Other fields a Consul-written meta.json carries (Peers, ...), kept as read. */
  [extra: string]: unknown
}

export interface SnapshotArchive {
  meta: SnapshotMeta
  state: Buffer
}

/** The archive is damaged or not a snapshot; the message says what is wrong. */
export class SnapshotArchiveError extends CoordError {
  constructor(message: string, cause?: unknown) {
    super('SNAPSHOT_ARCHIVE', message, {httpStatus: 400, cause})
    this.name = 'SnapshotArchiveError'
  }
}

/** raft's snapshot ID: `<term>-<index>-<unix ms>`. */
export function snapshotId(term: number, index: number, nowMs: number): string {
  return `${term}-${index}-${nowMs}`
}

export interface WriteOptions {
  index: number
  term: number
  /** Wall clock for the ID and the tar entries' mtime. */
  nowMs: number
  /** Voters as raft records them (Suffrage 0 = voter). */
  servers?: Array<{id: string; address: string}>
  configurationIndex?: number
}

/** Builds the gzip'd tar for `state` (the state machine's snapshot bytes). */
export async function writeArchive(state: Uint8Array, opts: WriteOptions): Promise<Buffer> {
  const meta: SnapshotMeta = {
    Version: 1,
    ID: snapshotId(opts.term, opts.index, opts.nowMs),
    Index: opts.index,
    Term: opts.term,
    Configuration: {Servers: (opts.servers ?? []).map((s) => ({Suffrage: 0, ID: s.id, Address: s.address}))},
    ConfigurationIndex: opts.configurationIndex ?? 0,
    Size: state.length,
  }
  // Go's json.Encoder ends the document with a newline.
  const metaBytes = Buffer.from(`${JSON.stringify(meta)}\n`)
  const stateBytes = Buffer.from(state.buffer, state.byteOffset, state.length)
  const sums = Buffer.from(`${sha256(metaBytes)}  meta.json\n${sha256(stateBytes)}  state.bin\n`)
  const pack = tar.pack()
  const mtime = new Date(opts.nowMs)
  const chunks: Buffer[] = []
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Buffer)
  })()
  for (const [name, body] of [['meta.json', metaBytes], ['state.bin', stateBytes], ['SHA256SUMS', sums]] as const) {
    await new Promise<void>((resolve, reject) => {
      pack.entry({name, mode: 0o600, size: body.length, mtime}, body, (error) => (error ? reject(error) : resolve()))
    })
  }
  pack.finalize()
  await collected
  return gzipAsync(Buffer.concat(chunks))
}

/** Unpacks and verifies an archive; throws SnapshotArchiveError naming the problem. */
export async function readArchive(archive: Uint8Array): Promise<SnapshotArchive> {
  let tarBytes: Buffer
  try {
    tarBytes = await gunzipAsync(archive, {maxOutputLength: SNAPSHOT_MAX_BYTES})
  } catch (error) {
    throw new SnapshotArchiveError(`failed to decompress snapshot: ${gzipReason(error)}`, error)
  }
  const fail = (reason: string, cause?: unknown): never => {
    throw new SnapshotArchiveError(`failed to read snapshot file: ${reason}`, cause)
  }
  const files = new Map<string, Buffer>()
  try {
    const extract = tar.extract()
    const done = (async () => {
      for await (const entry of extract) {
        const name = entry.header.name
        const parts: Buffer[] = []
        for await (const chunk of entry) parts.push(chunk as Buffer)
        if (name !== 'meta.json' && name !== 'state.bin' && name !== 'SHA256SUMS') throw new SnapshotArchiveError(`failed to read snapshot file: unexpected file "${name}" in snapshot`)
        files.set(name, Buffer.concat(parts))
      }
    })()
    extract.end(tarBytes)
    await done
  } catch (error) {
    if (error instanceof SnapshotArchiveError) throw error
    fail(`failed reading snapshot: ${(error as Error).message}`, error)
  }
  const metaBytes = files.get('meta.json')
  const state = files.get('state.bin')
  let meta: SnapshotMeta | undefined
  if (metaBytes !== undefined) {
    try {
      meta = JSON.parse(metaBytes.toString('utf8')) as SnapshotMeta
    } catch (error) {
      fail(`failed to decode snapshot metadata: ${(error as Error).message}`, error)
    }
    if (meta === null || typeof meta !== 'object' || typeof meta.Index !== 'number' || typeof meta.Term !== 'number' || typeof meta.ID !== 'string') {
      fail('failed to decode snapshot metadata: meta.json lacks ID, Index or Term')
    }
  }
  verifySums(files.get('SHA256SUMS') ?? Buffer.alloc(0), {'meta.json': metaBytes ?? Buffer.alloc(0), 'state.bin': state ?? Buffer.alloc(0)}, fail)
  if (meta === undefined) return fail('failed to decode snapshot metadata: no meta.json in snapshot')
  if (state === undefined) return fail('no state.bin in snapshot')
  return {meta, state}
}

/** Consul's hashList.DecodeAndVerify: every listed name must be known and match; both must be listed. */
function verifySums(sums: Buffer, hashes: Record<string, Buffer>, fail: (reason: string) => never): void {
  const seen = new Set<string>()
  for (const line of sums.toString('utf8').split('\n')) {
    if (line === '') continue
    const match = /^([0-9a-fA-F]+) {2}(\S+)$/.exec(line)
    if (!match) fail(`failed checking integrity of snapshot: bad SHA256SUMS line ${JSON.stringify(line)}`)
    const [, hex, file] = match!
    if (!(file in hashes)) fail(`failed checking integrity of snapshot: list missing hash for "${file}"`)
    if (hex.toLowerCase() !== sha256(hashes[file])) fail(`failed checking integrity of snapshot: hash check failed for "${file}"`)
    seen.add(file)
  }
  for (const file of Object.keys(hashes)) {
    if (!seen.has(file)) fail(`failed checking integrity of snapshot: file missing for "${file}"`)
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

/** Go's gzip reader words: "gzip: invalid header", "unexpected EOF". */
function gzipReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'Z_DATA_ERROR') return 'gzip: invalid header'
  if (code === 'Z_BUF_ERROR') return 'unexpected EOF'
  if (code === 'ERR_BUFFER_TOO_LARGE') return `uncompressed snapshot exceeds ${SNAPSHOT_MAX_BYTES} bytes`
  return (error as Error).message
}
