// The agent's configured watches: each runs lib/watch's loop against this agent's own HTTP API
// (as Consul's agent does) and calls its handler. They start after the HTTP server is up and stop
// before it closes. `reload` (called by `coord reload` / SIGHUP) restarts only watches whose
// definition changed: an unchanged watch keeps its last delivered state, so a reload does not run
// its handler again.
import {ApiClient, type ClientConfig} from '../api/client.js'
import type {Logger} from '../logger.js'
import type {WatchDefinition} from './watch-config.js'
import {buildPlan} from '../watch/plan.js'
import {httpHandler, scriptHandler} from '../watch/handlers.js'
import {formatRetry, runWatch, type WatchEvent} from '../watch/watcher.js'

/** A script handler that runs longer than this is killed (it would stall its watch). */
const HANDLER_TIMEOUT_MS = 5 * 60_000

interface Running {
  def: WatchDefinition
  stop: AbortController
  done: Promise<void>
  client: ApiClient
}

export class AgentWatches {
  readonly #httpAddr: string
  readonly #log: Logger
  /** How to reach the agent's own API when only HTTPS is on (CA, the agent's certificate). */
  readonly #tls: Omit<ClientConfig, 'address' | 'token'>
  #running: Running[] = []

  constructor(httpAddr: string, log: Logger, tls: Omit<ClientConfig, 'address' | 'token'> = {}) {
    this.#httpAddr = httpAddr
    this.#log = log
    this.#tls = tls
  }

  get count(): number {
    return this.#running.length
  }

  start(defs: readonly WatchDefinition[]): void {
    for (const def of defs) this.#running.push(this.#startOne(def))
  }

  /** Applies a new list: unchanged watches keep running; removed/changed ones stop; new ones start. */
  async reload(defs: readonly WatchDefinition[]): Promise<{kept: number; started: number; stopped: number}> {
    const wanted = new Map<string, WatchDefinition[]>()
    for (const def of defs) wanted.set(def.identity, [...(wanted.get(def.identity) ?? []), def])
    const kept: Running[] = []
    const stopping: Running[] = []
    for (const running of this.#running) {
      const same = wanted.get(running.def.identity)
      if (same && same.length > 0) {
        same.shift()
        kept.push(running)
      } else {
        stopping.push(running)
      }
    }
    await Promise.all(stopping.map((r) => this.#stopOne(r)))
    const fresh = [...wanted.values()].flat().map((def) => this.#startOne(def))
    this.#running = [...kept, ...fresh]
    this.#log.info('watches reloaded', {kept: kept.length, started: fresh.length, stopped: stopping.length})
    return {kept: kept.length, started: fresh.length, stopped: stopping.length}
  }

  async stop(): Promise<void> {
    const all = this.#running
    this.#running = []
    await Promise.all(all.map((r) => this.#stopOne(r)))
  }

  #startOne(def: WatchDefinition): Running {
    const log = this.#log.named('watch')
    const client = new ApiClient({...this.#tls, address: this.#httpAddr, token: def.params.token})
    const stop = new AbortController()
    const plan = buildPlan(def.params)
    const handle = def.handler.kind === 'script'
      ? scriptHandler({args: def.handler.args, shell: def.handler.shell, output: (text) => log.debug('watch handler output', {type: def.params.type, output: text.trim()}), timeoutMs: HANDLER_TIMEOUT_MS})
      : httpHandler(def.handler.config)
    // In the agent a failing handler is logged and the watch goes on (Consul's agent does the same).
    const handler = async (event: WatchEvent): Promise<void> => {
      try {
        await handle(event)
      } catch (error) {
        log.error('watch handler failed', {type: def.params.type, error: (error as Error).message})
      }
    }
    const done = runWatch(client, plan, handler, {
      signal: stop.signal,
      // Consul's api/watch/plan.go: "Watch errored" with the type, the error and the retry delay.
      onError: (error, retryMs) => log.error('Watch errored', {type: def.params.type, error: (error as Error).message, retry: formatRetry(retryMs)}),
    }).catch((error: unknown) => log.error('watch stopped', {type: def.params.type, error: (error as Error).message}))
    return {def, stop, done, client}
  }

  async #stopOne(running: Running): Promise<void> {
    running.stop.abort()
    await running.done
    await running.client.close()
  }
}
