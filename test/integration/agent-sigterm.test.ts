// SIGTERM always ends an agent: one server and one client agent, restarted on their data dirs 20
// times. Each round writes a key through the client, then puts load on both agents that holds
// handles open (a parked blocking query on each, a `coord lock` holding a lock and a `coord watch`
// through the client), then sends SIGTERM to both (the order alternates) and asserts each exits 0
// within a bound, without the fallback exit that commands/agent.ts takes when a handle lingers. The
// next round first checks that every key written so far is still there.
import {after, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {join} from 'node:path'
import {coordBin, tempDir} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'
import {randomSubnet, startCluster, type Cluster} from '../../src/lib/devcluster/cluster.js'

const ROUNDS = 20
/** Generous for a loaded 2-core box; a clean exit takes well under a second here. */
const EXIT_BOUND_MS = 10_000

describe('SIGTERM to coord agent under load, 20 times', {timeout: 600_000}, () => {
  const dir = tempDir('coord-sigterm-')
  const subnet = randomSubnet()
  const helpers: ChildProcess[] = []
  let cluster: Cluster | undefined
  after(async () => {
    for (const proc of helpers) if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
    await cluster?.stop()
    dir.cleanup()
  })

  function cli(args: string[], httpAddr: string): ChildProcess {
    const proc = spawn(process.execPath, [coordBin, ...args], {env: {...process.env, CONSUL_HTTP_ADDR: httpAddr}, stdio: 'ignore'})
    helpers.push(proc)
    return proc
  }

  async function timedStop(agent: Cluster['servers'][number]): Promise<{code: number | null; ms: number}> {
    const started = Date.now()
    const code = await agent.stop(EXIT_BOUND_MS + 5000)
    return {code, ms: Date.now() - started}
  }

  it('every agent exits 0 within the bound and no acknowledged key is lost', async () => {
    const exits: number[] = []
    for (let round = 0; round < ROUNDS; round++) {
      cluster = await startCluster({servers: 1, clients: 1, dir: join(dir.path, 'cluster'), subnet, timeoutMs: 30_000})
      const [server] = cluster.servers
      const [client] = cluster.clients
      for (let earlier = 0; earlier < round; earlier++) {
        const res = await http(client.httpAddr, 'GET', `/v1/kv/sigterm/${earlier}?raw`)
        assert.equal(res.status, 200, `round ${round}: key sigterm/${earlier} lost`)
        assert.equal(res.text, `value-${earlier}`)
      }
      const put = await http(client.httpAddr, 'PUT', `/v1/kv/sigterm/${round}`, `value-${round}`)
      assert.equal(put.status, 200)
      const index = String((await http(server.httpAddr, 'GET', `/v1/kv/sigterm/${round}`)).headers['x-consul-index'])
      // Load that holds handles open: parked blocking queries, a lock holder, a watch.
      const parked = [server, client].map((agent) => http(agent.httpAddr, 'GET', `/v1/kv/sigterm/${round}?index=${index}&wait=60s`).catch((error: Error) => error))
      const lock = cli(['lock', `sigterm/lock-${round}`, 'sleep 60'], client.httpAddr)
      const watch = cli(['watch', '-type=key', `-key=sigterm/${round}`, 'cat >/dev/null'], client.httpAddr)
      await sleep(1500)
      assert.equal(lock.exitCode, null, 'coord lock is holding')
      assert.equal(watch.exitCode, null, 'coord watch is running')
      const order = round % 2 === 0 ? [client, server] : [server, client]
      for (const agent of order) {
        const {code, ms} = await timedStop(agent)
        exits.push(ms)
        assert.equal(code, 0, `round ${round}: ${agent.name} exited ${code} after ${ms} ms\n${agent.output().slice(-2000)}`)
        assert.ok(ms < EXIT_BOUND_MS, `round ${round}: ${agent.name} took ${ms} ms to exit`)
        // Every handle was closed: the exit did not need commands/agent.ts's fallback.
        assert.doesNotMatch(agent.output(), /Exiting with handles still open/, `round ${round}: ${agent.name} left handles open`)
      }
      await Promise.all(parked)
      lock.kill('SIGKILL')
      watch.kill('SIGKILL')
    }
    exits.sort((a, b) => a - b)
    console.log(`${exits.length} SIGTERMs: exit in median ${exits[exits.length >> 1]} ms, max ${exits.at(-1)} ms (bound ${EXIT_BOUND_MS} ms)`)
  })
})
