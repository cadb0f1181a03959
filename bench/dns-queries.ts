// DNS throughput with 1000 registered instances: coord's DNS server (real UDP sockets) answering
// from a state machine through StateDnsCatalog, driven by the shared closed-loop generator.
// Run: npm run build && node dist/bench/dns-queries.js [workers] [seconds]
// Measures the DNS layer alone (no Raft read barrier: the catalog is read as allow_stale does).
import {createSocket} from 'node:dgram'
import {decode, encode, type RecordType} from 'dns-packet'
import {StateMachine} from '../src/lib/state/state-machine.js'
import {StateDnsCatalog} from '../src/lib/dns/state-catalog.js'
import {DnsResolver} from '../src/lib/dns/resolver.js'
import {defaultDnsConfig} from '../src/lib/dns/config.js'
import {startDnsServer} from '../src/lib/dns/server.js'
import {runLoad} from './load.js'

const instances = 1000
const workers = Number(process.argv[2] ?? 16)
const seconds = Number(process.argv[3] ?? 5)

const state = new StateMachine()
for (let i = 0; i < instances; i++) {
  state.apply(i + 1, {
    type: 'catalog-register', now: Date.now(), request: {
      Node: `node-${i}`, Address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      Service: {ID: `web-${i}`, Service: 'web', Tags: ['v1'], Port: 8080},
      Check: {CheckID: `web-${i}-alive`, Name: 'alive', Status: 'passing', ServiceID: `web-${i}`},
    },
  } as Parameters<StateMachine['apply']>[1])
}
const catalog = new StateDnsCatalog(state, {readBarrier: async () => {}}, 'dc1')
const resolver = new DnsResolver({config: defaultDnsConfig, datacenter: 'dc1', catalog})
const server = await startDnsServer({host: '127.0.0.1', port: 0, resolver})

function query(socket: ReturnType<typeof createSocket>, name: string, type: RecordType, id: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.off('message', onMessage); reject(new Error('timeout')) }, 2000)
    const onMessage = (msg: Buffer) => {
      if (msg.readUInt16BE(0) !== id) return
      clearTimeout(timer)
      socket.off('message', onMessage)
      resolve(decode(msg).answers?.length ?? 0)
    }
    socket.on('message', onMessage)
    socket.send(encode({type: 'query', id, questions: [{name, type}]}), server.port, '127.0.0.1')
  })
}

const sockets = await Promise.all(Array.from({length: workers}, () => new Promise<ReturnType<typeof createSocket>>((resolve) => {
  const s = createSocket('udp4')
  s.bind(0, '127.0.0.1', () => resolve(s))
})))
for (const type of ['A', 'SRV'] as const) {
  const result = await runLoad(async (worker, seq) => {
    const answers = await query(sockets[worker], 'web.service.consul', type, (seq % 65535) + 1)
    if (answers !== 3) throw new Error(`${answers} answers`)
  }, {workers, durationMs: seconds * 1000, warmupMs: 1000})
  console.log(`DNS ${type} web.service.consul (${instances} instances, UDP, ${workers} workers): ${Math.round(result.opsPerSec)} queries/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, errors ${result.errors}`)
}
for (const s of sockets) s.close()
await server.close()
