// The client side of remote exec (Consul command/exec/exec.go): set a job up (session, spec,
// event), stream what the nodes write back, and sweep it all away afterwards. The CLI drives it
// and renders (lib/cli/exec-wait.ts); other programs may use it as a library.
import type {ApiClient} from './client.js'
import {eventFire} from './event.js'
import {kvDelete, kvList, kvPut, type KVPair} from './kv.js'
import {REXEC_EVENT, REXEC_RENEW_MS, REXEC_TTL, classifyResultKey, encodeSpec, jobDir, jobKey, type RExecSpec} from './rexec.js'
import {abortableSleep} from './abortable-sleep.js'
import {sessionCreate, sessionDestroy, sessionRenew} from './session.js'
import type {TimedQueue} from '../timed-queue.js'

export type RExecResult =
  | {kind: 'ack' | 'heartbeat'; node: string}
  | {kind: 'output'; node: string; output: Buffer}
  | {kind: 'exit'; node: string; code: number}
  /** A result could not be read; `fatal` ends the job (Consul's "Failed to read results"). */
  | {kind: 'error'; message: string; fatal: boolean}

export interface RExecJobOptions {
  prefix: string
  spec: RExecSpec
  node?: string
  service?: string
  tag?: string
  replWaitMs: number
  signal?: AbortSignal
  /** Verbose progress lines. */
  progress?: (line: string) => void
  /** A renewal failed (the session will lapse). */
  warn?: (line: string) => void
  /**
   * The job runs in another datacenter than the agent's (`-datacenter`; the client sends `?dc=`):
   * the session binds to a server node there instead of the asking agent's node, which that
   * datacenter's catalog does not have (Consul's createSessionForeign).
   */
  foreign?: {datacenter: string; localNode: string; localDc: string}
}

const RANK: Record<ReturnType<typeof classifyResultKey>['kind'], number> = {job: 0, unknown: 0, ack: 1, output: 2, exit: 3}

/** A failed step of the set-up, with Consul's wording ("Failed to create session: ..."). */
export class RExecSetupError extends Error {}

export class RemoteExecJob {
  #renewTimer?: NodeJS.Timeout
  #cleaned = false

  private constructor(readonly client: ApiClient, readonly prefix: string, readonly session: string) {}

  get dir(): string {
    return jobDir(this.prefix, this.session)
  }

  /** Creates the session (renewed every 5 s), uploads the spec, waits for replication, fires the event. */
  static async start(client: ApiClient, o: RExecJobOptions): Promise<RemoteExecJob> {
    let session: string
    try {
      session = o.foreign ? await createForeignSession(client, o.foreign, o.progress) : await sessionCreate(client, {Name: 'Remote Exec', Behavior: 'delete', TTL: REXEC_TTL})
    } catch (error) {
      throw new RExecSetupError(`Failed to create session: ${(error as Error).message}`)
    }
    const job = new RemoteExecJob(client, o.prefix, session)
    job.#renewTimer = setInterval(() => {
      sessionRenew(client, session).then((s) => { if (!s) throw new Error('session not found') }).catch((error: unknown) => {
        o.warn?.(`Session renew failed: ${(error as Error).message}`)
        clearInterval(job.#renewTimer)
      })
    }, REXEC_RENEW_MS)
    try {
      o.progress?.(`Created remote execution session: ${session}`)
      const key = jobKey(o.prefix, session)
      let ok: boolean
      try {
        ok = await kvPut(client, key, encodeSpec(o.spec), {acquire: session})
      } catch (error) {
        throw new RExecSetupError(`Failed to create job file: ${(error as Error).message}`)
      }
      if (!ok) throw new RExecSetupError(`Failed to create job file: failed to acquire key ${key}`)
      o.progress?.('Uploaded remote execution spec')
      await abortableSleep(o.replWaitMs, o.signal)
      if (o.signal?.aborted) throw new RExecSetupError('')
      let id: string
      try {
        const payload = JSON.stringify({Prefix: o.prefix, Session: session})
        id = (await eventFire(client, REXEC_EVENT, payload, {node: o.node, service: o.service, tag: o.tag})).ID
      } catch (error) {
        throw new RExecSetupError(`Failed to fire event: ${(error as Error).message}`)
      }
      o.progress?.(`Fired remote execution event: ${id}`)
      return job
    } catch (error) {
      await job.cleanup()
      throw error
    }
  }

  /**
   * Watches `<dir>/` with blocking recursive reads (each `waitMs` at most) and pushes every new
   * ack / output / heartbeat / exit into `results` until `signal` aborts. Consul lists keys and
   * then GETs each new one; one recursive read carries the values too, so a wake-up costs one
   * request however many nodes answered (chunks are ≤ 4 KiB, jobs are short).
   */
  async stream(results: TimedQueue<RExecResult>, waitMs: number, signal: AbortSignal): Promise<void> {
    const dir = this.dir
    const seen = new Set<string>()
    let index = 0
    while (!signal.aborted) {
      let pairs: KVPair[]
      try {
        const answer = await kvList(this.client, `${dir}/`, {waitIndex: index, waitMs, signal})
        if (answer.meta.lastIndex === index) continue
        index = answer.meta.lastIndex
        pairs = answer.pairs
      } catch (error) {
        if (!signal.aborted) results.push({kind: 'error', message: `Failed to read results: ${(error as Error).message}`, fatal: true})
        return
      }
      // Within one read, acks before output before exits: keys sort `exit` before `out/`, but a
      // node's output must print before its "finished" line.
      const fresh = pairs.filter((p) => !seen.has(p.key)).map((pair) => ({pair, what: classifyResultKey(pair.key, dir)}))
      fresh.sort((a, b) => RANK[a.what.kind] - RANK[b.what.kind])
      for (const {pair, what} of fresh) {
        seen.add(pair.key)
        if (what.kind === 'job') continue
        if (what.kind === 'unknown') {
          results.push({kind: 'error', message: `Unknown key '${pair.key.slice(dir.length + 1)}', ignoring.`, fatal: false})
        } else if (what.kind === 'ack') {
          results.push({kind: 'ack', node: what.node})
        } else if (what.kind === 'exit') {
          const text = pair.value.toString('utf8')
          if (!/^-?\d+$/.test(text)) results.push({kind: 'error', message: `Failed to parse exit code '${text}'`, fatal: false})
          else results.push({kind: 'exit', node: what.node, code: Number(text)})
        } else if (pair.value.length === 0) {
          results.push({kind: 'heartbeat', node: what.node})
        } else {
          results.push({kind: 'output', node: what.node, output: pair.value})
        }
      }
    }
  }

  /**
   * Destroys the session first (so no node can write any more: its acquire fails), then deletes
   * the job's keys. Idempotent; failures are returned, not thrown.
   */
  async cleanup(): Promise<string[]> {
    if (this.#cleaned) return []
    this.#cleaned = true
    clearInterval(this.#renewTimer)
    const problems: string[] = []
    await sessionDestroy(this.client, this.session).catch((error: unknown) => { problems.push(`Failed to destroy session: ${(error as Error).message}`) })
    await kvDelete(this.client, this.dir, {recurse: true}).catch((error: unknown) => { problems.push(`Failed to clean up job data: ${(error as Error).message}`) })
    return problems
  }
}

/** A session in another datacenter, bound to one of its passing Consul servers, with no health checks. */
async function createForeignSession(client: ApiClient, foreign: NonNullable<RExecJobOptions['foreign']>, progress?: (line: string) => void): Promise<string> {
  let entries: unknown
  try {
    entries = (await client.getJson('/v1/health/service/consul', {params: {passing: true}})).value
  } catch (error) {
    throw new Error(`Failed to find Consul server in remote datacenter: ${(error as Error).message}`)
  }
  const node = Array.isArray(entries) ? (entries[0] as {Node?: {Node?: string}} | undefined)?.Node?.Node : undefined
  if (!node) throw new Error('Failed to find Consul server in remote datacenter')
  progress?.(`Binding session to remote node ${node}@${foreign.datacenter}`)
  return sessionCreate(client, {Name: `Remote Exec via ${foreign.localNode}@${foreign.localDc}`, Node: node, Checks: [], Behavior: 'delete', TTL: REXEC_TTL})
}
