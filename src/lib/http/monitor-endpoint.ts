// GET /v1/agent/monitor?loglevel=<level>&logjson — streams this agent's log (Consul docs: api-docs/agent): the
// recent lines LogHub keeps first (context, as the monitor replays its buffer), then every new
// record at or above the level, one per line, until the client goes away.
import type {AgentDeps, Route} from './context.js'
import {badRequest} from '../errors.js'
import {flag} from './query.js'
import {formatRecord, levelEnabled, parseLogLevel, type LogRecord} from '../logger.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type MonitorDeps = AgentDeps<'logs'>


/** A slow reader may fall this far behind (bytes buffered) before lines are dropped for it. */
const MAX_BUFFERED = 1 << 20

export function monitorRoutes(agent: MonitorDeps): Route[] {
  return [{path: '/v1/agent/monitor', exact: true, methods: {GET: async (ctx) => {
    const raw = ctx.params.get('loglevel') ?? 'info'
    const level = parseLogLevel(raw === '' ? 'info' : raw)
    if (!level) throw badRequest(`Unknown log level: ${raw}`)
    const json = flag(ctx.params, 'logjson')
    const {res} = ctx
    res.writeHead(200, {'Content-Type': 'text/plain', 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff'})
    res.flushHeaders()
    let dropped = 0
    const write = (record: LogRecord): void => {
      if (res.writableLength > MAX_BUFFERED) {
        dropped += 1
        return
      }
      if (dropped > 0) {
        res.write(`[WARN] monitor: dropped ${dropped} log lines (slow reader)\n`)
        dropped = 0
      }
      res.write(`${formatRecord(record, json)}\n`)
    }
    for (const record of [...agent.logs.recent]) if (levelEnabled(record.level, level)) write(record)
    const unsubscribe = agent.logs.subscribe(level, write)
    await ctx.closed
    unsubscribe()
  }}}]
}
