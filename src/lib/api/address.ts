// Agent addresses as the consul CLI takes them (-http-addr, CONSUL_HTTP_ADDR; Consul docs: commands#http-api-options):
// `host:port`, `http://host:port`, `https://host:port`, `unix:///path/to.sock`.
import {ApiConfigError} from './errors.js'

export interface AgentAddress {
  scheme: 'http' | 'https'
  /** Host without brackets (IPv6 `::1`); `localhost` for unix sockets. */
  host: string
  port: number
  /** Set for `unix://` addresses. */
  socketPath?: string
  /** `http://127.0.0.1:8500`: the origin requests go to (and that error messages show, as Go's do). */
  origin: string
  /** `127.0.0.1:8500` or `/path/to.sock`: what Go's dial error names. */
  dialTarget: string
}

export const DEFAULT_HTTP_ADDR = '127.0.0.1:8500'

/** Parses an address; `useTls` (CONSUL_HTTP_SSL) picks https when the address has no scheme. */
export function parseAddress(input: string, useTls = false): AgentAddress {
  const text = input.trim() === '' ? DEFAULT_HTTP_ADDR : input.trim()
  if (text.startsWith('unix://')) {
    const socketPath = text.slice('unix://'.length)
    if (socketPath === '') throw new ApiConfigError(`Unix socket address is missing a path: ${input}`)
    return {scheme: 'http', host: 'localhost', port: 80, socketPath, origin: 'http://localhost', dialTarget: socketPath}
  }
  let scheme: 'http' | 'https' = useTls ? 'https' : 'http'
  let rest = text
  const schemeMatch = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\//.exec(text)
  if (schemeMatch) {
    const given = schemeMatch[1].toLowerCase()
    if (given !== 'http' && given !== 'https') throw new ApiConfigError(`Unknown protocol scheme: ${given}`)
    scheme = given
    rest = text.slice(schemeMatch[0].length)
  }
  rest = rest.replace(/\/+$/, '')
  let host: string
  let portText: string | undefined
  const v6 = /^\[([^\]]+)\](?::(\d*))?$/.exec(rest)
  if (v6) {
    host = v6[1]
    portText = v6[2]
  } else {
    const parts = rest.split(':')
    if (parts.length > 2) throw new ApiConfigError(`address ${rest}: too many colons in address`)
    host = parts[0]
    portText = parts[1]
  }
  if (host === '') host = '127.0.0.1'
  const port = portText === undefined || portText === '' ? (scheme === 'https' ? 443 : 80) : Number(portText)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ApiConfigError(`invalid port ${JSON.stringify(portText)} in address ${input}`)
  const hostPart = host.includes(':') ? `[${host}]` : host
  return {scheme, host, port, origin: `${scheme}://${hostPart}:${port}`, dialTarget: `${hostPart}:${port}`}
}
