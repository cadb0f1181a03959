// `coord watch` says when it is blind: while its agent is down it logs Consul's "Watch (type: key)
// errored: ..., retry in ..." line on stderr for each failed read (api/watch/plan.go), and once the
// agent is back it picks up again: a value written after the restart reaches the handler.
import {after, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {coordBin, tempDir} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'
import {randomSubnet, startCluster, type Cluster} from '../../src/lib/devcluster/cluster.js'
import {spawnAgent} from '../../src/lib/devcluster/agent-process.js'

describe('coord watch while its agent is down', {timeout: 120_000}, () => {
  const dir = tempDir('coord-watch-blind-')
  let cluster: Cluster | undefined
  after(async () => {
    await cluster?.stop()
    dir.cleanup()
  })

  it('logs "Watch ... errored ... retry in" during the outage and delivers the next change after it', async () => {
    cluster = await startCluster({servers: 1, dir: join(dir.path, 'cluster'), subnet: randomSubnet(), timeoutMs: 30_000})
    const server = cluster.servers[0]
    assert.equal((await http(server.httpAddr, 'PUT', '/v1/kv/blind/k', 'before')).status, 200)
    const seen = join(dir.path, 'seen')
    const watch = spawn(process.execPath, [coordBin, 'watch', '-type=key', '-key=blind/k', `cat >> ${seen}; echo >> ${seen}`], {
      env: {...process.env, CONSUL_HTTP_ADDR: server.httpAddr}, stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    watch.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    try {
      const read = () => (existsSync(seen) ? readFileSync(seen, 'utf8') : '')
      const waitFor = async (text: string, ms: number) => {
        const deadline = Date.now() + ms
        while (!read().includes(text) && Date.now() < deadline) await sleep(100)
        return read().includes(text)
      }
      assert.ok(await waitFor(Buffer.from('before').toString('base64'), 15_000), 'the first value reached the handler')
      const downAt = Date.now()
      assert.equal(await server.stop(), 0)
      await sleep(5000)
      const lines = stderr.split('\n').filter((line) => /^\[ERR\] consul\.watch: Watch \(type: key\) errored: .+, retry in \d+(ms|s)$/.test(line))
      console.log(`agent down 5 s: ${lines.length} "Watch errored" lines, e.g. ${lines[0]}`)
      assert.ok(lines.length >= 2, `expected a line per failed read, stderr:\n${stderr}`)
      cluster.servers[0] = await spawnAgent({name: server.name, args: server.args.slice(2), timeoutMs: 30_000, waitForLeader: true})
      assert.equal((await http(cluster.servers[0].httpAddr, 'PUT', '/v1/kv/blind/k', 'after')).status, 200)
      assert.ok(await waitFor(Buffer.from('after').toString('base64'), 40_000), `the watch picked up again; stderr:\n${stderr}`)
      console.log(`watch delivered the value written after the restart ${Date.now() - downAt} ms after the agent went down`)
      assert.equal(watch.exitCode, null, 'coord watch kept running through the outage')
    } finally {
      watch.kill('SIGTERM')
    }
  })
})
