// The CLI's error types and the one exit-code table (ARCHITECTURE.md, house rule 4). Commands throw; only
// BaseCommand's catch writes them out and picks the exit status.
import {CoordError} from '../errors.js'

/** Consul's exit statuses (Consul docs: commands). */
export const EXIT = {ok: 0, error: 1, noMatch: 2, childFailed: 2} as const

/** Bad flags or arguments: the message, then the command's usage, on stderr; exit 1. */
export class FlagError extends CoordError {
  constructor(message: string) {
    super('CLI_FLAG', message, {exitCode: EXIT.error})
    this.name = 'FlagError'
  }
}

/** -h/-help: not a failure; the caller shows help and exits 0. */
export class HelpRequested extends CoordError {
  constructor() {
    super('CLI_HELP', '', {exitCode: EXIT.ok})
    this.name = 'HelpRequested'
  }
}

/** A command failed with a Consul-worded message (printed verbatim on stderr); exit 1 unless given. */
export class CommandError extends CoordError {
  constructor(message: string, options: {exitCode?: number; cause?: unknown; hint?: string; code?: string} = {}) {
    super(options.code ?? 'CLI_COMMAND', message, {exitCode: options.exitCode ?? EXIT.error, cause: options.cause, hint: options.hint})
    this.name = 'CommandError'
  }
}

/** Exit with a status and no output (members with no match: exit 2). */
export class SilentExit extends CoordError {
  constructor(exitCode: number, code = 'CLI_SILENT') {
    super(code, '', {exitCode})
    this.name = 'SilentExit'
  }
}
