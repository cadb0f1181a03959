// Errors of the /v1 client. Their messages are the Go client's, because the CLI prints them verbatim
// after Consul's prefixes ("Error querying Consul agent: <err>", Consul docs: commands).
import {CoordError} from '../errors.js'

/** The agent answered with a status the call does not accept: `Unexpected response code: 403 (<body>)`. */
export class ApiResponseError extends CoordError {
  readonly status: number
  readonly body: string

  constructor(status: number, body: string) {
    super('API_RESPONSE', `Unexpected response code: ${status} (${body})`, {httpStatus: status})
    this.name = 'ApiResponseError'
    this.status = status
    this.body = body
  }
}

/** The request never got an answer (refused, reset, DNS, TLS). Message in Go's url.Error form. */
export class ApiConnectionError extends CoordError {
  readonly syscallCode?: string

  constructor(message: string, syscallCode?: string, cause?: unknown) {
    super('API_CONNECTION', message, {cause})
    this.name = 'ApiConnectionError'
    this.syscallCode = syscallCode
  }
}

/** The client could not be built (bad address, unreadable TLS or token file). */
export class ApiConfigError extends CoordError {
  constructor(message: string, cause?: unknown) {
    super('API_CONFIG', message, {cause})
    this.name = 'ApiConfigError'
  }
}

/** The agent's answer could not be decoded. */
export class ApiDecodeError extends CoordError {
  constructor(message: string, cause?: unknown) {
    super('API_DECODE', message, {cause})
    this.name = 'ApiDecodeError'
  }
}

/** Go's wording for the errno codes a dial or a read can end with. */
export function goNetReason(code: string | undefined, fallback: string): string {
  switch (code) {
    case 'ECONNREFUSED': return 'connect: connection refused'
    case 'ENOENT': return 'connect: no such file or directory'
    case 'EACCES': return 'connect: permission denied'
    case 'ETIMEDOUT': case 'UND_ERR_CONNECT_TIMEOUT': return 'i/o timeout'
    case 'EHOSTUNREACH': return 'connect: no route to host'
    case 'ENETUNREACH': return 'connect: network is unreachable'
    case 'ECONNRESET': case 'UND_ERR_SOCKET': return 'read: connection reset by peer'
    default: return fallback
  }
}
