// Prometheus text format read by a real parser (the npm parse-prometheus-text-format package).
import {createRequire} from 'node:module'

export interface PromMetric {
  value?: string
  count?: string
  sum?: string
  quantiles?: Record<string, string>
  labels?: Record<string, string>
}

export interface PromFamily {
  name: string
  help: string
  type: 'COUNTER' | 'GAUGE' | 'SUMMARY' | 'HISTOGRAM' | 'UNTYPED'
  metrics: PromMetric[]
}

const parse = createRequire(import.meta.url)('parse-prometheus-text-format') as (text: string) => PromFamily[]

/** The families of a scrape by name; throws when the text is not valid exposition format. */
export function parsePrometheus(text: string): Map<string, PromFamily> {
  return new Map(parse(text).map((family) => [family.name, family]))
}
