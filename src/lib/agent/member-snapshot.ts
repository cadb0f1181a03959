// The member snapshot in the data dir (serf's snapshot: `serf/local.snapshot` for the LAN pool,
// `serf/remote.snapshot` for the WAN pool): who this agent last knew alive, and whether it left
// gracefully. On restart the agent rejoins those members (serf's rejoin), unless it had left and
// `rejoin_after_leave` is off. Best effort: a write failure is logged, a missing file is a fresh
// start, and an unreadable or corrupt file is reported with a clear warning and ignored — never a
// crash: the agent can always be joined again with -join / -retry-join.
//
// Format (coord's own; serf keeps an append-only line log instead): one JSON object,
//   {"version": 1, "left": false, "members": [{"name": "server-2", "addr": "127.0.0.2", "port": 8301}, ...]}
// `members`: the members alive when last written, this agent excluded. `left`: true after a
// graceful leave. Rewritten whole (temp file + rename, so a crash leaves the old or the new one)
// at most every `debounceMs` while members change, and at once on leave.
import {mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'
import type {Member, MemberEvent} from '../gossip/types.js'
import type {Logger} from '../logger.js'

export interface SnapshotMember {
  name: string
  addr: string
  port: number
}

export interface MemberSnapshot {
  version: 1
  left: boolean
  members: SnapshotMember[]
}

/** Reads the snapshot; undefined when absent, or (with a warning) unreadable or malformed. */
export function loadMemberSnapshot(path: string, log: Logger): MemberSnapshot | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') log.warn('serf: cannot read the member snapshot; starting without it', {path, error: (error as Error).message})
    return undefined
  }
  try {
    return parseMemberSnapshot(text)
  } catch (error) {
    log.warn('serf: the member snapshot is corrupt; ignoring it (rejoin with -join or -retry-join if needed)', {path, error: (error as Error).message})
    return undefined
  }
}

/** Parses and validates the file's text; throws with a one-line reason. */
export function parseMemberSnapshot(text: string): MemberSnapshot {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new Error(`not JSON: ${(error as Error).message}`)
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('not a JSON object')
  const o = raw as Record<string, unknown>
  if (o.version !== 1) throw new Error(`unknown version ${JSON.stringify(o.version)}`)
  if (typeof o.left !== 'boolean') throw new Error('"left" is not a boolean')
  if (!Array.isArray(o.members)) throw new Error('"members" is not an array')
  const members = o.members.map((m: unknown, i) => {
    const r = m as Record<string, unknown> | null
    if (!r || typeof r.name !== 'string' || typeof r.addr !== 'string' || r.addr === '' || !Number.isInteger(r.port) || (r.port as number) < 1 || (r.port as number) > 65535) {
      throw new Error(`members[${i}] is not {name, addr, port}`)
    }
    return {name: r.name, addr: r.addr, port: r.port as number}
  })
  return {version: 1, left: o.left, members}
}

/** "addr:port" of each member ("[v6]:port"), to join. */
export function snapshotAddresses(snapshot: MemberSnapshot): string[] {
  return snapshot.members.map((m) => (m.addr.includes(':') ? `[${m.addr}]:${m.port}` : `${m.addr}:${m.port}`))
}

export interface MemberSnapshotterOptions {
  path: string
  selfName: string
  /** The pool's current members. */
  members: () => Member[]
  log: Logger
  debounceMs?: number
}

/** Keeps the snapshot file current as member events arrive. */
export class MemberSnapshotter {
  readonly #o: Required<MemberSnapshotterOptions>
  #timer: NodeJS.Timeout | undefined
  #closed = false
  #warned = false

  constructor(options: MemberSnapshotterOptions) {
    this.#o = {debounceMs: 500, ...options}
    mkdirSync(dirname(this.#o.path), {recursive: true})
  }

  /** A member event happened: write soon (coalescing bursts such as a whole pool joining). */
  onEvent(_event?: MemberEvent): void {
    if (this.#closed || this.#timer) return
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.write(false)
    }, this.#o.debounceMs)
  }

  /** Write now; `left` records a graceful leave. */
  write(left: boolean): void {
    const members = this.#o.members()
      // A suspect member is still alive to serf (it may refute without any member event following).
      .filter((m) => m.name !== this.#o.selfName && (m.state === 'alive' || m.state === 'suspect'))
      .map((m) => ({name: m.name, addr: m.address, port: m.port}))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    const snapshot: MemberSnapshot = {version: 1, left, members}
    const tmp = `${this.#o.path}.tmp`
    try {
      writeFileSync(tmp, `${JSON.stringify(snapshot)}\n`)
      renameSync(tmp, this.#o.path)
    } catch (error) {
      if (!this.#warned) this.#o.log.warn('serf: cannot write the member snapshot', {path: this.#o.path, error: (error as Error).message})
      this.#warned = true
    }
  }

  /** Graceful leave: record it (the next start then does not rejoin unless rejoin_after_leave). */
  recordLeave(): void {
    this.#stop()
    this.write(true)
  }

  /** Flush a pending write and stop. */
  close(): void {
    if (this.#closed) return
    const pending = this.#timer !== undefined
    this.#stop()
    if (pending) this.write(false)
  }

  #stop(): void {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
