// The fenced job that `coord lock` contenders run in the lock-safety tests, and the checks on the
// file it writes. The job appends "<token> <contender> <pid>" every 50 ms while it holds the lock;
// under flock it compares its fencing token (COORD_LOCK_TOKEN) with the last line and refuses to
// write when a newer holder already wrote (the refusal is logged). Mutual exclusion then shows in
// the file: tokens never go down, each token's lines form one block, one token is one contender,
// and no write was refused (an overlap would interleave or be refused).
import assert from 'node:assert/strict'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {sleep} from './http.js'

const JOB = `#!/bin/sh
# Appends "<token> <contender> <pid>" every 50 ms while held; refuses stale writes (fencing).
f="$1"
while :; do
  flock "$f.lk" sh -c '
    last=$(tail -n 1 "$1" 2>/dev/null | cut -d" " -f1)
    if [ -n "$last" ] && [ "$last" -gt "$COORD_LOCK_TOKEN" ]; then echo "$COORD_LOCK_TOKEN $CONTENDER refused" >> "$1.refused"; exit 1; fi
    echo "$COORD_LOCK_TOKEN $CONTENDER $2" >> "$1"' sh "$f" "$$" || exit 1
  sleep 0.05
done
`

export interface LockLine {token: number; contender: number; pid: number}

export class LockLog {
  /** `file` is the shared log; the job script is written beside it (`job` is its path). */
  constructor(readonly file: string, readonly job: string) {
    writeFileSync(job, JOB, {mode: 0o755})
  }

  /** The child command for `coord lock` (the contender's number comes from $CONTENDER). */
  get command(): string {
    return `${this.job} ${this.file}`
  }

  lines(): LockLine[] {
    return existsSync(this.file)
      ? readFileSync(this.file, 'utf8').trim().split('\n').filter(Boolean).map((l) => {
        const [token, contender, pid] = l.split(' ').map(Number)
        return {token, contender, pid}
      })
      : []
  }

  refusals(): string {
    return existsSync(`${this.file}.refused`) ? readFileSync(`${this.file}.refused`, 'utf8') : ''
  }

  /** Waits for a holder whose token is above `afterToken`; returns its first line and when it was seen. */
  async holderAfter(afterToken: number, timeoutMs: number, describe: () => string): Promise<{line: LockLine; at: number}> {
    const deadline = Date.now() + timeoutMs
    while (Date.now() < deadline) {
      const found = this.lines().find((l) => l.token > afterToken)
      if (found) return {line: found, at: Date.now()}
      await sleep(25)
    }
    throw new Error(`no holder with token > ${afterToken} within ${timeoutMs} ms; refusals: ${this.refusals()}\n${describe()}`)
  }

  /** The holder now: its job is alive and still writing (not one that is being replaced). */
  async current(describe: () => string): Promise<LockLine> {
    await this.holderAfter(0, 30_000, describe)
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      const before = this.lines()
      await sleep(300)
      const now = this.lines()
      const last = now.at(-1)!
      if (now.length > before.length && before.at(-1)?.token === last.token && alive(last.pid)) return last
    }
    throw new Error(`no steady holder\n${describe()}`)
  }

  /**
   * The safety order at a takeover: called right after the old holder's job was seen dead, no newer
   * holder may have written yet (a newer token while the old job still ran would be two holders).
   * Polling sees the death within 25 ms; any takeover waits out a lock-delay of seconds first.
   */
  assertStoppedBeforeTakeover(oldToken: number): void {
    const newer = this.lines().find((l) => l.token > oldToken)
    assert.equal(newer, undefined, `a newer holder (token ${newer?.token}, contender ${newer?.contender}) wrote before holder ${oldToken}'s job was seen stopped`)
  }

  assertExclusive(): void {
    const all = this.lines()
    const seen = new Set<number>()
    for (let i = 0; i < all.length; i++) {
      if (i > 0) assert.ok(all[i].token >= all[i - 1].token, `token went down at line ${i}: ${all[i - 1].token} → ${all[i].token}`)
      if (i > 0 && all[i].token !== all[i - 1].token) {
        assert.ok(!seen.has(all[i].token), `token ${all[i].token} came back after another holder`)
        seen.add(all[i - 1].token)
      }
    }
    // One token, one contender (a token is one acquisition).
    const owner = new Map<number, number>()
    for (const l of all) {
      assert.equal(owner.get(l.token) ?? l.contender, l.contender, `token ${l.token} written by two contenders`)
      owner.set(l.token, l.contender)
    }
    assert.equal(this.refusals(), '', 'a stale holder tried to write after a newer one')
  }
}

/**
 * Whether `pid` still runs code. A zombie (exited, not yet reaped: its parent is busy, or it was
 * re-parented to an init that reaps late) answers signal 0 but runs nothing, so it counts as dead.
 */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state ..."; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return state !== 'Z' && state !== 'X'
  } catch {
    return false
  }
}

export async function waitDead(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (alive(pid) && Date.now() < deadline) await sleep(25)
  assert.ok(!alive(pid), `job pid ${pid} still running after ${timeoutMs} ms`)
}
