// Remote exec on real agents: five servers with disable_remote_exec = false run `coord exec` jobs
// and stream every node's output and exit code back through KV; a failing command gives exit 2;
// a node filter picks nodes; the job's keys and session are gone afterwards; a default agent
// (remote exec disabled) refuses, and the CLI says so; SIGINT cleans up and the agent kills the
// abandoned command.
import {describe, it, before, after} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, readFileSync, rmSync} from 'node:fs'
import type {AgentMember} from '../../src/lib/api/agent.js'
import {coordBin, runCli, startAgent, useCluster, type TestAgent} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'
import {until} from '../helpers/wait.js'
import {REXEC_EVENT, REXEC_PREFIX, encodeSpec, jobKey, nodeKey} from '../../src/lib/api/rexec.js'

const NODES = 5

describe('coord exec across five agents', () => {
  const ctx = useCluster(NODES, 'coord-exec-', {extraArgs: ['-disable-remote-exec=false']})
  const addrs = () => ctx.cluster.servers.map((s) => s.httpAddr)

  before(async () => {
    const start = Date.now()
    for (;;) {
      const views = await Promise.all(addrs().map(async (a) => (await http(a, 'GET', '/v1/agent/members')).json<AgentMember[]>()))
      if (views.every((v) => v.length === NODES && v.every((m) => m.Status === 1))) break
      if (Date.now() - start > 20_000) throw new Error('gossip did not converge')
      await sleep(100)
    }
  })

  // Quiet periods (-wait) are generous: on a loaded shared box an agent may take seconds to ack,
  // and coord exec, like Consul's, ends after -wait with no news.
  it('every node runs the command; output and exit codes come back; nothing is left behind', async () => {
    const start = Date.now()
    const res = await runCli(['exec', '-verbose', '-wait=5s', 'echo "hello from $((20+22))"'], {httpAddr: addrs()[2], timeoutMs: 60_000})
    const took = Date.now() - start
    const completed = /^Completed in (\S+) seconds$/m.exec(res.stdout)?.[1]
    console.log(`# exec: ${NODES} nodes answered; coord exec took ${took} ms end to end, ${completed} s from the event (both incl. the 5 s quiet period)`)
    assert.equal(res.code, 0, res.stdout + res.stderr)
    for (let i = 1; i <= NODES; i++) {
      assert.match(res.stdout, new RegExp(`^ {4}server-${i}: hello from 42$`, 'm'), res.stdout)
      assert.match(res.stdout, new RegExp(`^==> server-${i}: finished with exit code 0$`, 'm'), res.stdout)
    }
    assert.match(res.stdout, new RegExp(`^${NODES} / ${NODES} node\\(s\\) completed / acknowledged$`, 'm'))
    assert.equal((await http(addrs()[0], 'GET', '/v1/kv/_rexec?recurse')).status, 404, 'job keys removed')
    assert.deepEqual((await http(addrs()[0], 'GET', '/v1/session/list')).json(), [], 'session destroyed')
  })

  it('a failing command gives each node\'s exit code and exit status 2; -node picks nodes', async () => {
    const res = await runCli(['exec', '-wait=4s', '-node=^server-[12]$', 'echo failing >&2; exit 7'], {httpAddr: addrs()[0], timeoutMs: 60_000})
    assert.equal(res.code, 2, res.stdout + res.stderr)
    for (const n of [1, 2]) {
      assert.match(res.stdout, new RegExp(`^ {4}server-${n}: failing$`, 'm'), res.stdout)
      assert.match(res.stdout, new RegExp(`^==> server-${n}: finished with exit code 7$`, 'm'), res.stdout)
    }
    assert.doesNotMatch(res.stdout, /server-[345]/)
    assert.match(res.stdout, /^2 \/ 2 node\(s\) completed \/ acknowledged$/m)
  })

  it('runs a script from stdin and argv without a shell, verbose', async () => {
    const script = await runCli(['exec', '-wait=4s', '-node=^server-3$', '-'], {httpAddr: addrs()[4], input: 'x=5\necho "script $x"\n', timeoutMs: 60_000})
    assert.equal(script.code, 0, script.stdout + script.stderr)
    assert.match(script.stdout, /^ {4}server-3: script 5$/m)
    const argv = await runCli(['exec', '-verbose', '-wait=4s', '-node=^server-4$', '-shell=false', '/bin/echo', 'a  b'], {httpAddr: addrs()[1], timeoutMs: 60_000})
    assert.equal(argv.code, 0, argv.stdout + argv.stderr)
    assert.match(argv.stdout, /^ {4}server-4: a {2}b$/m, 'argv passed as is: no shell collapses the spaces')
    assert.match(argv.stdout, /^Created remote execution session: [0-9a-f-]{36}$/m)
    assert.match(argv.stdout, /^==> server-4: acknowledged$/m)
    assert.match(argv.stdout, /^Completed in \d+\.\d\d seconds$/m)
  })

  it('input errors are Consul\'s', async () => {
    const none = await runCli(['exec'], {httpAddr: addrs()[0]})
    assert.equal(none.code, 1)
    assert.match(none.stderr, /^Must specify a command to execute\n/)
    const stdinNoShell = await runCli(['exec', '-shell=false', '-'], {httpAddr: addrs()[0]})
    assert.equal(stdinNoShell.code, 1)
    assert.match(stdinNoShell.stderr, /^Cannot configure -shell=false when reading from stdin$/m)
    const badRe = await runCli(['exec', '-service=(', 'uptime'], {httpAddr: addrs()[0]})
    assert.equal(badRe.code, 1)
    assert.match(badRe.stderr, /^Failed to compile service filter regexp: /)
  })
})

describe('coord exec against an agent with remote exec disabled (the default)', () => {
  let agent: TestAgent
  before(async () => { agent = await startAgent() })
  after(async () => { await agent.stop() })

  it('no node acknowledges: 0 / 0, exit 0 as Consul, and a clear reason on stderr', async () => {
    const marker = '/tmp/coord-exec-must-not-run'
    rmSync(marker, {force: true})
    const res = await runCli(['exec', '-wait=1s', `touch ${marker}`], {httpAddr: agent.httpAddr, timeoutMs: 30_000})
    assert.equal(res.code, 0, res.stderr)
    assert.match(res.stdout, /^0 \/ 0 node\(s\) completed \/ acknowledged$/m)
    assert.match(res.stderr, /disable_remote_exec = false/)
    assert.match(agent.output(), /ignoring remote exec event, disabled/)
    assert.equal(existsSync(marker), false, 'the command did not run')
    assert.equal((await http(agent.httpAddr, 'GET', '/v1/kv/_rexec?recurse')).status, 404)
  })
})

describe('coord exec interrupted', () => {
  let agent: TestAgent
  before(async () => { agent = await startAgent({args: ['-disable-remote-exec=false']}) })
  after(async () => { await agent.stop() })

  it('a _rexec event heard again (re-gossiped after a restart, fired twice) does not run the job again', async () => {
    const marker = `/tmp/coord-exec-replay-${process.pid}`
    rmSync(marker, {force: true})
    const node = (await http(agent.httpAddr, 'GET', '/v1/agent/self')).json<{Config: {NodeName: string}}>().Config.NodeName
    const session = (await http(agent.httpAddr, 'PUT', '/v1/session/create', JSON.stringify({Name: 'replay test', TTL: '30s'}))).json<{ID: string}>().ID
    const spec = encodeSpec({command: `echo ran >> ${marker}`, waitMs: 500})
    assert.equal((await http(agent.httpAddr, 'PUT', `/v1/kv/${jobKey(REXEC_PREFIX, session)}?acquire=${session}`, spec)).text.trim(), 'true')
    const fire = () => http(agent.httpAddr, 'PUT', `/v1/event/fire/${REXEC_EVENT}`, JSON.stringify({Prefix: REXEC_PREFIX, Session: session}))
    assert.equal((await fire()).status, 200)
    await until('the job\'s exit code', async () => (await http(agent.httpAddr, 'GET', `/v1/kv/${nodeKey(REXEC_PREFIX, session, node, 'exit')}`)).status === 200, 20_000)
    assert.equal((await fire()).status, 200)
    await until('the replay to be refused', () => /ignoring remote exec event, already acknowledged/.test(agent.output()), 20_000)
    assert.equal(readFileSync(marker, 'utf8'), 'ran\n', 'the job ran once')
    rmSync(marker, {force: true})
    await http(agent.httpAddr, 'PUT', `/v1/session/destroy/${session}`)
    await http(agent.httpAddr, 'DELETE', `/v1/kv/${REXEC_PREFIX}?recurse`)
  })

  it('SIGINT ends it with exit 1, removes the job, and the agent kills the abandoned command', async () => {
    const marker = `/tmp/coord-exec-interrupted-${process.pid}`
    rmSync(marker, {force: true})
    const child = spawn(process.execPath, [coordBin, 'exec', '-verbose', '-wait=1s', `sleep 8; touch ${marker}`], {
      env: {...process.env, CONSUL_HTTP_ADDR: agent.httpAddr, NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    const start = Date.now()
    while (!/acknowledged/.test(stdout)) {
      assert.ok(Date.now() - start < 20_000, `no ack: ${stdout}`)
      await sleep(50)
    }
    child.kill('SIGINT')
    assert.equal(await exited, 1)
    assert.equal((await http(agent.httpAddr, 'GET', '/v1/kv/_rexec?recurse')).status, 404)
    assert.deepEqual((await http(agent.httpAddr, 'GET', '/v1/session/list')).json(), [])
    // The agent's next heartbeat (every -wait = 1 s) fails, so it kills the job before `touch`.
    await sleep(9000)
    assert.equal(existsSync(marker), false, 'the abandoned command was killed')
    assert.match(agent.output(), /failed to write output for remote exec job/)
  })
})
