// H2PING checks (Consul's CheckH2PING): open an HTTP/2 connection to "host:port" (TLS by default,
// h2c with prior knowledge when H2PingUseTLS is false), send one PING frame and wait for its ACK
// within the timeout. Outputs as Consul's: "HTTP2 ping was successful", "Failed to dial to
// <target>: <error>", "HTTP2 ping failed: <error>".
import {connect} from 'node:http2'
import {dialErrorText} from './errors.js'
import {afterPendingIo, splitHostPort} from './tcp.js'
import type {ProbeResult} from './types.js'

export interface H2PingTls {
  useTls: boolean
  skipVerify: boolean
  /** SNI and the name verified; '' = the target host. */
  serverName: string
}

export function h2pingProbe(target: string, tls: H2PingTls, timeoutMs: number, signal: AbortSignal): Promise<ProbeResult> {
  const address = splitHostPort(target)
  if (!address) return Promise.resolve({status: 'critical', output: `Failed to dial to ${target}: address ${target}: missing port in address`})
  return new Promise((resolve) => {
    let settled = false
    let connected = false
    const authority = `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`
    const session = connect(`${tls.useTls ? 'https' : 'http'}://${authority}`, tls.useTls
      ? {rejectUnauthorized: !tls.skipVerify, ...(tls.serverName ? {servername: tls.serverName} : {})}
      : {})
    const finish = (result: ProbeResult) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      session.destroy()
      resolve(result)
    }
    const onAbort = () => finish({status: 'critical', output: 'check stopped'})
    signal.addEventListener('abort', onAbort)
    // Judged after pending I/O, as tcp.ts explains: a stalled event loop is not a dead target.
    const timer = setTimeout(() => afterPendingIo(() => finish({
      status: 'critical', output: connected ? 'HTTP2 ping failed: context deadline exceeded' : `Failed to dial to ${target}: dial tcp ${target}: i/o timeout`,
    })), timeoutMs)
    session.on('error', (error: NodeJS.ErrnoException) => finish({
      status: 'critical',
      output: connected ? `HTTP2 ping failed: ${error.message}` : `Failed to dial to ${target}: ${error.code && error.syscall === 'connect' ? dialErrorText(target, error) : error.message}`,
    }))
    session.on('connect', () => {
      connected = true
      session.ping((error) => {
        if (error) finish({status: 'critical', output: `HTTP2 ping failed: ${error.message}`})
        else finish({status: 'passing', output: 'HTTP2 ping was successful'})
      })
    })
  })
}
