// The agent's side of remote exec (Consul agent/remote_exec.go): on an accepted `_rexec` event,
// read the job spec, ack, run the command, stream its output in chunks and heartbeats, and write
// the exit code, all through this agent's OWN HTTP API (so a client agent works too: its KV
// requests go on to the servers). Every write holds the job's session: once the CLI destroys it,
// writes fail, and the command is killed rather than left running unobserved (Consul leaves it).
import {spawn} from 'node:child_process'
import {chmodSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ApiClient, type ClientConfig} from '../api/client.js'
import {kvGet, kvPut} from '../api/kv.js'
import {
  REXEC_OUTPUT_CHUNK_BYTES, REXEC_OUTPUT_IDLE_MS, decodeEventPayload, decodeSpec, jobKey, nodeKey, outputSuffix,
  type RExecEventPayload, type RExecSpec,
} from '../api/rexec.js'
import type {UserEvent} from '../events/user-event.js'
import {TimedQueue} from '../timed-queue.js'
import type {Logger} from '../logger.js'

/** Exit code reported when the job could not be started or its output could not be uploaded. */
const EXIT_FAILED = 255
/** Heartbeat period when the spec's Wait is missing or zero (Consul's -wait default). */
const DEFAULT_WAIT_MS = 2000

export interface RemoteExecContext {
  nodeName: string
  /** This agent's HTTP address (host:port, or https://host:port) for the KV work. */
  httpAddress: string
  /** CA and the agent's certificate when that address is HTTPS. */
  tls?: Omit<ClientConfig, 'address'>
  log: Logger
}

/** Runs one remote exec job to the end; never throws (failures are logged, as Consul does). */
export async function handleRemoteExec(event: UserEvent, ctx: RemoteExecContext): Promise<void> {
  const {log} = ctx
  log.debug('agent: received remote exec event', {id: event.ID})
  let job: RExecEventPayload
  try {
    job = decodeEventPayload(event.Payload)
  } catch (error) {
    log.error('agent: failed to decode remote exec event', {error: (error as Error).message})
    return
  }
  const client = new ApiClient({...ctx.tls, address: ctx.httpAddress})
  try {
    const spec = await readSpec(client, job, log)
    if (!spec) return
    const write = async (suffix: string, value: Uint8Array | string): Promise<void> => {
      const ok = await kvPut(client, nodeKey(job.Prefix, job.Session, ctx.nodeName, suffix), value, {acquire: job.Session})
      if (!ok) throw new Error('write failed (session gone?)')
    }
    // An event can come again (a restarted agent hears it re-gossiped, or someone fires it twice):
    // our ack already under the job means this node ran it; never run a job twice.
    if (await alreadyAcked(client, job, ctx.nodeName, log)) return
    try {
      await write('ack', '')
    } catch (error) {
      log.error('agent: failed to ack remote exec job', {error: (error as Error).message})
      return
    }
    const code = await runJob(spec, write, log)
    try {
      await write('exit', String(code))
    } catch (error) {
      log.error('agent: failed to write exit code for remote exec job', {error: (error as Error).message})
    }
  } finally {
    await client.close()
  }
}

/** True when this node's ack is already under the job (or it cannot tell: then it does not run). */
async function alreadyAcked(client: ApiClient, job: RExecEventPayload, nodeName: string, log: Logger): Promise<boolean> {
  try {
    const {pair} = await kvGet(client, nodeKey(job.Prefix, job.Session, nodeName, 'ack'), {consistent: true})
    if (pair) log.info('agent: ignoring remote exec event, already acknowledged by this node', {session: job.Session})
    return pair !== null
  } catch (error) {
    log.error('agent: failed to check remote exec ack', {error: (error as Error).message})
    return true
  }
}

/** A stale read first (the CLI waited -wait-repl for replication), then a consistent one. */
async function readSpec(client: ApiClient, job: RExecEventPayload, log: Logger): Promise<RExecSpec | undefined> {
  const key = jobKey(job.Prefix, job.Session)
  try {
    let {pair} = await kvGet(client, key, {stale: true})
    if (!pair) {
      log.debug('agent: trying consistent fetch of remote exec job spec')
      pair = (await kvGet(client, key, {consistent: true})).pair
    }
    if (!pair) {
      log.debug('agent: remote exec aborted, job spec missing', {key})
      return undefined
    }
    return decodeSpec(pair.value.toString('utf8'))
  } catch (error) {
    log.error('agent: failed to get remote exec job', {error: (error as Error).message})
    return undefined
  }
}

/** Runs the command; returns its exit code (255 when it could not run or report, -1 on a signal). */
async function runJob(spec: RExecSpec, write: (suffix: string, value: Uint8Array | string) => Promise<void>, log: Logger): Promise<number> {
  let scriptDir: string | undefined
  let argv: string[]
  if (spec.args && spec.args.length > 0) {
    argv = spec.args
  } else {
    let script = spec.command ?? ''
    if (spec.script && spec.script.length > 0) {
      scriptDir = mkdtempSync(join(tmpdir(), 'rexec-'))
      script = join(scriptDir, 'script')
      writeFileSync(script, spec.script)
      chmodSync(script, 0o750)
    }
    argv = [process.env.SHELL || '/bin/sh', '-c', script]
  }
  log.info('agent: remote exec', {command: spec.args ? spec.args.join(' ') : (spec.command ?? '(script)')})
  try {
    // Own process group, so a job we must abandon is killed with all its children.
    const child = spawn(argv[0], argv.slice(1), {stdio: ['ignore', 'pipe', 'pipe'], detached: true})
    const chunks = new TimedQueue<Buffer>()
    const chunker = new OutputChunker((chunk) => chunks.push(chunk))
    child.stdout.on('data', (data: Buffer) => chunker.write(data))
    child.stderr.on('data', (data: Buffer) => chunker.write(data))
    const exited = new Promise<number>((resolve) => {
      child.once('error', (error) => {
        log.debug('agent: failed to start remote exec', {error: error.message})
        resolve(EXIT_FAILED)
      })
      child.once('close', (code, signal) => resolve(code ?? (signal ? -1 : EXIT_FAILED)))
    }).then((code) => {
      chunker.flush()
      chunks.end()
      return code
    })
    const heartbeatMs = spec.waitMs > 0 ? spec.waitMs : DEFAULT_WAIT_MS
    for (let num = 0; ; num++) {
      const next = await chunks.next(heartbeatMs)
      if (next === 'end') break
      try {
        await write(outputSuffix(num), next === 'idle' ? '' : next)
      } catch (error) {
        log.error('agent: failed to write output for remote exec job', {error: (error as Error).message})
        chunker.close()
        if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
          try { process.kill(-child.pid, 'SIGKILL') } catch { /* already gone */ }
        }
        await exited
        return EXIT_FAILED
      }
    }
    return await exited
  } finally {
    if (scriptDir) rmSync(scriptDir, {recursive: true, force: true})
  }
}

/** Cuts a byte stream into chunks of at most 4 KiB, flushing a partial one after 500 ms idle. */
export class OutputChunker {
  #pending: Buffer[] = []
  #size = 0
  #timer?: NodeJS.Timeout
  #closed = false

  constructor(private readonly emit: (chunk: Buffer) => void, private readonly chunkBytes = REXEC_OUTPUT_CHUNK_BYTES, private readonly idleMs = REXEC_OUTPUT_IDLE_MS) {}

  write(data: Buffer): void {
    if (this.#closed) return
    clearTimeout(this.#timer)
    this.#pending.push(data)
    this.#size += data.length
    while (this.#size >= this.chunkBytes) {
      const all = Buffer.concat(this.#pending, this.#size)
      this.emit(all.subarray(0, this.chunkBytes))
      const rest = all.subarray(this.chunkBytes)
      this.#pending = rest.length > 0 ? [rest] : []
      this.#size = rest.length
    }
    if (this.#size > 0) this.#timer = setTimeout(() => this.flush(), this.idleMs)
  }

  flush(): void {
    clearTimeout(this.#timer)
    if (this.#size === 0 || this.#closed) return
    this.emit(Buffer.concat(this.#pending, this.#size))
    this.#pending = []
    this.#size = 0
  }

  close(): void {
    clearTimeout(this.#timer)
    this.#closed = true
  }
}
