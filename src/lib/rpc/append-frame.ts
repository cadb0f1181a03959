// AppendEntries frames whose entries are encoded once for every follower. In one Ready round the
// leader sends each follower that is caught up the same entries (the same Entry objects, in a slice
// of its own): encoding them per follower repeated the costliest part of the message. Here the
// entries are encoded on their own, kept for the next few sends, and spliced into each follower's
// frame behind the rest of its message.
//
// The bytes on the wire are a plain msgpack map, the same keys and values as encoding the whole
// message at once: only the order of the keys differs (entries last), which msgpack decoders do not
// care about, so older and newer servers read each other's frames unchanged. A msgpack array is
// self-contained, so the message encoded with an empty array as its last value, less that array's
// one byte (0x90), followed by the entries' own encoding, is exactly the encoding of the message.

/** A Raft AppendEntries as the driver hands it to the transport (driver.ts RaftEnvelope). */
interface AppendBody {
  raft: {type: 'append'; entries: readonly object[]} & Record<string, unknown>
  fromAddress: unknown
}

/** A one-way message body that is an AppendEntries with entries (the only kind worth splicing). */
export function isAppendWithEntries(body: unknown): body is AppendBody {
  const raft = (body as {raft?: {type?: unknown; entries?: unknown}} | null)?.raft
  return raft?.type === 'append' && Array.isArray(raft.entries) && raft.entries.length > 0
}

/** msgpack's empty fixarray: the placeholder the entries replace. */
const EMPTY_ARRAY_BYTE = 0x90
const NO_ENTRIES: readonly object[] = []
/** Encodings kept: a Ready's sends to every follower come one after the other. */
const KEEP = 4

interface Encoded {
  first: object
  last: object
  length: number
  bytes: Uint8Array
}

export class SharedEntries {
  #recent: Encoded[] = []
  /** Encodings reused and made (for tests and profiles). */
  hits = 0
  misses = 0

  /**
   * The frame payload (msgpack, without the length prefix: `head` and `tail` in that order) of
   * `{k: 'msg', body}`. `encodeShared` returns a view of a shared buffer (valid until its next
   * call); `encodeCopy` a buffer of its own. Undefined when the head does not end as expected.
   */
  parts(body: AppendBody, encodeShared: (value: unknown) => Uint8Array, encodeCopy: (value: unknown) => Uint8Array): {head: Uint8Array; tail: Uint8Array} | undefined {
    const {entries, ...rest} = body.raft
    const tail = this.#entriesBytes(entries, encodeCopy)
    const head = encodeShared({k: 'msg', body: {fromAddress: body.fromAddress, raft: {...rest, entries: NO_ENTRIES}}})
    if (head[head.length - 1] !== EMPTY_ARRAY_BYTE) return undefined
    return {head: head.subarray(0, head.length - 1), tail}
  }

  /**
   * The entries' encoding, reused when the same run of entries was just encoded. Entries are never
   * changed once made, and a log only ever replaces a suffix, so the same first and last objects
   * and the same length mean the same entries in between.
   */
  #entriesBytes(entries: readonly object[], encodeCopy: (value: unknown) => Uint8Array): Uint8Array {
    const first = entries[0]
    const last = entries[entries.length - 1]
    for (const kept of this.#recent) {
      if (kept.first === first && kept.last === last && kept.length === entries.length) {
        this.hits++
        return kept.bytes
      }
    }
    this.misses++
    const bytes = encodeCopy(entries)
    this.#recent.unshift({first, last, length: entries.length, bytes})
    if (this.#recent.length > KEEP) this.#recent.pop()
    return bytes
  }
}
