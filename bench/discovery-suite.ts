// The discovery section's measurements, against one real coord agent (bench/coord-agent.ts):
// 1000 instances of `web` registered through /v1/catalog/register, spread over nodes, each with a
// passing service check; then DNS A and SRV queries/s over UDP (one socket per client) and
// HTTP `GET /v1/health/service/web?passing` reads/s, both through the closed-loop generator
// (load.ts). Last, time from a check failing to the instance leaving answers: an agent service
// (tag `flip`) with an HTTP check every 1 s against a local HTTP server we control; the server
// flips to 500 and DNS (`flip.web.service.consul`) and HTTP (`?passing&tag=flip`) are polled until
// the instance is gone from each, then it flips back to 200 and we wait for it to return.
import {createSocket, type Socket} from 'node:dgram'
import {createServer, type Server} from 'node:http'
import {decode, encode, type RecordType} from 'dns-packet'
import {Pool} from 'undici'
import {runLoad, type LoadResult} from './load.js'
import {sleep} from './process.js'

export interface DiscoveryPlan {
  instances: number
  /** Catalog nodes the instances are spread over (instances / nodes per node). */
  nodes: number
  dnsClients: number
  httpClients: number[]
  durationMs: number
  warmupMs: number
  /** Rounds of check flips (500 → gone, 200 → back). */
  rounds: number
  checkIntervalMs: number
  pollMs: number
  limitMs: number
}

export interface DiscoveryRow {
  what: string
  clients: number
  /** Answer records (DNS) or entries (HTTP) in one response. */
  answers: number
  result: LoadResult
}

export interface DiscoveryRun {
  /** Wall time to register every instance (16 registrations in flight). */
  registerMs?: number
  rows: DiscoveryRow[]
  /** Per round: check starts failing (server flipped to 500) → gone from DNS / from ?passing. */
  goneDnsMs: number[]
  goneHttpMs: number[]
  /** Per round: server back to 200 → back in both. */
  backMs: number[]
  error?: string
}

const SERVICE = 'web'

function split(addr: string): {host: string; port: number} {
  const i = addr.lastIndexOf(':')
  return {host: addr.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(addr.slice(i + 1))}
}

/** One UDP socket that sends one query at a time and matches the answer by its id. */
class DnsClient {
  private seq = 0
  private constructor(private readonly socket: Socket, private readonly host: string, private readonly port: number) {}

  static async open(dnsAddr: string): Promise<DnsClient> {
    const {host, port} = split(dnsAddr)
    const socket = createSocket('udp4')
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
    return new DnsClient(socket, host, port)
  }

  /** Number of answer records; rejects on a 2 s silence. */
  query(name: string, type: RecordType): Promise<number> {
    const id = (this.seq = (this.seq % 65535) + 1)
    return new Promise((resolve, reject) => {
      const onMessage = (msg: Buffer): void => {
        if (msg.length < 2 || msg.readUInt16BE(0) !== id) return
        clearTimeout(timer)
        this.socket.off('message', onMessage)
        resolve(decode(msg).answers?.length ?? 0)
      }
      const timer = setTimeout(() => { this.socket.off('message', onMessage); reject(new Error(`DNS ${type} ${name}: no answer in 2 s`)) }, 2000)
      this.socket.on('message', onMessage)
      this.socket.send(encode({type: 'query', id, flags: 256, questions: [{name, type}]}), this.port, this.host)
    })
  }

  close(): void {
    this.socket.close()
  }
}

async function send(http: Pool, method: 'GET' | 'PUT', path: string, body?: unknown): Promise<string> {
  const res = await http.request({method, path, body: body === undefined ? undefined : JSON.stringify(body), headersTimeout: 10_000, bodyTimeout: 10_000})
  const text = await res.body.text()
  if (res.statusCode !== 200) throw new Error(`${method} ${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`)
  return text
}

/** `instances` of web over `nodes` catalog nodes (10.0.x.y), each with a passing service check. */
async function registerInstances(http: Pool, plan: DiscoveryPlan): Promise<void> {
  const perNode = Math.ceil(plan.instances / plan.nodes)
  let next = 0
  const worker = async (): Promise<void> => {
    for (let i = next++; i < plan.instances; i = next++) {
      const node = Math.floor(i / perNode)
      await send(http, 'PUT', '/v1/catalog/register', {
        Node: `bench-node-${node}`, Address: `10.0.${node >> 8}.${node & 255}`,
        Service: {ID: `${SERVICE}-${i}`, Service: SERVICE, Tags: ['v1'], Port: 20_000 + i},
        Check: {CheckID: `service:${SERVICE}-${i}`, Name: 'alive', Status: 'passing', ServiceID: `${SERVICE}-${i}`},
      })
    }
  }
  await Promise.all(Array.from({length: 16}, worker))
}

async function passingCount(http: Pool, query = ''): Promise<number> {
  return (JSON.parse(await send(http, 'GET', `/v1/health/service/${SERVICE}?passing${query}`)) as unknown[]).length
}

async function dnsRows(dnsAddr: string, plan: DiscoveryPlan, log: (line: string) => void): Promise<DiscoveryRow[]> {
  const clients = await Promise.all(Array.from({length: plan.dnsClients}, () => DnsClient.open(dnsAddr)))
  const rows: DiscoveryRow[] = []
  try {
    for (const type of ['A', 'SRV'] as const) {
      const name = `${SERVICE}.service.consul`
      const answers = await clients[0].query(name, type)
      if (answers === 0) throw new Error(`DNS ${type} ${name} answered no records`)
      const result = await runLoad(async (worker) => {
        if ((await clients[worker].query(name, type)) === 0) throw new Error(`DNS ${type}: no records`)
      }, {workers: plan.dnsClients, durationMs: plan.durationMs, warmupMs: plan.warmupMs})
      log(`discovery DNS ${type} ×${plan.dnsClients}: ${Math.round(result.opsPerSec)} queries/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, errors ${result.errors}`)
      rows.push({what: `DNS ${type} \`${name}\``, clients: plan.dnsClients, answers, result})
    }
  } finally {
    for (const c of clients) c.close()
  }
  return rows
}

async function httpRows(httpAddr: string, plan: DiscoveryPlan, log: (line: string) => void): Promise<DiscoveryRow[]> {
  const rows: DiscoveryRow[] = []
  const path = `/v1/health/service/${SERVICE}?passing`
  for (const clients of plan.httpClients) {
    const pool = new Pool(`http://${httpAddr}`, {connections: clients, pipelining: 1, keepAliveTimeout: 30_000})
    try {
      const answers = (JSON.parse(await send(pool, 'GET', path)) as unknown[]).length
      const result = await runLoad(async () => {
        const res = await pool.request({method: 'GET', path})
        await res.body.text()
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}`)
      }, {workers: clients, durationMs: plan.durationMs, warmupMs: plan.warmupMs})
      log(`discovery HTTP ?passing ×${clients}: ${Math.round(result.opsPerSec)} reads/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, errors ${result.errors}`)
      rows.push({what: `HTTP \`GET ${path}\``, clients, answers, result})
    } finally {
      await pool.close()
    }
  }
  return rows
}

/** A health endpoint whose answer we set: 200 or 500. */
async function flipServer(): Promise<{url: string; set(code: number): void; close(): Promise<void>}> {
  let code = 200
  const server: Server = createServer((_req, res) => { res.statusCode = code; res.end(code === 200 ? 'ok' : 'failing') })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  const port = typeof addr === 'object' && addr ? addr.port : 0
  return {
    url: `http://127.0.0.1:${port}/health`,
    set: (c) => { code = c },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}

/** Polls DNS and HTTP every pollMs until both satisfy `want`; ms until each did. */
async function pollBoth(dns: DnsClient, http: Pool, want: (present: boolean) => boolean, plan: DiscoveryPlan): Promise<{dnsMs: number; httpMs: number}> {
  const start = Date.now()
  let dnsMs: number | undefined
  let httpMs: number | undefined
  while (dnsMs === undefined || httpMs === undefined) {
    const elapsed = Date.now() - start
    if (elapsed > plan.limitMs) throw new Error(`flip not seen within ${plan.limitMs} ms (DNS ${dnsMs ?? 'no'}, HTTP ${httpMs ?? 'no'})`)
    const [inDns, inHttp] = await Promise.all([
      dnsMs === undefined ? dns.query(`flip.${SERVICE}.service.consul`, 'A').then((n) => n > 0, () => undefined) : undefined,
      httpMs === undefined ? passingCount(http, '&tag=flip').then((n) => n > 0, () => undefined) : undefined,
    ])
    const now = Date.now() - start
    if (inDns !== undefined && want(inDns)) dnsMs ??= now
    if (inHttp !== undefined && want(inHttp)) httpMs ??= now
    await sleep(plan.pollMs)
  }
  return {dnsMs, httpMs}
}

async function flipRounds(agent: {httpAddr: string; dnsAddr: string}, plan: DiscoveryPlan, run: DiscoveryRun, log: (line: string) => void): Promise<void> {
  const target = await flipServer()
  const http = new Pool(`http://${agent.httpAddr}`, {connections: 2, pipelining: 1})
  const dns = await DnsClient.open(agent.dnsAddr)
  try {
    await send(http, 'PUT', '/v1/agent/service/register', {
      ID: 'flip', Name: SERVICE, Tags: ['flip'], Port: 9999,
      Check: {CheckID: 'flip-http', Name: 'flip health', HTTP: target.url, Interval: `${plan.checkIntervalMs}ms`, Timeout: '1s'},
    })
    await pollBoth(dns, http, (present) => present, plan)
    for (let round = 0; round < plan.rounds; round++) {
      // Flip at a random phase of the check's schedule: right after the last change seen, the
      // next run of the check would always be a whole interval away.
      await sleep(Math.random() * plan.checkIntervalMs)
      target.set(500)
      const gone = await pollBoth(dns, http, (present) => !present, plan)
      run.goneDnsMs.push(gone.dnsMs)
      run.goneHttpMs.push(gone.httpMs)
      await sleep(Math.random() * plan.checkIntervalMs)
      target.set(200)
      const back = await pollBoth(dns, http, (present) => present, plan)
      run.backMs.push(Math.max(back.dnsMs, back.httpMs))
      log(`discovery flip round ${round + 1}: 500 → gone from DNS in ${gone.dnsMs} ms, from ?passing in ${gone.httpMs} ms; 200 → back in ${Math.max(back.dnsMs, back.httpMs)} ms`)
    }
  } finally {
    await send(http, 'PUT', '/v1/agent/service/deregister/flip').catch(() => '')
    dns.close()
    await http.close()
    await target.close()
  }
}

export async function runDiscoverySuite(agent: {httpAddr: string; dnsAddr: string}, plan: DiscoveryPlan, log: (line: string) => void): Promise<DiscoveryRun> {
  const run: DiscoveryRun = {rows: [], goneDnsMs: [], goneHttpMs: [], backMs: []}
  const http = new Pool(`http://${agent.httpAddr}`, {connections: 16, pipelining: 1})
  try {
    if (!agent.dnsAddr) throw new Error('the agent logged no DNS address')
    const started = Date.now()
    await registerInstances(http, plan)
    run.registerMs = Date.now() - started
    const passing = await passingCount(http)
    if (passing !== plan.instances) throw new Error(`${passing} passing instances of ${SERVICE} after registering ${plan.instances}`)
    log(`discovery: ${plan.instances} instances on ${plan.nodes} nodes registered in ${run.registerMs} ms`)
    run.rows.push(...await dnsRows(agent.dnsAddr, plan, log))
    run.rows.push(...await httpRows(agent.httpAddr, plan, log))
    await flipRounds(agent, plan, run, log)
  } catch (err) {
    run.error = err instanceof Error ? err.message.split('\n')[0] : String(err)
    log(`discovery failed: ${run.error}`)
  } finally {
    await http.close()
  }
  return run
}
