// `-format=json` on read commands (a coord extra; ARCHITECTURE.md, house rule 10).
import {CommandError} from './errors.js'
import {stringFlag} from './flags.js'

export const formatFlag = {
  format: stringFlag({description: 'Output format: "text" (default, Consul\'s layout) or "json".', helpValue: '<text|json>'}),
}

/** true for json, false for text; anything else is Consul's `Unknown format` error. */
export function wantsJson(format: string): boolean {
  if (format === 'json') return true
  if (format === '' || format === 'text' || format === 'pretty') return false
  throw new CommandError(`Unknown format: ${format}`)
}
