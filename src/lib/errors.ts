// The one error model of the project. Every error that crosses a boundary (HTTP answer, RPC reply,
// CLI exit) is a CoordError with a `code` and an HTTP status; callers and tests branch on `code`,
// never on message text. The CLI maps `exitCode` in one place (lib/cli/base-command.ts catch); the
// HTTP edge maps `httpStatus` in one place (http/server.ts sendError); the RPC transport carries
// code and status across the wire (rpc/transport.ts), so a server's error keeps both on the client.

export interface CoordErrorOptions {
  /** Exit status for the CLI; Consul uses 0, 1 and (rarely) 2. Default 1. */
  exitCode?: number
  /** HTTP status when this error reaches the API edge. Default 500. */
  httpStatus?: number
  /** The next command to run, shown after the message. */
  hint?: string
  /** Extra HTTP headers on the error answer (Allow on a 405). */
  headers?: Record<string, string>
  cause?: unknown
}

export class CoordError extends Error {
  readonly code: string
  readonly exitCode: number
  readonly httpStatus: number
  readonly hint?: string
  readonly headers: Record<string, string>

  constructor(code: string, message: string, options: CoordErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'CoordError'
    this.code = code
    this.exitCode = options.exitCode ?? 1
    this.httpStatus = options.httpStatus ?? 500
    this.hint = options.hint
    this.headers = options.headers ?? {}
  }
}

/** The error code of anything thrown: a CoordError's own, or undefined for a plain Error. */
export function errorCode(error: unknown): string | undefined {
  return error instanceof CoordError ? error.code : undefined
}

/** An error the HTTP API answers with: the status first, as handlers write them. Bodies are one line of plain text, as Consul writes them. */
export class HttpError extends CoordError {
  constructor(status: number, message: string, code: string, headers: Record<string, string> = {}) {
    super(code, message, {httpStatus: status, headers})
    this.name = 'HttpError'
  }

  get status(): number {
    return this.httpStatus
  }
}

/** A client's mistake. Consul answers some of these with 500; coord says 400 with the reason. */
export const badRequest = (reason: string) => new HttpError(400, reason, 'BAD_REQUEST')
export const notFound = (body = '') => new HttpError(404, body, 'NOT_FOUND')
export const tooLarge = (reason: string) => new HttpError(413, reason, 'TOO_LARGE')
export const methodNotAllowed = (method: string, allowed: string[]) =>
  new HttpError(405, `method ${method} not allowed`, 'METHOD_NOT_ALLOWED', {Allow: ['OPTIONS', ...allowed].join(',')})
/** Consul's ErrNoDCPath text (its wording on the wire); code NO_PATH_TO_DC is what callers branch on. */
export const NO_PATH_TO_DATACENTER = 'No path to datacenter'
export const NO_PATH_TO_DC = 'NO_PATH_TO_DC'
export const noPathToDatacenter = () => new HttpError(500, NO_PATH_TO_DATACENTER, NO_PATH_TO_DC)

/** The errno (ENOSPC, EIO, ...) of an error or of any error in its `cause` chain (bounded depth). */
export function errnoOf(error: unknown): string | undefined {
  let current: unknown = error
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    const code = (current as NodeJS.ErrnoException).code
    if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code
    current = current.cause
  }
  return undefined
}
