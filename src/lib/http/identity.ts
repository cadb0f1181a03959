// Who is asking: the ACL token a request carries, read once per request in Consul's order
// (agent/http.go parseTokenInternal): ?token=, then X-Consul-Token, then Authorization: Bearer.
// The authorizer will resolve it in one place (server.ts serve); tokens never reach a log
// (redactTokens, as Consul's logURL).
import type {IncomingHttpHeaders} from 'node:http'

export interface RequestIdentity {
  /** The secret the request presented; '' when it presented none (the agent's default token applies). */
  readonly token: string
  readonly source: 'query' | 'header' | 'bearer' | 'none'
}

export function requestIdentity(params: URLSearchParams, headers: IncomingHttpHeaders): RequestIdentity {
  const query = params.get('token')
  if (query) return {token: query, source: 'query'}
  const header = headers['x-consul-token']
  const consulToken = Array.isArray(header) ? header[0] : header
  if (consulToken) return {token: consulToken, source: 'header'}
  const authorization = headers.authorization
  if (authorization) {
    const parts = authorization.split(' ')
    // "<Scheme> <Value>" with scheme Bearer (any case); a bearer token has no spaces, so only its first word counts.
    if (parts.length > 1 && parts[0].toLowerCase() === 'bearer') {
      const token = parts.slice(1).join(' ').trim().split(' ')[0].trim()
      return {token, source: 'bearer'}
    }
  }
  return {token: '', source: 'none'}
}

/** The URL with every ?token= value replaced by <hidden>, for logs. */
export function redactTokens(url: string): string {
  const queryStart = url.indexOf('?')
  if (queryStart === -1) return url
  return url.slice(0, queryStart + 1) + url.slice(queryStart + 1).split('&').map((pair) => /^token(=|$)/.test(pair) ? 'token=<hidden>' : pair).join('&')
}
