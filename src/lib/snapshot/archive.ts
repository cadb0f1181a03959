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
import {constants as zlibConstants, createGunzip, createGzip} from 'node:zlib'
import {once} from 'node:events'
import {setImmediate} from 'node:timers/promises'
import {pipeline, Readable} from 'node:stream'
import tar from 'tar-stream'
import {CoordError} from '../errors.js'
import type {ChunkReader} from '../handed-bytes.js'

/** Largest archive (compressed, and its uncompressed tar) accepted: a guard against gzip bombs. */
export const SNAPSHOT_MAX_BYTES = 1024 * 1024 * 1024


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

/** The state machine's snapshot bytes as chunks, produced as the archive is read, and their total size. */
export interface ArchiveState {
  chunks: Iterable<Uint8Array>
  /** Bytes the chunks add up to (tar writes it before them); a different total fails the stream. */
  size: number
}

/** Builds the gzip'd tar for `state` (the state machine's snapshot bytes). */
export async function writeArchive(state: Uint8Array, opts: WriteOptions): Promise<Buffer> {
  const out: Buffer[] = []
  for await (const chunk of archiveStream({chunks: [state], size: state.length}, opts)) out.push(chunk as Buffer)
  return Buffer.concat(out)
}

/**
 * The gzip'd tar as a stream: the state's chunks are taken one at a time as the tar reads them
 * (with backpressure, letting the event loop run between chunks) and hashed as they go, and gzip
 * runs on libuv's thread pool beside them, so a large snapshot is never held whole in memory nor
 * holds the event loop for long. SHA256SUMS comes after state.bin in the tar, as in Consul's.
 * Gzip's fastest level: Consul writes its default level, but any level reads back alike, and at a
 * million keys level 6 took three times as long as level 1 for an archive ~10 % smaller.
 */
export function archiveStream(state: ArchiveState, opts: WriteOptions): Readable {
  const meta: SnapshotMeta = {
    Version: 1,
    ID: snapshotId(opts.term, opts.index, opts.nowMs),
    Index: opts.index,
    Term: opts.term,
    Configuration: {Servers: (opts.servers ?? []).map((s) => ({Suffrage: 0, ID: s.id, Address: s.address}))},
    ConfigurationIndex: opts.configurationIndex ?? 0,
    Size: state.size,
  }
  // Go's json.Encoder ends the document with a newline.
  const metaBytes = Buffer.from(`${JSON.stringify(meta)}\n`)
  const pack = tar.pack()
  const gzipped = createGzip({level: zlibConstants.Z_BEST_SPEED})
  // pipeline: a failure on either side reaches the reader, and a reader that goes away ends the tar.
  pipeline(pack, gzipped, () => {})
  const mtime = new Date(opts.nowMs)
  // A reader that goes away (the client hung up) ends the production too, rather than leaving it
  // waiting for a drain that never comes, holding the state's view.
  const gone = new AbortController()
  const readerGone = new Promise<never>((_, reject) => gone.signal.addEventListener('abort', () => reject(new Error('the archive\'s reader went away'))))
  readerGone.catch(() => {})
  gzipped.once('close', () => gone.abort())
  const entry = async (name: string, size: number, parts: Iterable<Uint8Array>, onPart?: (part: Uint8Array) => void): Promise<void> => {
    let sink!: ReturnType<typeof pack.entry>
    const written = new Promise<void>((resolve, reject) => {
      sink = pack.entry({name, mode: 0o600, size, mtime}, (error) => (error ? reject(error) : resolve()))
    })
    // Awaited below; a pack destroyed meanwhile (a failure, the reader gone) must not count as unhandled.
    written.catch(() => {})
    sink.on('error', () => {})
    let total = 0
    for (const part of parts) {
      onPart?.(part)
      total += part.length
      if (total > size) throw new Error(`${name} is longer than the ${size} bytes announced`)
      if (gone.signal.aborted) throw new Error('the archive\'s reader went away')
      if (!sink.write(part)) await once(sink, 'drain', {signal: gone.signal})
      else await setImmediate()
    }
    if (total !== size) throw new Error(`${name} is ${total} bytes, not the ${size} announced`)
    sink.end(Buffer.alloc(0))
    await Promise.race([written, readerGone])
  }
  void (async () => {
    await entry('meta.json', metaBytes.length, [metaBytes])
    const hash = createHash('sha256')
    await entry('state.bin', state.size, state.chunks, (part) => hash.update(part))
    const sums = Buffer.from(`${sha256(metaBytes)}  meta.json\n${hash.digest('hex')}  state.bin\n`)
    await entry('SHA256SUMS', sums.length, [sums])
    pack.finalize()
  })().catch((error: Error) => pack.destroy(error))
  return gzipped
}

/** Unpacks and verifies an archive; throws SnapshotArchiveError naming the problem. */
export async function readArchive(archive: Uint8Array): Promise<SnapshotArchive> {
  // Each file copied once into a buffer of its stated size (a million keys make a state.bin of
  // ~200 MB: neither the tar nor a list of pieces is kept).
  const files = new Map<string, Buffer>()
  await walkArchive(archive, async (name, size, chunks) => {
    const bytes = Buffer.allocUnsafe(size)
    let at = 0
    for await (const piece of chunks) {
      if (at + piece.length > size) throw sizeMismatch(name, 'is longer than its header says')
      piece.copy(bytes, at)
      at += piece.length
    }
    if (at !== size) throw sizeMismatch(name, 'is truncated')
    files.set(name, bytes)
  })
  const state = files.get('state.bin')
  const meta = checkedMeta(files.get('meta.json'), files.get('SHA256SUMS'), {'meta.json': sha256(files.get('meta.json') ?? Buffer.alloc(0)), 'state.bin': sha256(state ?? Buffer.alloc(0))})
  if (state === undefined) return readFailure('no state.bin in snapshot')
  return {meta, state}
}

/** An archive opened for a streamed restore (openArchive). */
export interface StreamedArchive {
  /** meta.json as read; its checksum is verified by the time `state` ends. */
  meta: SnapshotMeta
  /** state.bin's size as its tar header states it (the reader fails if the bytes differ). */
  size: number
  state: ChunkReader
}

/**
 * Opens an archive for a streamed restore: state.bin comes out as a reader whose chunks are
 * inflated as the consumer asks for them, so the state is never in memory whole (a million keys
 * make ~200 MB of it). Its last read ends only once SHA256SUMS, which follows state.bin, has
 * verified both files, and rejects when it does not: a consumer that installs nothing before its
 * source has ended installs nothing unverified. An archive whose meta.json does not come before
 * state.bin (neither Consul nor coord writes one) is read whole and verified first, as readArchive.
 */
export async function openArchive(archive: Uint8Array): Promise<StreamedArchive> {
  const small = new Map<string, Buffer>()
  const hashes: Record<string, string> = {}
  let opened: (archive: StreamedArchive) => void = () => {}
  const streamed = new Promise<StreamedArchive>((resolve) => { opened = resolve })
  let streaming = false
  const walked = walkArchive(archive, async (name, size, chunks) => {
    if (name === 'state.bin' && small.has('meta.json') && !streaming) {
      streaming = true
      const meta = parsedMeta(small.get('meta.json')!)
      await new Promise<void>((drained, failed) => {
        opened({meta, size, state: stateReader(name, size, chunks, (hex) => {
          hashes[name] = hex
          drained()
        }, failed, () => verified)})
      })
      return
    }
    const {hex, kept} = await readEntry(name, size, chunks)
    hashes[name] = hex
    if (kept !== undefined) small.set(name, kept)
  })
  const verified = walked.then(() => {
    checkedMeta(small.get('meta.json'), small.get('SHA256SUMS'), {'meta.json': hashes['meta.json'] ?? sha256(Buffer.alloc(0)), 'state.bin': hashes['state.bin'] ?? sha256(Buffer.alloc(0))})
    if (hashes['state.bin'] === undefined) readFailure('no state.bin in snapshot')
  })
  // Whoever reads the state to its end awaits this; a consumer that gave up early does not.
  verified.catch(() => undefined)
  const whole = verified.then(async (): Promise<StreamedArchive> => {
    if (streaming) return await streamed
    const read = await readArchive(archive)
    return {meta: read.meta, size: read.state.length, state: bytesReader(read.state)}
  })
  return await Promise.race([streamed, whole])
}

/**
 * state.bin's chunks as a reader, hashed as they pass: at the end, `ended` gets the hash (the walk
 * goes on to SHA256SUMS) and the last read waits for `verification`.
 */
function stateReader(name: string, size: number, chunks: AsyncIterable<Buffer>, ended: (hex: string) => void, failed: (error: Error) => void, verification: () => Promise<void>): ChunkReader {
  const iterator = chunks[Symbol.asyncIterator]()
  const hash = createHash('sha256')
  let at = 0
  let done = false
  return {
    read: async () => {
      if (done) return undefined
      let next: IteratorResult<Buffer>
      try {
        next = await iterator.next()
      } catch (error) {
        // The walk knows better what went wrong (gzip's words); let it finish and say so.
        failed(error as Error)
        await verification()
        throw error
      }
      if (!next.done) {
        at += next.value.length
        if (at > size) {
          const error = sizeMismatch(name, 'is longer than its header says')
          failed(error)
          throw error
        }
        hash.update(next.value)
        return next.value
      }
      done = true
      if (at !== size) {
        const error = sizeMismatch(name, 'is truncated')
        failed(error)
        throw error
      }
      ended(hash.digest('hex'))
      await verification()
      return undefined
    },
    cancel: (reason) => {
      if (done) return
      done = true
      failed(reason)
      void iterator.return?.()
    },
  }
}

/** One buffer as a reader of a single chunk. */
function bytesReader(bytes: Uint8Array): ChunkReader {
  let left: Uint8Array | undefined = bytes
  return {
    read: async () => {
      const chunk = left
      left = undefined
      return chunk
    },
    cancel: () => { left = undefined },
  }
}

/** An entry read to its end and hashed; meta.json and SHA256SUMS (not state.bin) also kept. */
async function readEntry(name: string, size: number, chunks: AsyncIterable<Buffer>): Promise<{hex: string; kept?: Buffer}> {
  const hash = createHash('sha256')
  const kept: Buffer[] = []
  let at = 0
  for await (const piece of chunks) {
    at += piece.length
    if (at > size) throw sizeMismatch(name, 'is longer than its header says')
    hash.update(piece)
    if (name !== 'state.bin') {
      if (at > SMALL_FILE_MAX_BYTES) throw new SnapshotArchiveError(`failed to read snapshot file: "${name}" is larger than ${SMALL_FILE_MAX_BYTES} bytes`)
      kept.push(Buffer.from(piece))
    }
  }
  if (at !== size) throw sizeMismatch(name, 'is truncated')
  return {hex: hash.digest('hex'), kept: name === 'state.bin' ? undefined : Buffer.concat(kept)}
}

/** The largest meta.json or SHA256SUMS kept while an archive streams past (both are a few hundred bytes). */
const SMALL_FILE_MAX_BYTES = 1024 * 1024

/**
 * Verifies an archive as it streams in (`consul snapshot save` verifies what it wrote): every
 * checksum, as readArchive does, but each file is hashed as it passes and only meta.json and
 * SHA256SUMS are kept, so a large state is neither held nor read a second time.
 */
export async function verifyArchiveStream(archive: AsyncIterable<Uint8Array>): Promise<SnapshotMeta> {
  const small = new Map<string, Buffer>()
  const hashes: Record<string, string> = {}
  await walkArchive(archive, async (name, size, chunks) => {
    const {hex, kept} = await readEntry(name, size, chunks)
    hashes[name] = hex
    if (kept !== undefined) small.set(name, kept)
  })
  const meta = checkedMeta(small.get('meta.json'), small.get('SHA256SUMS'), {'meta.json': hashes['meta.json'] ?? sha256(Buffer.alloc(0)), 'state.bin': hashes['state.bin'] ?? sha256(Buffer.alloc(0))})
  if (hashes['state.bin'] === undefined) return readFailure('no state.bin in snapshot')
  return meta
}

/** A tar entry whose bytes do not add up to the size its header states. */
function sizeMismatch(name: string, what: 'is longer than its header says' | 'is truncated'): SnapshotArchiveError {
  return new SnapshotArchiveError(`failed to read snapshot file: failed reading snapshot: "${name}" ${what}`)
}

function readFailure(reason: string, cause?: unknown): never {
  throw new SnapshotArchiveError(`failed to read snapshot file: ${reason}`, cause)
}

/**
 * Streams an archive through gunzip into the tar reader, handing each entry to `take` (its name,
 * the size its header states, its chunks); refuses names other than Consul's three and anything
 * over SNAPSHOT_MAX_BYTES, with Consul's wording for gzip damage.
 */
async function walkArchive(archive: Uint8Array | AsyncIterable<Uint8Array>, take: (name: string, size: number, chunks: AsyncIterable<Buffer>) => Promise<void>): Promise<void> {
  const extract = tar.extract()
  const gz = createGunzip()
  let gzipError: unknown
  let inflated = 0
  gz.on('data', (chunk: Buffer) => {
    inflated += chunk.length
    if (inflated > SNAPSHOT_MAX_BYTES) gz.destroy(Object.assign(new Error('too large'), {code: 'ERR_BUFFER_TOO_LARGE'}))
  })
  gz.on('error', (error) => {
    gzipError = error
    extract.destroy(error)
  })
  let sourceError: unknown
  try {
    const done = (async () => {
      for await (const entry of extract) {
        const name = entry.header.name
        if (name !== 'meta.json' && name !== 'state.bin' && name !== 'SHA256SUMS') throw new SnapshotArchiveError(`failed to read snapshot file: unexpected file "${name}" in snapshot`)
        const size = entry.header.size ?? 0
        if (size > SNAPSHOT_MAX_BYTES) throw new SnapshotArchiveError(`failed to decompress snapshot: ${gzipReason(Object.assign(new Error('too large'), {code: 'ERR_BUFFER_TOO_LARGE'}))}`)
        await take(name, size, entry as AsyncIterable<Buffer>)
      }
    })()
    gz.pipe(extract)
    if (archive instanceof Uint8Array) {
      gz.end(archive)
    } else {
      // A source that fails (the connection dropped) fails the walk with its own error.
      pipeline(Readable.from(archive, {objectMode: false}), gz, (error) => {
        if (error && gzipError === undefined) {
          sourceError = error
          extract.destroy(error)
        }
      })
    }
    await done
  } catch (error) {
    if (sourceError !== undefined) throw sourceError
    if (gzipError !== undefined) throw new SnapshotArchiveError(`failed to decompress snapshot: ${gzipReason(gzipError)}`, gzipError)
    if (error instanceof SnapshotArchiveError) throw error
    readFailure(`failed reading snapshot: ${(error as Error).message}`, error)
  }
}

/** meta.json decoded and checked, after SHA256SUMS was verified against the files' hashes. */
function checkedMeta(metaBytes: Buffer | undefined, sums: Buffer | undefined, hashes: Record<string, string>): SnapshotMeta {
  const meta = metaBytes === undefined ? undefined : parsedMeta(metaBytes)
  verifySums(sums ?? Buffer.alloc(0), hashes, readFailure)
  if (meta === undefined) return readFailure('failed to decode snapshot metadata: no meta.json in snapshot')
  return meta
}

/** meta.json decoded, with the fields a restore needs (its checksum is checkedMeta's business). */
function parsedMeta(metaBytes: Buffer): SnapshotMeta {
  let meta: SnapshotMeta | undefined
  try {
    meta = JSON.parse(metaBytes.toString('utf8')) as SnapshotMeta
  } catch (error) {
    readFailure(`failed to decode snapshot metadata: ${(error as Error).message}`, error)
  }
  if (meta === null || typeof meta !== 'object' || typeof meta.Index !== 'number' || typeof meta.Term !== 'number' || typeof meta.ID !== 'string') {
    readFailure('failed to decode snapshot metadata: meta.json lacks ID, Index or Term')
  }
  return meta
}

/** Consul's hashList.DecodeAndVerify: every listed name must be known and match; both must be listed. `hashes`: hex sha256 by name. */
function verifySums(sums: Buffer, hashes: Record<string, string>, fail: (reason: string) => never): void {
  const seen = new Set<string>()
  for (const line of sums.toString('utf8').split('\n')) {
    if (line === '') continue
    const match = /^([0-9a-fA-F]+) {2}(\S+)$/.exec(line)
    if (!match) fail(`failed checking integrity of snapshot: bad SHA256SUMS line ${JSON.stringify(line)}`)
    const [, hex, file] = match!
    if (!(file in hashes)) fail(`failed checking integrity of snapshot: list missing hash for "${file}"`)
    if (hex.toLowerCase() !== hashes[file]) fail(`failed checking integrity of snapshot: hash check failed for "${file}"`)
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
