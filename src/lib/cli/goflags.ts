// Go `flag` package semantics (Consul docs: commands): `-f`, `--f`, `-f=v`, `-f v`; booleans only take
// `-f=value`; parsing stops at the first non-flag argument, or after `--`; a lone `-` is positional.
// Error texts are Go's, so scripts that grep them keep working.
import {FlagError, HelpRequested} from './errors.js'
import {type FlagSet, type FlagValues} from './flags.js'

export interface ParsedArgs<F extends FlagSet> {
  flags: FlagValues<F>
  /** Names of flags given on the command line (for flag > env > default precedence). */
  set: ReadonlySet<string>
  args: string[]
}

export function parseGoFlags<F extends FlagSet>(defs: F, argv: readonly string[]): ParsedArgs<F> {
  const values: Record<string, unknown> = {}
  for (const [name, def] of Object.entries(defs)) values[name] = Array.isArray(def.default) ? [...def.default] : def.default
  const set = new Set<string>()
  let i = 0
  while (i < argv.length) {
    const arg = argv[i]
    if (arg.length < 2 || arg[0] !== '-') break
    let minuses = 1
    if (arg[1] === '-') {
      minuses = 2
      if (arg.length === 2) {
        i += 1
        break
      }
    }
    let name = arg.slice(minuses)
    if (name.length === 0 || name[0] === '-' || name[0] === '=') throw new FlagError(`bad flag syntax: ${arg}`)
    i += 1
    let value: string | undefined
    const eq = name.indexOf('=', 1)
    if (eq > 0) {
      value = name.slice(eq + 1)
      name = name.slice(0, eq)
    }
    const def = Object.hasOwn(defs, name) ? defs[name] : undefined
    if (!def) {
      if (name === 'help' || name === 'h') throw new HelpRequested()
      throw new FlagError(`flag provided but not defined: -${name}`)
    }
    if (def.kind === 'bool') {
      try {
        values[name] = def.parse(value ?? 'true', values[name])
      } catch (error) {
        throw new FlagError(`invalid boolean value ${goQuote(value ?? '')} for -${name}: ${(error as Error).message}`)
      }
    } else {
      if (value === undefined) {
        if (i >= argv.length) throw new FlagError(`flag needs an argument: -${name}`)
        value = argv[i]
        i += 1
      }
      try {
        values[name] = def.parse(value, values[name])
      } catch (error) {
        throw new FlagError(`invalid value ${goQuote(value)} for flag -${name}: ${(error as Error).message}`)
      }
    }
    set.add(name)
  }
  return {flags: values as FlagValues<F>, set, args: argv.slice(i)}
}

/** Go's %q for the common case: JSON string quoting matches it for printable text. */
export function goQuote(text: string): string {
  return JSON.stringify(text)
}

/** mitchellh/cli treats -h, -help, --help anywhere before `--` as a help request. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false
    if (arg === '-h' || arg === '-help' || arg === '--help') return true
  }
  return false
}
