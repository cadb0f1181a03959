// How an error becomes an HTTP answer's body. The errors themselves (HttpError, badRequest, ...)
// live in ../errors.ts, the project's one error model.

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
