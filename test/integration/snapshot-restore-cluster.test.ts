// `coord snapshot restore` on a three-server cluster, as Consul restores (agent/consul/snapshot_endpoint.go
// → raft.Restore): sent to a follower, forwarded to the leader, installed there as a Raft snapshot
// and received by the other servers by InstallSnapshot. Every server then holds the restored keys
// and nothing written after the save; the leader's log does not hold the archive (it restarts after
// the restore); a write after it commits everywhere; and all three servers restarted come back
// with the restored state from their own data dirs.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {serverArgs} from '../../src/lib/devcluster/cluster.js'
import {spawnAgent} from '../../src/lib/devcluster/agent-process.js'
import {readArchive} from '../../src/lib/snapshot/archive.js'
import {runCli, useCluster} from '../helpers/agent.js'
import {keyCount, leaderIndex, putMany} from '../helpers/cluster-kv.js'
import {http} from '../helpers/http.js'
import {eventually} from '../helpers/wait.js'

const KEYS = 1500
/** 1 KB values: the archive's state is ~1.6 MB, far more than the log may hold after the restore. */
const value = Buffer.alloc(768, 'r').toString('base64')

describe('snapshot restore on a three-server cluster', {timeout: 240_000}, () => {
  const ctx = useCluster(3, 'coord-restore-')

  it('restores through a follower: every server has the restored state, the log does not hold it, writes go on, restarts keep it', async () => {
    const servers = ctx.cluster.servers
    const leader = await leaderIndex(ctx.cluster.servers.map((s) => s.httpAddr), 20_000)
    await putMany(servers[leader].httpAddr, 'saved/', KEYS, () => value)
    const file = join(ctx.dir, 'backup.snap')
    const saved = await runCli(['snapshot', 'save', file], {httpAddr: servers[leader].httpAddr})
    assert.equal(saved.code, 0, saved.stderr)
    const {state} = await readArchive(readFileSync(file))
    // After the save: keys the restore must take away again.
    await putMany(servers[leader].httpAddr, 'later/', 200, () => value)

    const follower = (leader + 1) % 3
    const started = performance.now()
    const restored = await runCli(['snapshot', 'restore', file], {httpAddr: servers[follower].httpAddr, timeoutMs: 60_000})
    assert.deepEqual(restored, {code: 0, stdout: 'Restored snapshot\n', stderr: ''})
    console.log(`# restore of ${KEYS} keys (${state.length} bytes of state) through a follower: ${Math.round(performance.now() - started)} ms`)

    for (const agent of servers) {
      await eventually(`${agent.name} holds the restored keys`, async () => await keyCount(agent.httpAddr, 'saved/') === KEYS && await keyCount(agent.httpAddr, 'later/') === 0)
    }
    // The leader's log restarted after the restore: nothing like the archive's bytes in it.
    const now = await leaderIndex(ctx.cluster.servers.map((s) => s.httpAddr), 20_000)
    const logBytes = statSync(join(ctx.dir, `server-${now + 1}`, 'raft', 'log.dat')).size
    console.log(`# leader's log.dat after the restore: ${logBytes} bytes (state ${state.length} bytes)`)
    assert.ok(logBytes < state.length / 4, `the leader's log holds ${logBytes} bytes after restoring ${state.length} bytes of state`)

    const write = await http(servers[follower].httpAddr, 'PUT', '/v1/kv/after-restore', 'yes')
    assert.equal(write.text.trim(), 'true', write.text)
    for (const agent of servers) {
      await eventually(`${agent.name} has the write made after the restore`, async () => (await http(agent.httpAddr, 'GET', '/v1/kv/after-restore?raw&stale')).text === 'yes')
    }

    // Every server restarted on its data dir comes back with the restored state.
    await ctx.cluster.stop()
    const restarted = await Promise.all(servers.map((_, i) => {
      const name = `server-${i + 1}`
      const address = ctx.cluster.addresses[i]
      return spawnAgent({
        name, timeoutMs: 60_000, waitForLeader: true,
        args: serverArgs({name, address, dataDir: join(ctx.dir, name), expect: 3, join: ctx.cluster.addresses.filter((a) => a !== address)}),
      })
    }))
    restarted.forEach((agent, i) => { ctx.cluster.servers[i] = agent })
    for (const agent of restarted) {
      await eventually(`${agent.name} after a restart holds the restored state`, async () => await keyCount(agent.httpAddr, 'saved/') === KEYS && await keyCount(agent.httpAddr, 'later/') === 0 &&
        (await http(agent.httpAddr, 'GET', '/v1/kv/after-restore?raw&stale')).text === 'yes')
    }
    const again = await http(restarted[0].httpAddr, 'PUT', '/v1/kv/after-restart', 'ok')
    assert.equal(again.text.trim(), 'true', again.text)
  })
})
