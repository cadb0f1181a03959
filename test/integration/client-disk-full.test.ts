// A client agent whose server's disk is full: 3 servers and a client agent on loopback; the server
// the client agent uses gets a file-size limit on its running process (RLIMIT_FSIZE through
// util-linux `prlimit --pid`, as disk-full.test.ts: a write past it fails with EFBIG as a full disk
// fails with ENOSPC; no mount, so no root needed). Once that server has fallen out of Raft (it says
// DISK_FULL to a default read and WRITE_NOT_APPLIED to a write, both proof that nothing was
// applied), writes and reads through the client agent still succeed: the client agent takes the
// refusal as Consul's client takes "No cluster leader" and moves to another server.
import {after, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {join} from 'node:path'
import {tempDir} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'
import {randomSubnet, startCluster, type Cluster} from '../../src/lib/devcluster/cluster.js'

const hasPrlimit = spawnSync('prlimit', ['--version']).status === 0

describe('client agent and a server with a full disk', {timeout: 240_000, skip: hasPrlimit ? false : 'util-linux prlimit is not installed'}, () => {
  const dir = tempDir('coord-client-disk-full-')
  let cluster: Cluster | undefined
  after(async () => {
    await cluster?.stop()
    dir.cleanup()
  })

  it("a write through the client agent succeeds on another server when the one it uses cannot write to its disk", async () => {
    cluster = await startCluster({servers: 3, clients: 1, dir: join(dir.path, 'cluster'), subnet: randomSubnet(), timeoutMs: 60_000})
    const client = cluster.clients[0]
    assert.equal((await http(client.httpAddr, 'PUT', '/v1/kv/before', 'b')).text.trim(), 'true')
    // The server the client agent uses: it logs each change ("using server: server=<ip>:8300").
    const usedRpc = [...client.output().matchAll(/using server: server=(\S+)/g)].at(-1)?.[1]
    const fullIndex = cluster.servers.findIndex((s) => usedRpc?.startsWith(`${s.httpAddr.split(':')[0]}:`))
    assert.ok(fullIndex >= 0, `client agent's server ${usedRpc} is one of ours:\n${client.output()}`)
    const full = cluster.servers[fullIndex]
    const other = cluster.servers[(fullIndex + 1) % 3]
    console.log(`client agent uses ${full.name}; its disk is made full`)
    // Nothing the server writes from now on may extend a file past 1 KiB: its next Raft append fails.
    const limited = spawnSync('prlimit', ['--pid', String(full.pid), '--fsize=1024:unlimited'], {encoding: 'utf8'})
    assert.equal(limited.status, 0, limited.stderr)
    // A write through another server reaches the full one as replication (or as the leader's own append).
    const deadline = Date.now() + 60_000
    let refusedRead: {status: number; text: string} | undefined
    for (let i = 0; Date.now() < deadline; i++) {
      await http(other.httpAddr, 'PUT', `/v1/kv/filler/${i}`, 'x'.repeat(4096)).catch(() => undefined)
      const read = await http(full.httpAddr, 'GET', '/v1/kv/before').catch(() => undefined)
      if (read && read.status === 500 && /cannot write to its disk/.test(read.text)) {
        refusedRead = {status: read.status, text: read.text.trim()}
        break
      }
      await sleep(200)
    }
    assert.ok(refusedRead, `${full.name} never reported its full disk:\n${full.output().split('\n').slice(-20).join('\n')}`)
    console.log(`${full.name} on a default read: ${refusedRead.status} ${refusedRead.text}`)
    // The premise: asked directly, the full server refuses a write, saying it was not applied.
    const direct = await http(full.httpAddr, 'PUT', '/v1/kv/direct', 'd')
    console.log(`${full.name} on a write: ${direct.status} ${direct.text.trim()}`)
    assert.equal(direct.status, 500)
    assert.match(direct.text, /the write was not applied/)

    // Through the client agent: the write is carried out by another server, and reads follow.
    const started = Date.now()
    const write = await http(client.httpAddr, 'PUT', '/v1/kv/through-client', 'c')
    const tookMs = Date.now() - started
    console.log(`write through the client agent: ${write.status} ${write.text.trim()} in ${tookMs} ms`)
    assert.equal(write.status, 200, write.text)
    assert.equal(write.text.trim(), 'true')
    const read = await http(client.httpAddr, 'GET', '/v1/kv/through-client?raw')
    assert.equal(read.status, 200, read.text)
    assert.equal(read.text, 'c')
    const now = [...client.output().matchAll(/using server: server=(\S+)/g)].at(-1)?.[1]
    assert.notEqual(now, usedRpc, 'the client agent moved to another server')
    // And the key is there for the cluster (asked on a healthy server, consistently).
    const check = await http(other.httpAddr, 'GET', '/v1/kv/through-client?raw&consistent')
    assert.equal(check.text, 'c')
  })
})
