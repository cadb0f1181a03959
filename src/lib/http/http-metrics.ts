// HTTP request timings in Consul's two names (agent/http.go handleFuncMetrics): consul.api.http with
// method and path labels ("v1_kv_"), and the older consul.http.<METHOD>.<parts> ("consul.http.GET.v1.kv._",
// a trailing slash becoming "_" so /v1/query and /v1/query/<id> differ). Keys are built once per route.
import {metrics} from '../metrics/metrics.js'

const compat = new Map<string, readonly string[]>()
const labelled = new Map<string, Readonly<{method: string; path: string}>>()

export function recordHttp(method: string, routePath: string, start: number): void {
  const id = `${method} ${routePath}`
  let key = compat.get(id)
  let labels = labelled.get(id)
  if (!key || !labels) {
    const parts = routePath.split('/').slice(1).map((part) => part === '' ? '_' : part)
    key = ['http', method, ...parts]
    labels = {method, path: routePath.slice(1).replaceAll('/', '_')}
    compat.set(id, key)
    labelled.set(id, labels)
  }
  metrics.measureSince(['api', 'http'], start, labels)
  metrics.measureSince(key, start)
}
