// TCP checks (Consul's CheckTCP): passing when a connection opens within the timeout, output
// "TCP connect <addr>: Success"; critical with the dial error otherwise.
//
// The timeout is judged after pending I/O (`afterPendingIo`): when the agent's event loop stalls
// (a loaded machine, a long GC) past the timeout, Node runs expired timers before it polls sockets,
// so a connection the kernel completed in time would otherwise read as a timeout.
import {connect} from 'node:net'
import {dialErrorText} from './errors.js'
import type {ProbeResult} from './types.js'

/** "host:port" or "[v6]:port" → host and port; undefined when it has no port. */
export function splitHostPort(address: string): {host: string; port: number} | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:[\]]*):(\d+)$/.exec(address)
  if (!m || Number(m[2]) > 65535) return undefined
  return {host: m[1] === '' ? 'localhost' : m[1], port: Number(m[2])}
}

/** Runs `fn` after the event loop's next I/O poll (setImmediate's check phase follows the poll phase). */
export function afterPendingIo(fn: () => void): void {
  setImmediate(fn)
}

export function tcpProbe(address: string, timeoutMs: number, signal: AbortSignal): Promise<ProbeResult> {
  const target = splitHostPort(address)
  if (!target) return Promise.resolve({status: 'critical', output: `dial tcp ${address}: address ${address}: missing port in address`})
  return new Promise((resolve) => {
    const socket = connect({host: target.host, port: target.port})
    let settled = false
    const done = (result: ProbeResult) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      socket.destroy()
      resolve(result)
    }
    const onAbort = () => done({status: 'critical', output: 'check stopped'})
    const timer = setTimeout(() => afterPendingIo(() => done({status: 'critical', output: `dial tcp ${address}: i/o timeout`})), timeoutMs)
    signal.addEventListener('abort', onAbort)
    socket.once('connect', () => done({status: 'passing', output: `TCP connect ${address}: Success`}))
    socket.once('error', (error) => done({status: 'critical', output: dialErrorText(address, error)}))
  })
}
