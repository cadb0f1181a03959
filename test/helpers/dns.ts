// DNS clients for tests: one question over UDP or TCP to a local port, decoded with dns-packet.
import {createSocket} from 'node:dgram'
import {connect} from 'node:net'
import {decode, encode, type DecodedPacket, type RecordType} from 'dns-packet'

export type DnsReply = DecodedPacket & {rcode: string}

function question(name: string, type: RecordType, id: number): Buffer {
  return encode({type: 'query', id, flags: 1 << 8, questions: [{name, type, class: 'IN'}]})
}

export function dnsUdp(port: number, name: string, type: RecordType, host = '127.0.0.1', timeoutMs = 3000): Promise<DnsReply> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(host.includes(':') ? 'udp6' : 'udp4')
    const timer = setTimeout(() => { socket.close(); reject(new Error(`no UDP DNS reply from ${host}:${port} in ${timeoutMs} ms`)) }, timeoutMs)
    socket.on('message', (msg) => { clearTimeout(timer); socket.close(); resolve(decode(msg) as DnsReply) })
    socket.on('error', (error) => { clearTimeout(timer); socket.close(); reject(error) })
    socket.send(question(name, type, 1), port, host)
  })
}

export function dnsTcp(port: number, name: string, type: RecordType, host = '127.0.0.1', timeoutMs = 3000): Promise<DnsReply> {
  return new Promise((resolve, reject) => {
    const socket = connect({host, port})
    let buffered = Buffer.alloc(0)
    const timer = setTimeout(() => { socket.destroy(); reject(new Error(`no TCP DNS reply from ${host}:${port} in ${timeoutMs} ms`)) }, timeoutMs)
    socket.on('connect', () => {
      const q = question(name, type, 2)
      socket.write(Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]))
    })
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk])
      if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        clearTimeout(timer)
        socket.destroy()
        resolve(decode(buffered.subarray(2, 2 + buffered.readUInt16BE(0))) as DnsReply)
      }
    })
    socket.on('error', (error) => { clearTimeout(timer); reject(error) })
  })
}

/** The DNS port an agent logged ("Started DNS server: address=127.0.0.1:NNNN network=udp"). */
export function dnsPortFromOutput(output: string): number | undefined {
  const match = /Started DNS server: address=\S+:(\d+) network=udp/.exec(output)
  return match ? Number(match[1]) : undefined
}

/** Waits (bounded by `timeoutMs`) for an agent to log its DNS port, and returns it. */
export async function agentDnsPort(agent: {output(): string}, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const found = dnsPortFromOutput(agent.output())
    if (found !== undefined) return found
    if (Date.now() >= deadline) throw new Error(`no "Started DNS server" line within ${timeoutMs} ms in:\n${agent.output()}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
