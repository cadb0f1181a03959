// A child process run as the leader of its own process group, for `coord lock` (and watch
// handlers): so that a lost lock can stop the child *and everything it started* (a shell's
// children, a job's workers) with one signal to the group, and so that terminal signals reach it
// only through us (forwarded), never behind our back.
//
// A guard keeps the group from outliving us: a tiny `/bin/sh` watchdog in a group of its own reads
// a pipe from this process. We write "done" before a normal exit; if we die any other way (kill -9)
// the pipe closes empty and the watchdog sends the group SIGTERM, then SIGKILL after the grace
// period. Without it, a killed `coord lock` would leave its child running while the session's TTL
// runs out and another holder starts.
import {spawn, type ChildProcess} from 'node:child_process'

export interface ChildSpec {
  /** The command words (`coord lock prefix child...`). */
  args: string[]
  /** true: `$SHELL -c "<args joined by space>"` (/bin/sh when SHELL is unset), as Consul's ExecScript. */
  shell: boolean
  env: Record<string, string | undefined>
  passStdin: boolean
  /** SIGTERM → SIGKILL delay for the watchdog. */
  graceMs: number
}

export interface ChildExit {
  code: number | null
  signal: NodeJS.Signals | null
}

export class ChildGroup {
  readonly child: ChildProcess
  readonly exited: Promise<ChildExit>
  readonly #guard?: ChildProcess
  #done = false

  private constructor(child: ChildProcess, guard: ChildProcess | undefined) {
    this.child = child
    this.#guard = guard
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({code, signal}))
    })
  }

  /** Starts the child; rejects with the spawn error (ENOENT, EACCES) when it cannot start. */
  static async start(spec: ChildSpec): Promise<ChildGroup> {
    const [command, ...rest] = spec.shell
      ? [spec.env.SHELL || '/bin/sh', '-c', spec.args.join(' ')]
      : spec.args
    const child = spawn(command, rest, {
      detached: true, env: spec.env, stdio: [spec.passStdin ? 'inherit' : 'ignore', 'inherit', 'inherit'],
    })
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve)
      child.once('error', reject)
    })
    const guard = startGuard(child.pid!, spec.graceMs)
    return new ChildGroup(child, guard)
  }

  get pid(): number {
    return this.child.pid!
  }

  /** Signals the whole group; false when it is already gone. */
  signal(signal: NodeJS.Signals): boolean {
    try {
      process.kill(-this.pid, signal)
      return true
    } catch {
      return false
    }
  }

  /**
   * SIGTERM to the group; SIGKILL after `graceMs` if the leader still runs. Resolves once the
   * leader has exited, with whether SIGKILL was needed.
   */
  async terminate(graceMs: number, log: (line: string) => void = () => {}): Promise<{killed: boolean}> {
    log(`Terminating child pid ${this.pid}`)
    this.signal('SIGTERM')
    const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref())
    if (await Promise.race([this.exited.then(() => 'exited' as const), timer]) === 'exited') {
      log('Child terminated')
      // The leader is gone; stragglers it left in the group get no grace beyond its own.
      this.signal('SIGKILL')
      return {killed: false}
    }
    log(`Child did not exit after grace period of ${graceMs / 1000}s`)
    log(`Killing child pid ${this.pid}`)
    this.signal('SIGKILL')
    await this.exited
    return {killed: true}
  }

  /** Tells the watchdog we exit normally (the group is dealt with). Idempotent. */
  dismissGuard(): void {
    if (this.#done) return
    this.#done = true
    const stdin = this.#guard?.stdin
    if (stdin && !stdin.destroyed) stdin.end('done\n')
  }
}

function startGuard(pgid: number, graceMs: number): ChildProcess | undefined {
  const script = 'read line; [ "$line" = done ] && exit 0; kill -s TERM -- "-$0" 2>/dev/null; sleep "$1"; kill -s KILL -- "-$0" 2>/dev/null; exit 0'
  try {
    const guard = spawn('/bin/sh', ['-c', script, String(pgid), (graceMs / 1000).toFixed(3)], {detached: true, stdio: ['pipe', 'ignore', 'ignore']})
    guard.on('error', () => {})
    guard.stdin?.on('error', () => {})
    guard.unref()
    return guard
  } catch {
    return undefined
  }
}
