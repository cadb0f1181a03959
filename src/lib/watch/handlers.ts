// What a watch does with each change: run a script (JSON on stdin, CONSUL_INDEX in the environment,
// as Consul's makeWatchHandler) or POST the JSON to a URL (Consul's http handler, X-Consul-Index
// header). Both throw WatchHandlerError on failure with Consul's wording.
import {spawn} from 'node:child_process'
import {type WatchEvent} from './watcher.js'

export class WatchHandlerError extends Error {
  readonly code = 'WATCH_HANDLER'
}

export interface ScriptHandlerOptions {
  args: string[]
  /** true: `$SHELL -c "<args joined>"` (/bin/sh when SHELL is unset). */
  shell: boolean
  env?: Record<string, string | undefined>
  /** 'inherit' for the CLI; the agent captures output and logs it. */
  output: 'inherit' | ((text: string) => void)
  /** Kill a handler that runs longer than this (agent only). 0 = no limit. */
  timeoutMs?: number
}

export function scriptHandler(opts: ScriptHandlerOptions): (event: WatchEvent) => Promise<void> {
  return (event) => new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = {...(opts.env ?? process.env), CONSUL_INDEX: event.indexText}
    const [command, ...rest] = opts.shell ? [env.SHELL || '/bin/sh', '-c', opts.args.join(' ')] : opts.args
    const capture = opts.output !== 'inherit'
    const child = spawn(command, rest, {env, stdio: ['pipe', capture ? 'pipe' : 'inherit', capture ? 'pipe' : 'inherit']})
    let captured = ''
    const keep = (chunk: Buffer): void => { if (captured.length < 8192) captured += chunk.toString('utf8') }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined
    child.stdin!.on('error', () => {})
    child.stdin!.end(`${event.json}\n`)
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(new WatchHandlerError(`Error starting handler: ${error.message}`))
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      if (capture && captured && typeof opts.output === 'function') opts.output(captured)
      if (code === 0) resolve()
      else reject(new WatchHandlerError(`Error executing handler: ${signal ? `signal: ${signal}` : `exit status ${code}`}`))
    })
  })
}

/** Consul's http_handler_config. */
export interface HttpHandlerConfig {
  path: string
  method?: string
  header?: Record<string, string[]>
  /** Go duration, default 10s. */
  timeoutMs?: number
  tlsSkipVerify?: boolean
}

export function httpHandler(config: HttpHandlerConfig): (event: WatchEvent) => Promise<void> {
  return async (event) => {
    const headers = new Headers({'Content-Type': 'application/json', 'X-Consul-Index': event.indexText})
    for (const [name, values] of Object.entries(config.header ?? {})) for (const value of values) headers.append(name, value)
    let response: Response
    try {
      response = await fetch(config.path, {
        method: config.method || 'POST', headers, body: event.json, signal: AbortSignal.timeout(config.timeoutMs ?? 10_000),
      })
      await response.arrayBuffer()
    } catch (error) {
      throw new WatchHandlerError(`Failed to invoke http watch handler: ${(error as Error).message}`)
    }
    if (response.status < 200 || response.status > 299) throw new WatchHandlerError(`Failed to invoke http watch handler: status ${response.status}`)
  }
}
