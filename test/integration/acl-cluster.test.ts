// ACLs on a real cluster: three servers and two client agents (a third joins for down_policy deny),
// default_policy deny, token_ttl 2 s, the management token from acl.tokens.initial_management. The
// npm `consul` client and the real CLI: anonymous requests are refused, a key_prefix "app/" write
// token writes app/ but not other/ (through servers and clients), client agents resolve tokens
// through the servers (a token deleted on one server stops working on a client within token_ttl),
// the agent token carries a client's own registrations, and when no server answers extend-cache
// keeps a cached token working while deny refuses it.
import {after, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import Consul from 'consul'
import {clientArgs} from '../../src/lib/devcluster/cluster.js'
import {spawnAgent, type AgentProcess} from '../../src/lib/devcluster/agent-process.js'
import {RpcRequestError, RpcTransport} from '../../src/lib/rpc/transport.js'
import {runCli, tempDir, useCluster} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- the consul package's typings cover less than its runtime API, which is what we test */

const TOKEN_TTL_MS = 2_000

function consul(httpAddr: string, token?: string): any {
  const [host, port] = httpAddr.split(':')
  return new Consul({host, port: Number(port), ...(token ? {defaults: {token}} : {})})
}

/** The HTTP status a consul-client call failed with (undefined when it did not fail). */
async function failsWith(call: Promise<unknown>): Promise<number | undefined> {
  try {
    await call
    return undefined
  } catch (error) {
    return (error as {response?: {statusCode?: number}}).response?.statusCode
  }
}

/** Polls `check` every 100 ms until it holds or `ms` passes; resolves with the time it took, or throws. */
async function within(ms: number, what: string, check: () => Promise<boolean>): Promise<number> {
  const started = performance.now()
  for (let round = 0; round < 10_000; round++) {
    if (await check()) return performance.now() - started
    if (performance.now() - started > ms) break
    await sleep(100)
  }
  throw new Error(`${what}: not within ${ms} ms`)
}

describe('ACLs on a 3-server + 2-client cluster (default deny)', () => {
  const conf = tempDir('coord-acl-conf-')
  const root = randomUUID()
  const acl = (downPolicy: string) => ({acl: {
    enabled: true, default_policy: 'deny', down_policy: downPolicy, token_ttl: `${TOKEN_TTL_MS / 1000}s`, policy_ttl: '2s', role_ttl: '2s',
    tokens: {initial_management: root},
  }})
  const aclFile = join(conf.path, 'acl.json')
  writeFileSync(aclFile, JSON.stringify(acl('extend-cache')))
  const denyFile = join(conf.path, 'acl-deny.json')
  writeFileSync(denyFile, JSON.stringify(acl('deny')))
  const ctx = useCluster(3, 'coord-acl-cluster-', {clients: 2, extraArgs: [`-config-file=${aclFile}`]})
  const server = (i: number) => ctx.cluster.servers[i].httpAddr
  const client = (i: number) => ctx.cluster.clients[i].httpAddr
  const cli = (addr: string, args: string[]) => runCli(args, {httpAddr: addr, env: {CONSUL_HTTP_TOKEN: root}})
  let appToken = {AccessorID: '', SecretID: ''}
  let denyClient: AgentProcess | undefined
  after(async () => {
    await denyClient?.stop()
    conf.cleanup()
  })

  it('every agent says ACLs are on; the initial management token exists and bootstrap is refused', async () => {
    for (const agent of [...ctx.cluster.servers, ...ctx.cluster.clients]) {
      assert.match(agent.output(), /ACL Enabled: true\n/)
      assert.match(agent.output(), /ACL Default Policy: deny\n/)
    }
    await within(15_000, 'the initial management token', async () => (await cli(server(1), ['acl', 'token', 'read', '-self'])).code === 0)
    const self = await cli(client(0), ['acl', 'token', 'read', '-self'])
    assert.equal(self.code, 0, self.stderr)
    assert.match(self.stdout, /Description:\s+Initial Management Token\n/)
    assert.match(self.stdout, /00000000-0000-0000-0000-000000000001 - global-management/)
    const again = await runCli(['acl', 'bootstrap'], {httpAddr: server(2)})
    assert.equal(again.code, 1)
    assert.match(again.stderr, /403 \(Permission denied: ACL bootstrap no longer allowed \(reset index: \d+\)\)/)
  })

  it('anonymous requests are refused or filtered, on servers and through clients', async () => {
    for (const addr of [server(0), client(0)]) {
      assert.equal(await failsWith(consul(addr).kv.set('app/anon', 'x')), 403, addr)
      assert.equal(await failsWith(consul(addr).kv.get('app/anon')), 403, addr)
      const nodes = await http(addr, 'GET', '/v1/catalog/nodes')
      assert.equal(nodes.status, 200)
      assert.deepEqual(nodes.json(), [])
      assert.equal(nodes.headers['x-consul-results-filtered-by-acls'], 'true')
      const self = await http(addr, 'GET', '/v1/agent/self')
      assert.equal(self.status, 403, addr)
      assert.match(self.text, /^Permission denied: anonymous token lacks permission 'agent:read'/)
    }
  })

  it('a key_prefix "app/" write token writes app/ but not other/, through servers and clients (npm consul client)', async () => {
    const rules = 'key_prefix "app/" {\n  policy = "write"\n}\nagent_prefix "" {\n  policy = "read"\n}\n'
    const policy = await cli(client(0), ['acl', 'policy', 'create', '-name', 'app-writer', '-rules', rules])
    assert.equal(policy.code, 0, policy.stderr)
    const made = await cli(client(1), ['acl', 'token', 'create', '-description', 'app', '-policy-name', 'app-writer', '-format=json'])
    assert.equal(made.code, 0, made.stderr)
    appToken = JSON.parse(made.stdout) as typeof appToken
    for (const [i, addr] of [server(0), client(0), client(1)].entries()) {
      const kv = consul(addr, appToken.SecretID).kv
      assert.equal(await kv.set(`app/k${i}`, `v${i}`), true, addr)
      assert.equal(await failsWith(kv.set(`other/k${i}`, 'no')), 403, addr)
      assert.equal(await failsWith(kv.get(`other/k${i}`)), 403, addr)
    }
    // Read back elsewhere: what one client wrote, the other client and a server see.
    const read = await consul(client(1), appToken.SecretID).kv.get('app/k1')
    assert.equal(read.Value, 'v1')
    const keys = await consul(server(2), appToken.SecretID).kv.keys('app/')
    assert.deepEqual(keys, ['app/k0', 'app/k1', 'app/k2'])
    // Agent-local on a client: resolved by the client through a server.
    assert.equal((await http(client(0), 'GET', '/v1/agent/self', undefined, {'X-Consul-Token': appToken.SecretID})).status, 200)
    const fire = await http(client(0), 'PUT', '/v1/event/fire/deploy', '', {'X-Consul-Token': appToken.SecretID})
    assert.equal(fire.status, 403)
    assert.match(fire.text, /lacks permission 'event:write' on "deploy"/)
  })

  it('a token deleted on one server stops working on a client within token_ttl', async (t) => {
    const made = await cli(server(0), ['acl', 'token', 'create', '-description', 'short-lived', '-policy-name', 'app-writer', '-format=json'])
    assert.equal(made.code, 0, made.stderr)
    const token = JSON.parse(made.stdout) as typeof appToken
    const self = () => http(client(1), 'GET', '/v1/agent/self', undefined, {'X-Consul-Token': token.SecretID})
    assert.equal((await self()).status, 200, 'the client resolved and cached it')
    const deleted = await cli(server(2), ['acl', 'token', 'delete', '-id', token.AccessorID])
    assert.equal(deleted.code, 0, deleted.stderr)
    // Forwarded requests are decided by the servers: refused at once.
    assert.equal(await failsWith(consul(client(1), token.SecretID).kv.set('app/after-delete', 'x')), 403)
    const ms = await within(TOKEN_TTL_MS + 5_000, 'the client refuses the deleted token', async () => {
      const answer = await self()
      return answer.status === 403 && answer.text === 'ACL not found'
    })
    t.diagnostic(`client-local requests refused ${Math.round(ms)} ms after the delete (token_ttl ${TOKEN_TTL_MS} ms)`)
  })

  it('the agent token carries a client\'s own registrations (set with coord acl set-agent-token); without one they are refused', async (t) => {
    const policy = await cli(server(0), ['acl', 'policy', 'create', '-name', 'client-1-agent', '-rules', 'node "client-1" {\n  policy = "write"\n}\nservice "web" {\n  policy = "write"\n}\n'])
    assert.equal(policy.code, 0, policy.stderr)
    const made = await cli(server(0), ['acl', 'token', 'create', '-description', 'client-1 agent', '-policy-name', 'client-1-agent', '-format=json'])
    const agentToken = JSON.parse(made.stdout) as typeof appToken
    const set = await cli(client(0), ['acl', 'set-agent-token', 'agent', agentToken.SecretID])
    assert.equal(set.code, 0, set.stderr)
    assert.match(set.stdout, /ACL token "agent" set successfully/)
    const register = (addr: string, name: string) => http(addr, 'PUT', '/v1/agent/service/register', JSON.stringify({Name: name, Port: 80}), {'X-Consul-Token': root})
    assert.equal((await register(client(0), 'web')).status, 200)
    assert.equal((await register(client(1), 'api')).status, 200)
    const inCatalog = async (name: string) => {
      const answer = await http(server(1), 'GET', `/v1/catalog/service/${name}`, undefined, {'X-Consul-Token': root})
      return answer.json<unknown[]>().length > 0
    }
    const ms = await within(20_000, 'client-1 syncs web with its agent token', () => inCatalog('web'))
    t.diagnostic(`web in the catalog ${Math.round(ms)} ms after registering on client-1`)
    await sleep(2_000)
    assert.equal(await inCatalog('api'), false, 'client-2 has no agent token: its anonymous sync is refused')
  })

  it('on the server RPC port: a raw proposal is refused with ACLs on; acl-resolve answers only for a live secret', async () => {
    const transport = new RpcTransport({localId: `test-${randomUUID()}`})
    const rpc = `${ctx.cluster.addresses[0]}:8300`
    try {
      await assert.rejects(transport.request(rpc, 'propose', new Uint8Array([1, 2, 3]), 5_000), (error: RpcRequestError) => error.remote && error.code === 'PROPOSE_NEEDS_TOKEN')
      await assert.rejects(transport.request(rpc, 'acl-resolve', randomUUID(), 5_000), (error: RpcRequestError) => error.remote && error.code === 'ACL_NOT_FOUND')
      const answer = await transport.request(rpc, 'acl-resolve', appToken.SecretID, 5_000) as {token: {AccessorID: string}; policies: Array<{Name: string}>}
      assert.equal(answer.token.AccessorID, appToken.AccessorID)
      assert.deepEqual(answer.policies.map((p) => p.Name), ['app-writer'])
      assert.equal(JSON.stringify(answer).includes(appToken.SecretID), false, 'the secret never travels back')
    } finally {
      await transport.close()
    }
  })

  it('servers unreachable: extend-cache keeps a cached token working, deny refuses it', async (t) => {
    const dataDir = join(ctx.dir, 'client-3')
    mkdirSync(dataDir, {recursive: true})
    const address = ctx.cluster.addresses[0].replace(/\.\d+$/, '.9')
    denyClient = await spawnAgent({
      name: 'client-3', timeoutMs: 30_000, waitForLeader: true,
      args: clientArgs({name: 'client-3', address, dataDir, join: ctx.cluster.addresses.slice(0, 3), extra: [`-config-file=${denyFile}`]}),
    })
    const self = (addr: string, secret: string) => http(addr, 'GET', '/v1/agent/self', undefined, {'X-Consul-Token': secret})
    assert.equal((await self(client(0), appToken.SecretID)).status, 200)
    assert.equal((await self(denyClient.httpAddr, appToken.SecretID)).status, 200)
    for (const s of ctx.cluster.servers) s.pause()
    try {
      await sleep(TOKEN_TTL_MS + 500)
      const started = performance.now()
      const extended = await self(client(0), appToken.SecretID)
      t.diagnostic(`extend-cache answered ${extended.status} after ${Math.round(performance.now() - started)} ms with every server paused`)
      assert.equal(extended.status, 200, extended.text)
      const denied = await self(denyClient.httpAddr, appToken.SecretID)
      assert.equal(denied.status, 403)
      assert.match(denied.text, /^Permission denied: token with AccessorID 'primary-dc-down' lacks permission 'agent:read'/)
      // Never seen before: nothing to extend, so extend-cache denies too.
      const unseen = await self(client(0), randomUUID())
      assert.equal(unseen.status, 403)
      assert.match(ctx.cluster.clients[0].output(), /no server answered a token lookup: down_policy applies/)
    } finally {
      for (const s of ctx.cluster.servers) s.resume()
    }
    const ms = await within(30_000, 'the deny client resolves again once servers answer', async () => (await self(denyClient!.httpAddr, appToken.SecretID)).status === 200)
    t.diagnostic(`deny client answered 200 again ${Math.round(ms)} ms after the servers resumed`)
  })
})

