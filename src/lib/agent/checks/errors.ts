// Check outputs for network failures, worded as Go's net and net/http errors read in Consul's
// check output (operators grep for "connection refused"), e.g.
//   dial tcp 127.0.0.1:1: connect: connection refused
//   Get "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused

const syscallText: Record<string, string> = {
  ECONNREFUSED: 'connect: connection refused',
  ECONNRESET: 'read: connection reset by peer',
  EHOSTUNREACH: 'connect: no route to host',
  ENETUNREACH: 'connect: network is unreachable',
  EADDRNOTAVAIL: 'connect: cannot assign requested address',
}

/** Go's "dial tcp host:port: ..." text for a Node socket error. */
export function dialErrorText(target: string, error: NodeJS.ErrnoException): string {
  if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN') {
    return `dial tcp: lookup ${target.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')}: no such host`
  }
  const known = error.code ? syscallText[error.code] : undefined
  return known ? `dial tcp ${target}: ${known}` : `dial tcp ${target}: ${error.message}`
}

/** Go's url.Error op: the method with only its first letter upper case ("Get", "Post"). */
export function goMethod(method: string): string {
  return method.charAt(0).toUpperCase() + method.slice(1).toLowerCase()
}
