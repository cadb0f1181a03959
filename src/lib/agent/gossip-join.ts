// Joining a gossip pool from configuration, as Consul's agent does it: `-join` / `start_join` once
// at start (the agent fails to start when no address answers), `-retry-join` in the background
// every `retry_interval` until one answers, giving up after `retry_max` failed attempts (0: never)
// — then the agent exits with an error, as Consul's does.
import type {Logger} from '../logger.js'

export interface RetryJoinOptions {
  /** 'LAN' or 'WAN', for log lines and the exhaustion error (Consul's wording). */
  pool: 'LAN' | 'WAN'
  seeds: readonly string[]
  join: (seeds: readonly string[]) => Promise<number>
  intervalMs: number
  /** Failed attempts before giving up; 0: retry forever. */
  max: number
  log: Logger
  /** Called once when `max` attempts failed. */
  onExhausted: (error: Error) => void
}

export interface RetryJoin {
  /** Resolves true once joined, false when stopped or exhausted. */
  readonly done: Promise<boolean>
  stop(): void
}

/** Start retrying in the background (first attempt at once). Nothing to do without seeds. */
export function startRetryJoin(o: RetryJoinOptions): RetryJoin {
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let wake: () => void = () => {}
  const sleep = (ms: number) => new Promise<void>((resolve) => {
    wake = resolve
    timer = setTimeout(resolve, ms)
  })
  const run = async (): Promise<boolean> => {
    if (o.seeds.length === 0) return false
    o.log.info('Joining cluster...', {cluster: o.pool, seeds: o.seeds.join(',')})
    // Bounded: at most `max` attempts when max > 0; otherwise until stop() (agent shutdown or leave).
    for (let attempt = 1; !stopped; attempt++) {
      try {
        const n = await o.join(o.seeds)
        o.log.info('Join cluster completed. Synced with initial agents', {cluster: o.pool, num_agents: n, attempts: attempt})
        return true
      } catch (error) {
        if (stopped) return false
        const reason = (error as Error).message
        if (o.max > 0 && attempt >= o.max) {
          o.log.error('max join retry exhausted, exiting', {cluster: o.pool, attempts: attempt, error: reason})
          o.onExhausted(new Error(`agent: max join${o.pool === 'WAN' ? ' -wan' : ''} retry exhausted after ${attempt} attempt(s): ${reason}`))
          return false
        }
        // Quiet after the first few: a server started before its peers retries for a while.
        if (attempt <= 3 || attempt % 10 === 0) o.log.warn('Join cluster failed, will retry', {cluster: o.pool, retry_interval: `${o.intervalMs}ms`, attempt, error: reason})
      }
      await sleep(o.intervalMs)
    }
    return false
  }
  const done = run()
  return {
    done,
    stop: () => {
      stopped = true
      clearTimeout(timer)
      wake()
    },
  }
}

/** `-join` / `start_join`: one attempt at start; throws (failing the start) when none answered. */
export async function startJoin(pool: 'LAN' | 'WAN', seeds: readonly string[], join: (seeds: readonly string[]) => Promise<number>, log: Logger): Promise<void> {
  if (seeds.length === 0) return
  log.info('Joining cluster...', {cluster: pool, seeds: seeds.join(',')})
  try {
    const n = await join(seeds)
    log.info('Join completed. Synced with initial agents', {cluster: pool, num_agents: n})
  } catch (error) {
    throw new Error(`Error joining the ${pool} pool at start (-join${pool === 'WAN' ? '-wan' : ''}: ${seeds.join(', ')}): ${(error as Error).message}`)
  }
}
