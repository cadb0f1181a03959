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
  // Go's Duration is an int64 of nanoseconds (about 292 years): beyond it ParseDuration fails.
  if (total > MAX_DURATION_MS) throw new Error(`time: invalid duration "${text}"`)
  return match[1] === '-' ? -total : total
}

/** The longest Go duration, in milliseconds ((2^63 - 1) ns). */
export const MAX_DURATION_MS = 9_223_372_036_854.775

/**
 * A delay Node's timers can hold: setTimeout takes at most 2^31 - 1 ms (24.8 days) and turns
 * anything longer into 1 ms, which would make a check with `Interval: "1000h"` run in a tight loop.
 * Longer delays are cut to the longest one (an interval that long fires after 24.8 days instead).
 */
export function timerDelayMs(ms: number): number {
  return Math.min(Math.max(0, ms), 2 ** 31 - 1)
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

/** A blocking query's wait when it names none, and the most it may ask for (Consul's defaults: 5 and 10 minutes). */
export const DEFAULT_WAIT_MS = 5 * 60_000
export const MAX_WAIT_MS = 10 * 60_000
