// HTTP request timings in Consul's two names (agent/http.go handleFuncMetrics): consul.api.http with
// method and path labels ("v1_kv_"), and the older consul.http.<METHOD>.<parts> ("consul.http.GET.v1.kv._",
// a trailing slash becoming "_" so /v1/query and /v1/query/<id> differ). Both timers are made once
// per route and method (every request records them: no name or label building per request).
import {metrics, type Timer} from '../metrics/metrics.js'

const timers = new Map<string, Map<string, readonly [Timer, Timer]>>()

export function recordHttp(method: string, routePath: string, start: number): void {
  let byMethod = timers.get(routePath)
  if (!byMethod) timers.set(routePath, byMethod = new Map())
  let pair = byMethod.get(method)
  if (!pair) {
    const parts = routePath.split('/').slice(1).map((part) => part === '' ? '_' : part)
    const labels = Object.freeze({method, path: routePath.slice(1).replaceAll('/', '_')})
    pair = [metrics.timer(['api', 'http'], labels), metrics.timer(['http', method, ...parts])]
    byMethod.set(method, pair)
  }
  pair[0].measureSince(start)
  pair[1].measureSince(start)
}
