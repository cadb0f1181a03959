// `coord exec`'s waiting and rendering (Consul command/exec/exec.go waitForJob + TargetedUI):
// print each node's output and exit as they arrive, end after a quiet period (-wait, doubled while
// an acknowledged node has not reported its exit), then the summary line. Exit status: 2 when a
// node exited non-zero or never reported, 0 otherwise; 1 when the results could not be read.
import type {RExecResult} from '../api/rexec-client.js'
import type {TimedQueue} from '../timed-queue.js'

/** "==> node: line" (arrow) or "    node: line" for each line, trailing whitespace trimmed. */
export function prefixLines(arrow: boolean, node: string, message: string): string {
  const head = arrow ? '==>' : '   '
  return message.split('\n').map((line) => `${head} ${node}: ${line}`).join('\n').replace(/\s+$/u, '')
}

export interface WaitOptions {
  waitMs: number
  verbose: boolean
  out: (line: string) => void
  err: (line: string) => void
  signal?: AbortSignal
  now?: () => number
}

export interface JobOutcome {
  acks: number
  exits: number
  failed: number
  exitCode: 0 | 1 | 2
  /** Nodes that acknowledged, in order. */
  nodes: string[]
}

export async function waitForJob(results: TimedQueue<RExecResult>, o: WaitOptions): Promise<JobOutcome> {
  const now = o.now ?? Date.now
  const start = now()
  const nodes: string[] = []
  let exits = 0
  let failed = 0
  for (;;) {
    const waitMs = nodes.length > exits ? o.waitMs * 2 : o.waitMs
    const next = await results.next(waitMs, o.signal)
    if (next === 'end') return {acks: nodes.length, exits, failed, exitCode: 1, nodes}
    if (next === 'idle') break
    switch (next.kind) {
      case 'ack':
        nodes.push(next.node)
        if (o.verbose) o.out(prefixLines(true, next.node, 'acknowledged'))
        break
      case 'heartbeat':
        if (o.verbose) o.out(prefixLines(true, next.node, 'heartbeat received'))
        break
      case 'output':
        o.out(prefixLines(false, next.node, next.output.toString('utf8')))
        break
      case 'exit':
        exits++
        if (next.code !== 0) failed++
        o.out(prefixLines(true, next.node, `finished with exit code ${next.code}`))
        break
      case 'error':
        o.err(next.message)
        if (next.fatal) return {acks: nodes.length, exits, failed, exitCode: 1, nodes}
        break
    }
  }
  o.out(`${exits} / ${nodes.length} node(s) completed / acknowledged`)
  if (o.verbose) o.out(`Completed in ${((now() - start) / 1000).toFixed(2)} seconds`)
  if (exits < nodes.length) failed++
  return {acks: nodes.length, exits, failed, exitCode: failed > 0 ? 2 : 0, nodes}
}
