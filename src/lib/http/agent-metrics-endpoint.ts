// /v1/agent/metrics (+ /stream), /v1/agent/host, /v1/agent/version and the profiling endpoints
// `coord debug` calls (Consul docs: api-docs/agent; agent/agent_endpoint.go AgentMetrics,
// AgentMetricsStream, AgentHost, AgentVersion).
import type {AgentDeps, RequestContext, Route} from './context.js'
import {sendJson} from './respond.js'
import {HttpError, badRequest} from '../errors.js'
import {INMEM_INTERVAL_MS} from '../metrics/metrics.js'
import {collectHostInfo} from '../agent/host-info.js'
import {cpuProfile, heapProfile} from '../agent/profile.js'
import {parseDuration} from '../duration.js'

/** What this endpoint family uses of the agent, and nothing more. */
export type AgentMetricsDeps = AgentDeps<'config' | 'telemetry' | 'version'>

/** Consul's answer to ?format=prometheus without prometheus_retention_time (415, text/plain). */
export const PROMETHEUS_DISABLED = 'Prometheus is not enabled since its retention time is not positive'

/** Longest CPU profile the endpoint takes (Consul's debug command caps its own at its duration). */
const MAX_PROFILE_MS = 5 * 60_000

export function agentMetricsRoutes(agent: AgentMetricsDeps): Route[] {
  return [
    {path: '/v1/agent/metrics', exact: true, methods: {GET: (ctx) => metricsAnswer(agent, ctx)}},
    {path: '/v1/agent/metrics/stream', exact: true, methods: {GET: (ctx) => metricsStream(agent, ctx)}},
    {path: '/v1/agent/host', exact: true, methods: {GET: (ctx) => { sendJson(ctx.req, ctx.res, collectHostInfo(), ctx.query.pretty) }}},
    // Consul's version.BuildInfo.
    {path: '/v1/agent/version', exact: true, methods: {GET: (ctx) => {
      sendJson(ctx.req, ctx.res, {SHA: '', BuildDate: '', HumanVersion: agent.version, FIPS: ''}, ctx.query.pretty)
    }}},
    {path: '/v1/agent/debug/pprof/profile', exact: true, methods: {GET: async (ctx) => {
      requireDebug(agent)
      const raw = ctx.params.get('seconds') ?? '30'
      const seconds = /^\d+$/.test(raw) ? Number(raw) : NaN
      if (!Number.isSafeInteger(seconds) || seconds < 1 || seconds * 1000 > MAX_PROFILE_MS) throw badRequest(`Invalid seconds: ${JSON.stringify(raw)} (1 to ${MAX_PROFILE_MS / 1000})`)
      const profile = await cpuProfile(seconds * 1000, ctx.closed)
      if (profile !== undefined) sendBytes(ctx, profile)
    }}},
    {path: '/v1/agent/debug/pprof/heap', exact: true, methods: {GET: async (ctx) => {
      requireDebug(agent)
      const raw = ctx.params.get('duration') ?? '1s'
      let ms: number
      try {
        ms = parseDuration(raw)
      } catch {
        throw badRequest(`Invalid duration: ${JSON.stringify(raw)}`)
      }
      if (ms < 0 || ms > MAX_PROFILE_MS) throw badRequest(`Invalid duration: ${JSON.stringify(raw)} (0s to 5m)`)
      const profile = await heapProfile(ms, ctx.closed)
      if (profile !== undefined) sendBytes(ctx, profile)
    }}},
  ]
}

/** As Consul registers its pprof handlers only with enable_debug or ACLs on (then operator:read, route-acl.ts). */
function requireDebug(agent: AgentMetricsDeps): void {
  if (!agent.config.enableDebug && !agent.config.acl.enabled) {
    throw new HttpError(404, 'Profiling is off: set enable_debug = true in the agent configuration', 'DEBUG_DISABLED')
  }
}

function sendBytes(ctx: RequestContext, body: string): void {
  if (ctx.res.destroyed) return
  ctx.res.writeHead(200, {'Content-Type': 'application/octet-stream', 'Content-Length': Buffer.byteLength(body)})
  ctx.res.end(body)
}

/** ?format=prometheus or an OpenMetrics Accept header asks for Prometheus text (Consul's enablePrometheusOutput). */
function wantsPrometheus(ctx: RequestContext): boolean {
  if (ctx.params.get('format') === 'prometheus') return true
  const accept = String(ctx.req.headers.accept ?? '')
  return accept.split(',').some((part) => {
    const [mime, ...rest] = part.split(';').map((s) => s.trim())
    return mime.toLowerCase() === 'application/openmetrics-text' || (mime.toLowerCase() === 'text/plain' && rest[0] === 'version=0.4.0')
  })
}

async function metricsAnswer(agent: AgentMetricsDeps, ctx: RequestContext): Promise<void> {
  const telemetry = agent.telemetry
  if (wantsPrometheus(ctx)) {
    if (!telemetry?.prometheus) throw new HttpError(415, PROMETHEUS_DISABLED, 'PROMETHEUS_DISABLED')
    const text = await telemetry.prometheus.render()
    if (ctx.res.destroyed) return
    ctx.res.writeHead(200, {'Content-Type': telemetry.prometheus.contentType})
    ctx.res.end(text)
    return
  }
  const summary = telemetry?.metrics.inmem.summary()
  // go-metrics' DisplayMetrics error before its first interval.
  if (!summary) throw new HttpError(500, 'no metric intervals have been initialized yet', 'NO_METRICS')
  sendJson(ctx.req, ctx.res, summary, ctx.query.pretty)
}

/** One summary per completed interval, as indented JSON objects one after another (Consul's stream), until the client leaves. */
async function metricsStream(agent: AgentMetricsDeps, ctx: RequestContext): Promise<void> {
  const telemetry = agent.telemetry
  if (!telemetry) throw new HttpError(500, 'metrics are not collected by this agent', 'NO_METRICS')
  const {res} = ctx
  res.writeHead(200, {'Content-Type': 'application/json', 'Cache-Control': 'no-cache'})
  res.flushHeaders()
  let timer: NodeJS.Timeout | undefined
  const next = () => {
    const now = Date.now()
    timer = setTimeout(() => {
      const summary = telemetry.metrics.inmem.summary()
      if (summary && !res.destroyed) res.write(`${JSON.stringify(summary, null, 4)}\n`)
      next()
    }, INMEM_INTERVAL_MS - (now % INMEM_INTERVAL_MS) + 5)
  }
  next()
  await ctx.closed
  clearTimeout(timer)
}
