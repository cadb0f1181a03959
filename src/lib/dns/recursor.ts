// Forwarding questions outside our zones to the configured `recursors`, in order, as Consul's
// handleRecurse: a reply other than NOERROR/NXDOMAIN, a timeout or an error moves on to the next
// recursor; the first good reply is relayed. Each exchange is bounded by recursor_timeout.
import {createSocket} from 'node:dgram'
import {connect} from 'node:net'
import {encode, type Packet} from 'dns-packet'

function splitHostPort(address: string): {host: string; port: number} {
  const m = /^\[(.+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address)
  if (!m) throw new Error(`bad recursor address ${address}`)
  return {host: m[1], port: Number(m[2])}
}

function exchangeUdp(query: Buffer, address: string, timeoutMs: number): Promise<Buffer> {
  const {host, port} = splitHostPort(address)
  return new Promise((resolve, reject) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4')
    const timer = setTimeout(() => finish(new Error(`recursor ${address} timed out after ${timeoutMs} ms`)), timeoutMs)
    const finish = (error?: Error, reply?: Buffer) => {
      clearTimeout(timer)
      socket.close()
      if (error) reject(error)
      else resolve(reply!)
    }
    socket.on('error', (error) => finish(error))
    socket.on('message', (msg) => {
      // Only the reply to our id counts; anything else on the socket is ignored.
      if (msg.length >= 2 && msg.readUInt16BE(0) === query.readUInt16BE(0)) finish(undefined, msg)
    })
    socket.send(query, port, host, (error) => { if (error) finish(error) })
  })
}

function exchangeTcp(query: Buffer, address: string, timeoutMs: number): Promise<Buffer> {
  const {host, port} = splitHostPort(address)
  return new Promise((resolve, reject) => {
    const socket = connect({host, port})
    let buffered = Buffer.alloc(0)
    const timer = setTimeout(() => finish(new Error(`recursor ${address} timed out after ${timeoutMs} ms`)), timeoutMs)
    const finish = (error?: Error, reply?: Buffer) => {
      clearTimeout(timer)
      socket.destroy()
      if (error) reject(error)
      else resolve(reply!)
    }
    socket.on('error', (error) => finish(error))
    socket.on('connect', () => {
      const length = Buffer.alloc(2)
      length.writeUInt16BE(query.length)
      socket.write(Buffer.concat([length, query]))
    })
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        finish(undefined, buffered.subarray(2, 2 + buffered.readUInt16BE(0)))
      }
    })
    socket.on('end', () => finish(new Error(`recursor ${address} closed the connection`)))
  })
}

export interface RecurseResult {
  /** The recursor's reply as it sent it (same id as the request): relayed byte for byte. */
  reply?: Buffer
  /** Why each recursor failed, for the log. */
  failures: string[]
}

/** Asks each recursor in turn; `reply` is the first NOERROR/NXDOMAIN answer, if any. */
export async function recurse(request: Packet, recursors: readonly string[], transport: 'udp' | 'tcp', timeoutMs: number): Promise<RecurseResult> {
  const query = encode({...request, type: 'query'})
  const failures: string[] = []
  for (const address of recursors) {
    try {
      const bytes = transport === 'tcp' ? await exchangeTcp(query, address, timeoutMs) : await exchangeUdp(query, address, timeoutMs)
      if (bytes.length < 12) throw new Error('reply shorter than a DNS header')
      // Only the header matters here: rcode 0 (NOERROR), 3 (NXDOMAIN), or a truncated reply.
      const rcode = bytes[3] & 0x0f
      const truncated = (bytes[2] & 0x02) !== 0
      if (rcode === 0 || rcode === 3 || truncated) return {reply: bytes, failures}
      failures.push(`${address}: rcode ${rcode}`)
    } catch (error) {
      failures.push(`${address}: ${(error as Error).message}`)
    }
  }
  return {failures}
}
