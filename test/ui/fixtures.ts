// Data for the web UI's scale test, its benchmark and its screenshots, written through the real
// HTTP API: many services (catalog registrations on a few nodes, each with a check), many keys in
// one folder (transactions of 64 sets), and a small demo cluster state.
import {http} from '../helpers/http.js'

async function inBatches<T>(items: T[], inFlight: number, run: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += inFlight) await Promise.all(items.slice(i, i + inFlight).map(run))
}

async function expectOk(what: string, answer: Promise<{status: number; text: string}>): Promise<void> {
  const r = await answer
  if (r.status !== 200) throw new Error(`${what}: HTTP ${r.status} ${r.text}`)
}

/** `count` services `svc-0000…` (one instance each on 20 nodes), every 7th critical, every 5th warning. */
export async function registerServices(httpAddr: string, count: number): Promise<void> {
  const indexes = Array.from({length: count}, (_, i) => i)
  await inBatches(indexes, 16, (i) => {
    const name = `svc-${String(i).padStart(4, '0')}`
    const node = `node-${String(i % 20).padStart(2, '0')}`
    const status = i % 7 === 0 ? 'critical' : i % 5 === 0 ? 'warning' : 'passing'
    return expectOk(name, http(httpAddr, 'PUT', '/v1/catalog/register', JSON.stringify({
      Node: node, Address: `10.0.${i % 20}.1`,
      Service: {ID: name, Service: name, Tags: [i % 2 === 0 ? 'even' : 'odd', `rack-${i % 4}`], Port: 8000 + (i % 1000)},
      Check: {CheckID: `check-${name}`, Name: `${name} health`, ServiceID: name, Status: status, Output: `HTTP GET /health: ${status}`},
    })))
  })
}

/** `count` keys `<folder>/key-00000…` with small JSON values. */
export async function putKeys(httpAddr: string, folder: string, count: number): Promise<void> {
  const batches: number[][] = []
  for (let i = 0; i < count; i += 64) batches.push(Array.from({length: Math.min(64, count - i)}, (_, j) => i + j))
  await inBatches(batches, 4, (batch) => expectOk('txn', http(httpAddr, 'PUT', '/v1/txn', JSON.stringify(batch.map((i) => ({
    KV: {Verb: 'set', Key: `${folder}/key-${String(i).padStart(5, '0')}`, Value: Buffer.from(JSON.stringify({n: i})).toString('base64')},
  }))))))
}

/** A small, varied state for screenshots: services in every health, KV folders, a session holding a key. */
export async function seedDemo(httpAddr: string): Promise<void> {
  const services = [
    {Name: 'web', ID: 'web-1', Tags: ['v2', 'public'], Port: 8080, Meta: {version: '2.4.1', team: 'storefront'}, Check: {TTL: '10m', Status: 'passing', Notes: 'HTTP health endpoint'}},
    {Name: 'api', ID: 'api-1', Tags: ['v1'], Port: 9090, Meta: {version: '1.9.0'}, Check: {TTL: '10m', Status: 'warning'}},
    {Name: 'billing', ID: 'billing-1', Tags: ['internal'], Port: 7070, Check: {TTL: '10m', Status: 'critical'}},
    {Name: 'cache', ID: 'cache-1', Tags: ['redis'], Port: 6379},
  ]
  for (const s of services) await expectOk(s.Name, http(httpAddr, 'PUT', '/v1/agent/service/register', JSON.stringify(s)))
  await expectOk('check output', http(httpAddr, 'PUT', '/v1/agent/check/fail/service:billing-1?note=' + encodeURIComponent('connection refused: 127.0.0.1:7070')))
  await expectOk('check output', http(httpAddr, 'PUT', '/v1/agent/check/warn/service:api-1?note=' + encodeURIComponent('p99 latency 850 ms > 500 ms')))
  await expectOk('check output', http(httpAddr, 'PUT', '/v1/agent/check/pass/service:web-1?note=' + encodeURIComponent('HTTP GET http://127.0.0.1:8080/health: 200 OK')))
  for (const [key, value] of [['app/config.json', '{"replicas": 3, "features": {"checkout": true}}'], ['app/banner', 'Welcome!'], ['app/limits/rps', '500'], ['deploy/current', 'v2.4.1']]) {
    await expectOk(key, http(httpAddr, 'PUT', `/v1/kv/${key}`, value))
  }
  const session = await http(httpAddr, 'PUT', '/v1/session/create', JSON.stringify({Name: 'deploy-lock', TTL: '600s'}))
  const id = session.json<{ID: string}>().ID
  // As `coord lock` writes it: Consul's api.LockFlagValue on the key, acquired by the session.
  await expectOk('lock', http(httpAddr, 'PUT', `/v1/kv/jobs/deploy/.lock?acquire=${id}&flags=3304740253564472344`, ''))
}
