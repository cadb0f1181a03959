// Go-style duration strings ("300ms", "1m30s", "2h") at the edges; milliseconds inside.
// Consul's flags, query parameters (?wait=) and JSON bodies (TTL, LockDelay) all use Go's syntax,
// so this is the one parser every layer shares.

const unitMs: Record<string, number> = {
  ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000,
}

/** Parses a Go duration into milliseconds (fractional below 1 ms). Throws `Error` naming the input. */
export function parseDuration(text: string): number {
  const input = text.trim()
  if (input === '0' || input === '+0' || input === '-0') return 0
  const match = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(input)
  if (!match) throw new Error(`time: invalid duration "${text}"`)
  let total = 0
  for (const part of input.replace(/^[-+]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * unitMs[part[2]]
  }
  return match[1] === '-' ? -total : total
}

/** Formats milliseconds the way Go's time.Duration.String() does ("1m30s", "500ms", "0s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s'
  const sign = ms < 0 ? '-' : ''
  let rest = Math.abs(ms)
  if (rest < 1000) {
    if (rest >= 1) return `${sign}${trim(rest)}ms`
    if (rest >= 1e-3) return `${sign}${trim(rest * 1000)}µs`
    return `${sign}${trim(rest * 1e6)}ns`
  }
  const hours = Math.floor(rest / 3_600_000)
  rest -= hours * 3_600_000
  const minutes = Math.floor(rest / 60_000)
  rest -= minutes * 60_000
  const seconds = trim(rest / 1000)
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}s`
  if (minutes > 0) return `${sign}${minutes}m${seconds}s`
  return `${sign}${seconds}s`
}

function trim(value: number): string {
  return String(Number(value.toFixed(9)))
}
