// UDP checks (Consul's CheckUDP): send a datagram (Consul's Message is empty) to "host:port" on a
// connected socket and wait for one byte back. A reply, or no answer at all within the timeout, is
// passing ("UDP connect <target>: Success": UDP cannot tell a silent service from a lost packet);
// an ICMP error (nothing listening: "connection refused") or a failed dial is critical, with Go's
// error text.
import {createSocket} from 'node:dgram'
import {isIPv6} from 'node:net'
import {splitHostPort} from './tcp.js'
import type {ProbeResult} from './types.js'

export function udpProbe(target: string, timeoutMs: number, signal: AbortSignal): Promise<ProbeResult> {
  const address = splitHostPort(target)
  if (!address) return Promise.resolve({status: 'critical', output: `dial udp ${target}: address ${target}: missing port in address`})
  return new Promise((resolve) => {
    let settled = false
    const socket = createSocket(isIPv6(address.host) ? 'udp6' : 'udp4')
    const success = {status: 'passing' as const, output: `UDP connect ${target}: Success`}
    const finish = (result: ProbeResult) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      socket.close()
      resolve(result)
    }
    const onAbort = () => finish({status: 'critical', output: 'check stopped'})
    signal.addEventListener('abort', onAbort)
    const timer = setTimeout(() => finish(success), timeoutMs)
    const local = () => {
      try {
        const a = socket.address()
        return `${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`
      } catch {
        return ''
      }
    }
    socket.on('error', (error: NodeJS.ErrnoException) => {
      const text = error.code === 'ECONNREFUSED' ? 'read: connection refused' : error.message
      finish({status: 'critical', output: `read udp ${local()}->${target}: ${text}`})
    })
    socket.on('message', () => finish(success))
    socket.connect(address.port, address.host, () => {
      socket.send(Buffer.alloc(0), (error) => {
        if (error) finish({status: 'critical', output: `write udp ${local()}->${target}: ${error.message}`})
      })
    })
  })
}
