// `coord lock`: hold a lock (or a semaphore slot) and run a child only while it is held. The flow
// and every message are Consul's command/lock/lock.go: acquire → start child → wait for the first of
// {shutdown signal, lock lost, child exit} → stop the child → release → clean up → exit code.
//
// coord's additions (README): the child runs as its own process-group leader and the whole group is
// stopped; a watchdog stops the group if this process dies; the hold is re-confirmed within
// lock-delay − grace (hold-monitor.ts) so the child is gone before anyone else can acquire; and the
// child's environment carries a fencing token. A lock (not a semaphore) counts from its session's
// last successful renewal instead, with the failover allowance the servers add (ARCHITECTURE.md,
// "Lock safety across failover"), so it rides through a leader election.
import type {ApiClient} from '../api/client.js'
import type {Held} from '../api/lock.js'
import type {LockError} from '../api/lock-errors.js'
import {FAILOVER_ALLOWANCE_MS, HOLDER_LATENESS_MARGIN_MS} from '../state/sessions.js'
import {ChildGroup} from './child-group.js'
import {CommandError, EXIT} from './errors.js'
import type {IO} from './io.js'
import {withSpinner} from './terminal.js'

export interface LockRunOptions {
  prefix: string
  child: string[]
  limit: number
  name: string
  timeoutMs: number
  monitorRetries: number
  childExitCode: boolean
  shell: boolean
  passStdin: boolean
  verbose: boolean
  lockDelayMs: number
  sessionTtl: string
  env: Record<string, string | undefined>
}

/**
 * SIGTERM → SIGKILL grace. Consul's lockKillGracePeriod is 5 s against a 15 s lock-delay (a third);
 * coord keeps that ratio for shorter delays, leaving two thirds for the holder to notice the loss.
 */
export function killGraceMs(lockDelayMs: number): number {
  return Math.min(5000, lockDelayMs / 3)
}

/**
 * How long the holder trusts its last proof of holding (undefined: Consul's behaviour, no window).
 * With `renewals` the proofs are session renewals, which coord's servers honour for lock-delay +
 * FAILOVER_ALLOWANCE_MS (state/sessions.ts), of which the holder counts all but
 * HOLDER_LATENESS_MARGIN_MS; otherwise consistent reads, honoured for lock-delay.
 */
export function confirmWindowMs(lockDelayMs: number, renewals = false): number | undefined {
  const allowance = renewals && lockDelayMs > 0 ? FAILOVER_ALLOWANCE_MS - HOLDER_LATENESS_MARGIN_MS : 0
  const window = lockDelayMs - killGraceMs(lockDelayMs) + allowance
  return lockDelayMs - killGraceMs(lockDelayMs) >= 300 ? window : undefined
}

/** How often a lock holder renews its session: about six proofs per window, at most every 200 ms. */
export function renewEveryMs(windowMs: number): number {
  return Math.max(200, Math.floor(windowMs / 6))
}

interface Primitive {
  acquire(signal?: AbortSignal): Promise<Held | null>
  release(): Promise<void>
  destroy(): Promise<void>
  inUseCode: string
}

export async function runLock(client: ApiClient, io: IO, opts: LockRunOptions): Promise<number> {
  const info = (line: string): void => { if (opts.verbose) io.out(line) }
  const shutdown = new AbortController()
  /** The signal that started our shutdown, named in the line that says why the child was stopped. */
  let shutdownBy: NodeJS.Signals | undefined
  let group: ChildGroup | undefined
  // Signals: forwarded to the child's group (it is not in our group, so the terminal's signals
  // reach it only this way); SIGINT/SIGTERM also start our shutdown, as Consul's ShutdownCh.
  const handlers = new Map<NodeJS.Signals, () => void>()
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'] as NodeJS.Signals[]) {
    const handler = (): void => {
      group?.signal(sig)
      if (sig === 'SIGINT' || sig === 'SIGTERM') {
        shutdownBy ??= sig
        shutdown.abort()
      }
    }
    handlers.set(sig, handler)
    process.on(sig, handler)
  }
  // The handlers stay installed until the process exits: a signal that arrives while we release
  // and clean up must not kill us half-way (the exit code would be lost).
  try {
    return await holdAndRun()
  } finally {
    group?.dismissGuard()
  }

  async function holdAndRun(): Promise<number> {
    const primitive = await setup()
    info('Attempting lock acquisition')
    let held: Held | null
    try {
      held = await withSpinner(io, `Waiting for the lock on ${opts.prefix}`, () => primitive.acquire(shutdown.signal))
    } catch (error) {
      throw new CommandError(`Lock acquisition failed: ${(error as Error).message}`, {cause: error})
    }
    if (!held) throw new CommandError('Shutdown triggered or timeout during lock acquisition')
    let childCode: number = EXIT.ok
    if (shutdown.signal.aborted) {
      io.err('Shutdown triggered during lock acquisition')
    } else {
      childCode = await runChild(held)
    }
    try {
      await primitive.release()
    } catch (error) {
      throw new CommandError(`Lock release failed: ${(error as Error).message}`, {cause: error})
    }
    try {
      await primitive.destroy()
      info('Cleanup succeeded')
    } catch (error) {
      if ((error as LockError).code !== primitive.inUseCode) throw new CommandError(`Lock cleanup failed: ${(error as Error).message}`, {cause: error})
      info('Cleanup aborted, lock in use')
    }
    return opts.childExitCode ? childCode : EXIT.ok
  }

  async function setup(): Promise<Primitive> {
    const common = {
      sessionName: opts.name, sessionTtl: opts.sessionTtl, lockDelayMs: opts.lockDelayMs,
      timeoutMs: opts.timeoutMs, monitorRetries: opts.monitorRetries, monitorRetryMs: 1000,
      // While lock-delay blocks a free key, poll at a pace that matters against the delay itself.
      retryMs: Math.min(5000, Math.max(100, opts.lockDelayMs / 8)),
      confirmWithinMs: confirmWindowMs(opts.lockDelayMs),
    }
    try {
      if (opts.limit === 1) {
        const key = `${opts.prefix.replace(/\/+$/, '')}/.lock`
        info(`Setting up lock at path: ${key}`)
        const {Lock} = await import('../api/lock.js')
        const window = confirmWindowMs(opts.lockDelayMs, true)
        const renewals = window === undefined ? {} : {confirmWithinMs: window, proofFromRenewals: true, renewEveryMs: renewEveryMs(window)}
        return Object.assign(new Lock(client, {key, ...common, ...renewals}), {inUseCode: 'LOCK_IN_USE'})
      }
      info(`Setting up semaphore (limit ${opts.limit}) at prefix: ${opts.prefix}`)
      const {Semaphore} = await import('../api/semaphore.js')
      return Object.assign(new Semaphore(client, {prefix: opts.prefix, limit: opts.limit, ...common}), {inUseCode: 'SEMAPHORE_IN_USE'})
    } catch (error) {
      throw new CommandError(`Lock setup failed: ${(error as Error).message}`, {cause: error})
    }
  }

  /** Runs the child while `held`; returns Consul's childCode (2 when the child failed on its own). */
  async function runChild(held: Held): Promise<number> {
    info('Starting handler')
    if (opts.passStdin) info('Stdin passed to handler process')
    const graceMs = killGraceMs(opts.lockDelayMs)
    try {
      group = await ChildGroup.start({
        args: opts.child, shell: opts.shell, passStdin: opts.passStdin, graceMs,
        env: {
          ...opts.env, CONSUL_LOCK_HELD: 'true',
          COORD_LOCK_KEY: held.key, COORD_LOCK_SESSION: held.session,
          COORD_LOCK_TOKEN: String(held.modifyIndex), COORD_LOCK_INDEX: String(held.lockIndex), COORD_LOCK_MODIFY_INDEX: String(held.modifyIndex),
        },
      })
    } catch (error) {
      io.err(`Error starting handler: ${(error as Error).message}`)
      return EXIT.childFailed
    }
    const running = group
    const lost = new Promise<'lost'>((resolve) => {
      if (held.lost.aborted) resolve('lost')
      held.lost.addEventListener('abort', () => resolve('lost'), {once: true})
    })
    const stop = new Promise<'shutdown'>((resolve) => {
      if (shutdown.signal.aborted) resolve('shutdown')
      shutdown.signal.addEventListener('abort', () => resolve('shutdown'), {once: true})
    })
    const first = await Promise.race([running.exited, lost, stop])
    if (typeof first === 'object') {
      info('Child terminated, releasing lock')
      if (first.code === 0) return EXIT.ok
      io.err(`Error running handler: ${first.signal ? `signal: ${signalName(first.signal)}` : `exit status ${first.code}`}`)
      return EXIT.childFailed
    }
    info(first === 'lost' ? 'Lock lost, killing child' : 'Shutdown triggered, killing child')
    // Always said, -verbose or not: a job that dies with only "exit status 143" tells nobody why.
    io.err(`Stopping the child: ${first === 'lost' ? held.why ?? 'lock lost' : `coord lock received ${shutdownBy ?? 'a shutdown signal'}`}`)
    await running.terminate(graceMs, info)
    const exit = await running.exited
    if (exit.code !== 0) io.err(`Error running handler: ${exit.signal ? `signal: ${signalName(exit.signal)}` : `exit status ${exit.code}`}`)
    return EXIT.ok
  }
}

/** Go's syscall.Signal.String() for the signals a child usually dies of. */
function signalName(signal: NodeJS.Signals): string {
  const names: Partial<Record<NodeJS.Signals, string>> = {SIGTERM: 'terminated', SIGKILL: 'killed', SIGINT: 'interrupt', SIGHUP: 'hangup', SIGQUIT: 'quit'}
  return names[signal] ?? signal
}
