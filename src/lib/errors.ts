// The one error base of the project (STYLE.md house rule 4). Callers and tests branch on `code`,
// never on message text. The CLI maps `exitCode` in one place (lib/cli/base-command.ts catch);
// the HTTP layer maps `httpStatus` in its error handler.

export interface CoordErrorOptions {
  /** Exit status for the CLI; Consul uses 0, 1 and (rarely) 2. Default 1. */
  exitCode?: number
  /** HTTP status when this error reaches the API edge. Default 500. */
  httpStatus?: number
  /** The next command to run, shown after the message. */
  hint?: string
  cause?: unknown
}

export class CoordError extends Error {
  readonly code: string
  readonly exitCode: number
  readonly httpStatus: number
  readonly hint?: string

  constructor(code: string, message: string, options: CoordErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'CoordError'
    this.code = code
    this.exitCode = options.exitCode ?? 1
    this.httpStatus = options.httpStatus ?? 500
    this.hint = options.hint
  }
}
