// Every error the HTTP API answers with, declared once with its status. Bodies are one line of
// plain text, as Consul writes them (SPEC-http §1.5). Handlers throw these; server.ts maps them.

export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly code: string, readonly headers: Record<string, string> = {}) {
    super(message)
  }
}

/** A client's mistake. Consul answers some of these with 500; coord says 400 with the reason. */
export const badRequest = (reason: string) => new HttpError(400, reason, 'BAD_REQUEST')
export const notFound = (body = '') => new HttpError(404, body, 'NOT_FOUND')
export const tooLarge = (reason: string) => new HttpError(413, reason, 'TOO_LARGE')
export const methodNotAllowed = (method: string, allowed: string[]) =>
  new HttpError(405, `method ${method} not allowed`, 'METHOD_NOT_ALLOWED', {Allow: ['OPTIONS', ...allowed].join(',')})
/** Consul's ErrNoDCPath text: callers reading an answer (DNS) recognise it by this exact text, as Consul's IsErrNoDCPath does. */
export const NO_PATH_TO_DATACENTER = 'No path to datacenter'
export const noPathToDatacenter = () => new HttpError(500, NO_PATH_TO_DATACENTER, 'NO_PATH_TO_DC')

/**
 * Error codes whose text is Consul's own multi-line one, kept byte for byte: go-multierror's
 * "N errors occurred:\n\t* ..." for keyring operations (clients and tests match on it).
 */
export const VERBATIM_CODES: ReadonlySet<string> = new Set(['KEYRING_FAILED'])

/**
 * An error reason on one line: control characters a client smuggled in (a query value with %0A,
 * a JSON string with \n, raw body bytes quoted by a parse error) are written as escapes, the way
 * Go's %q would, so no reason ever spans lines.
 */
export function oneLine(reason: string): string {
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  return reason.replace(/[\u0000-\u001f\u007f]/g, (c) => {
    if (c === '\n') return '\\n'
    if (c === '\r') return '\\r'
    if (c === '\t') return '\\t'
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`
  })
}
