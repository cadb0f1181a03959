// Snapshots between real servers in chunks (server/snapshot-transfer.ts): three agents whose RPC
// frames are bounded at 2 MiB and whose snapshots travel in 64 KiB chunks (the test knobs
// COORD_TEST_RPC_MAX_FRAME_BYTES and COORD_TEST_SNAPSHOT_CHUNK_BYTES), the log compacted every 16
// entries. A follower stopped while ~4 MB of values are written rejoins behind the leader's
// snapshot, larger than a frame, and catches up with every key (what the leader sent it while it
// was down is swallowed, or the transport's queue would hand it the entries). Then an archive of that state:
// restored through a follower it is uploaded to the leader in chunks (server/restore-upload.ts) and
// installed on all three; restored on the leader it is installed and reaches both followers (by
// chunks again). An upload cut midway (a chunk twice, or the sender gone) restores nothing and
// leaves no staged file on the leader.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {createServer, type Socket} from 'node:net'
import {join} from 'node:path'
import {serverArgs} from '../../src/lib/devcluster/cluster.js'
import {spawnAgent} from '../../src/lib/devcluster/agent-process.js'
import {readArchive} from '../../src/lib/snapshot/archive.js'
import {RpcRequestError, RpcTransport} from '../../src/lib/rpc/transport.js'
import {runCli, useCluster} from '../helpers/agent.js'
import {keyCount, leaderIndex, putMany} from '../helpers/cluster-kv.js'
import {http} from '../helpers/http.js'
import {eventually} from '../helpers/wait.js'

const FRAME_BYTES = 2 << 20
const CHUNK_BYTES = 64 << 10
// Read by each agent this file starts (devcluster passes the environment on).
process.env.COORD_TEST_RPC_MAX_FRAME_BYTES = String(FRAME_BYTES)
process.env.COORD_TEST_SNAPSHOT_CHUNK_BYTES = String(CHUNK_BYTES)
const UPLOAD_IDLE_MS = 3000
process.env.COORD_TEST_RESTORE_UPLOAD_IDLE_MS = String(UPLOAD_IDLE_MS)

/** This server's Raft figures (/v1/agent/self Stats.raft, Consul's names). */
async function raftStats(addr: string): Promise<Record<string, string>> {
  return (await http(addr, 'GET', '/v1/agent/self')).json<{Stats: {raft: Record<string, string>}}>().Stats.raft
}

/** A TCP listener that reads and drops whatever is sent to host:port; counts the bytes. */
async function swallow(host: string, port: number): Promise<{bytes(): number; close(): Promise<void>}> {
  let bytes = 0
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('data', (chunk) => { bytes += chunk.length })
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, host, resolve))
  return {
    bytes: () => bytes,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

const KEYS = 2000
/** ~2 KB per key: ~4 MB of state, twice a frame. */
const valueOf = (i: number) => Buffer.from(`${i}:`.padEnd(1536, 'c')).toString('base64')

describe('snapshots sent between servers in chunks', {timeout: 400_000}, () => {
  const ctx = useCluster(3, 'coord-chunksnap-', {extraArgs: ['-hcl', 'raft_snapshot_threshold = 16']})

  it('a follower stopped meanwhile rejoins behind a snapshot larger than a frame and catches up with every key', async () => {
    const servers = ctx.cluster.servers
    const leader = await leaderIndex(servers.map((s) => s.httpAddr))
    const follower = (leader + 1) % 3
    const followerLast = Number((await raftStats(servers[follower].httpAddr)).last_log_index)
    await servers[follower].stop()
    // The leader's transport keeps the messages it sends a peer that is down and delivers them when
    // the peer is back (rpc/transport.ts): the AppendEntries of every write below would reach the
    // restarted follower and it would catch up from them, not by a snapshot. A listener on the
    // follower's RPC address swallows them meanwhile, as a network would lose them.
    const sink = await swallow(ctx.cluster.addresses[follower], 8300)
    try {
      await putMany(servers[leader].httpAddr, 'big/', KEYS, valueOf)
      const leaderSnap = join(ctx.dir, `server-${leader + 1}`, 'raft', 'snapshot.dat')
      await eventually('the leader took a snapshot of most of the keys', async () => statSync(leaderSnap).size > FRAME_BYTES, 60_000)
      // The leader's log starts after the follower's last entry: only a snapshot can bring it up.
      await eventually('the leader compacted its log past the follower', async () => Number((await raftStats(servers[leader].httpAddr)).last_snapshot_index) > followerLast, 30_000)
      await eventually('the entries sent to the stopped follower were swallowed', async () => sink.bytes() > FRAME_BYTES, 30_000)
      console.log(`# entries sent to the stopped server-${follower + 1} (last index ${followerLast}) swallowed: ${sink.bytes()} bytes; leader's snapshot index ${(await raftStats(servers[leader].httpAddr)).last_snapshot_index}`)
    } finally {
      await sink.close()
    }

    const name = `server-${follower + 1}`
    const address = ctx.cluster.addresses[follower]
    const started = performance.now()
    servers[follower] = await spawnAgent({
      name, timeoutMs: 60_000,
      args: serverArgs({name, address, dataDir: join(ctx.dir, name), expect: 3, join: ctx.cluster.addresses.filter((a) => a !== address), extra: ['-hcl', 'raft_snapshot_threshold = 16']}),
    })
    const addr = servers[follower].httpAddr
    await eventually(`${name} holds every key`, async () => await keyCount(addr, 'big/') === KEYS, 90_000)
    // The state of the snapshot it received (the agent's log line), larger than a frame.
    await eventually(`${name} logs the snapshot received`, async () => /received a snapshot from the leader in chunks/.test(servers[follower].output()), 10_000).catch((e) => { console.log(servers[follower].output().split('\n').filter((l) => /snapshot|chunk/i.test(l)).join('\n')); throw e })
    const sizes = [...servers[follower].output().matchAll(/received a snapshot from the leader in chunks: index=\d+ bytes=(\d+)/g)].map((m) => Number(m[1]))
    console.log(`# ${name} caught up with ${KEYS} keys in ${Math.round(performance.now() - started)} ms; snapshot states received: ${sizes.join(', ')} bytes (frame bound ${FRAME_BYTES}, chunks of ${CHUNK_BYTES})`)
    assert.ok(sizes.some((bytes) => bytes > FRAME_BYTES), `it received a snapshot larger than a frame (${sizes.join(', ') || 'none'})`)
    await eventually(`${name} logs the install`, async () => /installed snapshot from the leader/.test(servers[follower].output()), 10_000)
    for (const i of [0, 777, KEYS - 1]) {
      const res = await http(addr, 'GET', `/v1/kv/big/${i}?raw&stale`)
      assert.equal(res.text, Buffer.from(valueOf(i), 'base64').toString(), `big/${i} on ${name}`)
    }
  })

  /** Restore uploads staged in a server's Raft dir (restore-upload.ts names them restore-upload-*.tmp). */
  const stagedUploads = (index: number) => readdirSync(join(ctx.dir, `server-${index + 1}`, 'raft')).filter((name) => name.startsWith('restore-upload-'))

  it('restores a state larger than a frame through a follower (uploaded to the leader in chunks) and on the leader', async () => {
    const servers = ctx.cluster.servers
    const leader = await leaderIndex(servers.map((s) => s.httpAddr))
    const follower = (leader + 2) % 3
    const file = join(ctx.dir, 'big.snap')
    const saved = await runCli(['snapshot', 'save', file], {httpAddr: servers[leader].httpAddr, timeoutMs: 60_000})
    assert.equal(saved.code, 0, saved.stderr)
    const {state} = await readArchive(readFileSync(file))
    assert.ok(state.length > FRAME_BYTES, `the archive's state (${state.length} bytes) is larger than a frame`)
    // Written after the save: the restore takes them away again.
    await putMany(servers[leader].httpAddr, 'later/', 100, valueOf)
    assert.equal(await keyCount(servers[leader].httpAddr, 'later/'), 100)

    let started = performance.now()
    const through = await runCli(['snapshot', 'restore', file], {httpAddr: servers[follower].httpAddr, timeoutMs: 120_000})
    assert.deepEqual(through, {code: 0, stdout: 'Restored snapshot\n', stderr: ''})
    console.log(`# restore of ${state.length} bytes of state through a follower: ${Math.round(performance.now() - started)} ms`)
    for (const agent of servers) {
      await eventually(`${agent.name} holds the state restored through a follower`, async () => await keyCount(agent.httpAddr, 'big/') === KEYS && await keyCount(agent.httpAddr, 'later/') === 0, 90_000)
    }
    assert.match(servers[leader].output(), /receiving a snapshot restore from a follower in chunks/)
    assert.deepEqual(servers.map((_, i) => stagedUploads(i)), [[], [], []], 'no staged upload is left')
    for (const i of [0, KEYS - 1]) {
      const res = await http(servers[follower].httpAddr, 'GET', `/v1/kv/big/${i}?raw&stale`)
      assert.equal(res.text, Buffer.from(valueOf(i), 'base64').toString(), `big/${i} on the follower`)
    }

    await putMany(servers[leader].httpAddr, 'later/', 100, valueOf)
    started = performance.now()
    const restored = await runCli(['snapshot', 'restore', file], {httpAddr: servers[leader].httpAddr, timeoutMs: 120_000})
    assert.deepEqual(restored, {code: 0, stdout: 'Restored snapshot\n', stderr: ''})
    console.log(`# restore of ${state.length} bytes of state on the leader: ${Math.round(performance.now() - started)} ms`)
    for (const agent of servers) {
      await eventually(`${agent.name} holds the restored state`, async () => await keyCount(agent.httpAddr, 'big/') === KEYS && await keyCount(agent.httpAddr, 'later/') === 0, 90_000)
    }
    const write = await http(servers[follower].httpAddr, 'PUT', '/v1/kv/after-restore', 'yes')
    assert.equal(write.text.trim(), 'true', write.text)
  })

  it('an upload cut midway (a chunk twice, or its sender gone) restores nothing and leaves no staged file', async () => {
    const servers = ctx.cluster.servers
    const leader = await leaderIndex(servers.map((s) => s.httpAddr))
    const {state} = await readArchive(readFileSync(join(ctx.dir, 'big.snap')))
    await putMany(servers[leader].httpAddr, 'cut/', 10, valueOf)
    // The leader's server RPC port, spoken to as a follower would (the real transport).
    const transport = new RpcTransport({localId: `test-${randomUUID()}`})
    const rpc = `${ctx.cluster.addresses[leader]}:8300`
    const chunk = (upload: string, offset: number) => transport.request(rpc, 'restore-upload-chunk', {upload, offset, size: state.length, data: state.subarray(offset, offset + CHUNK_BYTES)}, 10_000)
    const refusedWith = (pattern: RegExp) => (error: RpcRequestError) => error.remote && error.code === 'RESTORE_UPLOAD_FAILED' && pattern.test(error.message)
    try {
      const twice = randomUUID()
      assert.deepEqual(await chunk(twice, 0), {next: CHUNK_BYTES})
      assert.equal(stagedUploads(leader).length, 1, 'the first chunk is staged in a file')
      await assert.rejects(chunk(twice, 0), refusedWith(/a chunk arrived twice/))
      assert.deepEqual(stagedUploads(leader), [], 'a chunk sent twice drops the staged file at once')
      await assert.rejects(chunk(twice, CHUNK_BYTES), refusedWith(/not staged here/))

      const gone = randomUUID()
      assert.deepEqual(await chunk(gone, 0), {next: CHUNK_BYTES})
      assert.deepEqual(await chunk(gone, CHUNK_BYTES), {next: 2 * CHUNK_BYTES})
      assert.equal(stagedUploads(leader).length, 1)
      // The sender goes quiet: the leader drops the upload after its idle bound.
      const cutAt = performance.now()
      await eventually('the quiet upload is dropped', async () => stagedUploads(leader).length === 0, 30_000)
      console.log(`# a quiet upload dropped after ${Math.round(performance.now() - cutAt)} ms (idle bound ${UPLOAD_IDLE_MS} ms)`)
      assert.ok(performance.now() - cutAt >= UPLOAD_IDLE_MS / 2, 'not before its idle bound')
      await assert.rejects(transport.request(rpc, 'restore-on-leader', {upload: gone, size: state.length, minIndex: 0}, 10_000), refusedWith(/not staged here/))
      assert.match(servers[leader].output(), /dropped a snapshot restore uploaded by a follower.*no chunk for 3000 ms/)
    } finally {
      await transport.close()
    }
    assert.equal(await keyCount(servers[leader].httpAddr, 'cut/'), 10, 'nothing was restored')
  })
})
