// `coord agent` flags from Consul's list, each shown by its effect on a real agent process: the PID
// file written and removed, the log file rotated at its byte limit, node meta in the catalog, in
// DNS TXT and in /v1/agent/self, the serf pools bound where -serf-*-bind says, -advertise-wan in
// the WAN pool, gossip from outside -serf-lan-allowed-cidrs dropped, a changed config file applied
// with -auto-reload-config, -hcl and -config-format, and the flags coord refuses saying why.
import {after, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {connect, createServer, type AddressInfo} from 'node:net'
import {join} from 'node:path'
import {runCli, startAgent, tempDir, type TestAgent} from '../helpers/agent.js'
import {http} from '../helpers/http.js'
import {until} from '../helpers/wait.js'
import {agentDnsPort, dnsUdp} from '../helpers/dns.js'
import {randomSubnet} from '../../src/lib/devcluster/cluster.js'
import {spawnAgent, type AgentProcess} from '../../src/lib/devcluster/agent-process.js'

// Ports 0 and loopback: a case that wrongly starts binds nothing a neighbour uses.
const SAFE = ['-http-port=0', '-dns-port=0', '-server-port=0', '-serf-lan-port=0', '-serf-wan-port=0', '-bind=127.0.0.1', '-client=127.0.0.1']

/** A TCP port free on `host` right now (for flags that need a fixed one). */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.on('error', reject)
    server.listen(0, host, () => {
      const {port} = server.address() as AddressInfo
      server.close(() => resolve(port))
    })
  })
}

/** Whether a TCP connection to host:port is accepted within 2 s. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({host, port})
    const timer = setTimeout(() => { socket.destroy(); resolve(false) }, 2000)
    socket.once('connect', () => { clearTimeout(timer); socket.destroy(); resolve(true) })
    socket.once('error', () => { clearTimeout(timer); resolve(false) })
  })
}

const self = async (agent: {httpAddr: string}) => (await http(agent.httpAddr, 'GET', '/v1/agent/self')).json<{Config: Record<string, unknown>; DebugConfig: Record<string, unknown>; Meta: Record<string, string>}>()

describe('coord agent flags, on real agents', () => {
  const dir = tempDir('coord-agent-flags-')
  after(() => dir.cleanup())

  it('-pid-file: the PID is written at start and the file removed at exit', async () => {
    const pidFile = join(dir.path, 'run', 'coord.pid')
    const agent = await startAgent({args: [`-pid-file=${pidFile}`]})
    try {
      assert.equal(readFileSync(pidFile, 'utf8'), String(agent.pid))
    } finally {
      assert.equal(await agent.stop(), 0)
    }
    assert.equal(existsSync(pidFile), false, 'removed at exit')
  })

  it('-log-file with -log-rotate-bytes and -log-rotate-max-files: the log rotates at the byte limit, Consul names the archives, the oldest go', async () => {
    const logDir = join(dir.path, 'logs')
    const agent = await startAgent({args: [`-log-file=${join(logDir, 'agent.log')}`, '-log-rotate-bytes=2000', '-log-rotate-max-files=2', '-log-level=debug', '-log-rotate-duration=1h']})
    try {
      // Each user event logs a debug line naming it: a long name fills 2000 bytes in a few events.
      const archives = await until('two rotations', async () => {
        await http(agent.httpAddr, 'PUT', `/v1/event/fire/${'filler-'.repeat(30)}`, '')
        const names = readdirSync(logDir).filter((name) => name !== 'agent.log')
        return names.length >= 2 && statSync(join(logDir, 'agent.log')).size > 0 && names
      }, 20_000)
      for (const name of archives) {
        assert.match(name, /^agent-\d{19}\.log$/, 'Consul: <name>-<unix nanoseconds><ext>')
        const size = statSync(join(logDir, name)).size
        assert.ok(size >= 2000 && size < 2000 + 4096, `${name}: ${size} bytes, cut at the first line past the limit`)
      }
      assert.ok(archives.length <= 2, `at most -log-rotate-max-files archives: ${archives.join(' ')}`)
      assert.match(readFileSync(join(logDir, archives[0]), 'utf8'), /\[(DEBUG|INFO)\] agent/, 'the archives hold log lines')
      assert.ok(!readFileSync(join(logDir, archives[0]), 'utf8').includes('==> '), 'the banner is not a log line')
    } finally {
      await agent.stop()
    }
  })

  it('-node-meta: in the catalog, in DNS TXT answers and in /v1/agent/self', async () => {
    const agent = await startAgent({args: ['-node-meta=rack:r1', '-node-meta=env:prod']})
    try {
      const node = await until('the node meta in the catalog', async () => {
        const answer = await http(agent.httpAddr, 'GET', '/v1/catalog/node/test-node')
        const meta = answer.status === 200 ? answer.json<{Node: {Meta: Record<string, string>}}>().Node.Meta : undefined
        return meta?.rack === 'r1' && meta
      })
      assert.deepEqual(node, {'consul-network-segment': '', rack: 'r1', env: 'prod'})
      const dnsPort = await agentDnsPort(agent)
      const reply = await dnsUdp(dnsPort, 'test-node.node.consul', 'TXT')
      const txt = [...reply.answers ?? [], ...reply.additionals ?? []].filter((r) => r.type === 'TXT').map((r) => String((r.data as Buffer[])[0]))
      assert.ok(txt.includes('rack=r1') && txt.includes('env=prod'), JSON.stringify(txt))
      assert.deepEqual((await self(agent)).Meta, {rack: 'r1', env: 'prod'})
    } finally {
      await agent.stop()
    }
  })

  it('-node-meta with a reserved or malformed key is refused with the rule', async () => {
    const reserved = await runCli(['agent', '-dev', ...SAFE, '-node-meta=consul-x:1'], {timeoutMs: 20_000})
    assert.equal(reserved.code, 1)
    assert.match(reserved.stderr, /node_meta: Key prefix 'consul-' is reserved for internal use: consul-x/)
    const noColon = await runCli(['agent', '-dev', ...SAFE, '-node-meta=rack'], {timeoutMs: 20_000})
    assert.equal(noColon.code, 1)
    assert.match(noColon.stderr, /invalid value "rack" for flag -node-meta: the format is key:value/)
  })

  it('-serf-lan-bind and -serf-wan-bind: each pool listens on its own address, not on -bind', async () => {
    const subnet = randomSubnet()
    const [lanPort, wanPort] = [await freePort(`${subnet}.2`), await freePort(`${subnet}.3`)]
    const agent = await spawnAgent({name: 'binds', timeoutMs: 20_000, args: [
      '-dev', `-bind=${subnet}.1`, `-client=${subnet}.1`, '-http-port=0', '-dns-port=0', '-server-port=0',
      `-serf-lan-bind=${subnet}.2`, `-serf-lan-port=${lanPort}`, `-serf-wan-bind=${subnet}.3`, `-serf-wan-port=${wanPort}`,
    ]})
    try {
      assert.equal(await accepts(`${subnet}.2`, lanPort), true, 'LAN gossip on -serf-lan-bind')
      assert.equal(await accepts(`${subnet}.1`, lanPort), false, 'not on -bind')
      assert.equal(await accepts(`${subnet}.3`, wanPort), true, 'WAN gossip on -serf-wan-bind')
      assert.equal(await accepts(`${subnet}.1`, wanPort), false, 'not on -bind')
      const debug = (await self(agent)).DebugConfig
      assert.equal(debug.SerfBindAddrLAN, `${subnet}.2`)
      assert.equal(debug.SerfBindAddrWAN, `${subnet}.3`)
    } finally {
      await agent.stop()
    }
  })

  it('-advertise-wan: the WAN pool advertises it; the LAN pool keeps -advertise', async () => {
    const agent = await startAgent({args: ['-advertise-wan=127.0.0.9']})
    try {
      const wan = (await http(agent.httpAddr, 'GET', '/v1/agent/members?wan=1')).json<Array<{Name: string; Addr: string}>>()
      assert.deepEqual(wan.map((m) => m.Addr), ['127.0.0.9'])
      const lan = (await http(agent.httpAddr, 'GET', '/v1/agent/members')).json<Array<{Addr: string}>>()
      assert.deepEqual(lan.map((m) => m.Addr), ['127.0.0.1'])
      assert.equal((await self(agent)).DebugConfig.AdvertiseAddrWAN, '127.0.0.9')
    } finally {
      await agent.stop()
    }
  })

  describe('-serf-lan-allowed-cidrs', () => {
    const subnet = randomSubnet()
    const agents: AgentProcess[] = []
    after(async () => { await Promise.all(agents.map((a) => a.stop())) })

    it('gossip from outside the allowed networks is dropped: a join from there fails, one from inside succeeds (and carries its node meta)', async () => {
      const server = await spawnAgent({name: 's1', timeoutMs: 30_000, waitForLeader: true, args: [
        '-dev', '-node=s1', `-bind=${subnet}.1`, `-client=${subnet}.1`, '-http-port=0', '-dns-port=0', '-server-port=0', '-serf-wan-port=0',
        `-serf-lan-allowed-cidrs=${subnet}.1/32`, `-serf-lan-allowed-cidrs=${subnet}.3/32`,
      ]})
      agents.push(server)
      const client = (name: string, index: number, extra: string[] = []) => spawnAgent({name, timeoutMs: 30_000, args: [
        `-data-dir=${join(dir.path, name)}`, `-node=${name}`, `-bind=${subnet}.${index}`, `-client=${subnet}.${index}`,
        '-http-port=0', '-dns-port=0', '-server-port=0', '-serf-lan-port=0', ...extra,
      ]})
      const serfPort = Number(/serf: LAN gossip started: address=\S+:(\d+)/.exec(server.output())?.[1])
      assert.ok(serfPort > 0, 'the server logs its LAN gossip port')
      const outside = await client('outside', 2)
      agents.push(outside)
      const refused = await runCli(['join', `${subnet}.1:${serfPort}`], {httpAddr: outside.httpAddr, timeoutMs: 30_000})
      assert.notEqual(refused.code, 0, `a join from ${subnet}.2 must fail: ${refused.stdout}${refused.stderr}`)
      const inside = await client('inside', 3, ['-node-meta=zone:z3'])
      agents.push(inside)
      const joined = await runCli(['join', `${subnet}.1:${serfPort}`], {httpAddr: inside.httpAddr, timeoutMs: 30_000})
      assert.equal(joined.code, 0, joined.stderr)
      const members = (await http(server.httpAddr, 'GET', '/v1/agent/members')).json<Array<{Name: string}>>().map((m) => m.Name).sort()
      assert.deepEqual(members, ['inside', 's1'], 'the outside agent never became a member')
      // The client's node meta reaches the catalog through its anti-entropy.
      await until('the client node meta in the catalog', async () => {
        const answer = await http(server.httpAddr, 'GET', '/v1/catalog/node/inside')
        return answer.status === 200 && answer.json<{Node: {Meta: Record<string, string>} | null}>().Node?.Meta?.zone === 'z3'
      }, 30_000)
    })
  })

  it('-auto-reload-config: a changed config file is applied as coord reload would', async () => {
    const confDir = join(dir.path, 'auto')
    mkdirSync(confDir)
    const file = join(confDir, 'services.json')
    writeFileSync(file, JSON.stringify({service: {name: 'before', port: 1}}))
    const agent = await startAgent({args: ['-auto-reload-config', `-config-file=${file}`]})
    try {
      const services = async () => Object.keys((await http(agent.httpAddr, 'GET', '/v1/agent/services')).json<Record<string, unknown>>())
      assert.deepEqual(await services(), ['before'])
      const changedAt = Date.now()
      writeFileSync(file, JSON.stringify({service: {name: 'after', port: 2}, datacenter: 'dc2'}))
      await until('the new service', async () => (await services()).join() === 'after' || undefined, 10_000)
      console.log(`# auto-reload applied a changed file in ${Date.now() - changedAt} ms`)
      assert.match(agent.output(), /configuration reloaded/)
      // datacenter is not reloadable (config-schema.ts): the reload says so instead of dropping it silently.
      assert.match(agent.output(), /changed config keys take effect at the next restart: keys=datacenter/)
    } finally {
      await agent.stop()
    }
  })

  it('-hcl fragments win over the flags; -config-format reads a file whatever its extension', async () => {
    const conf = join(dir.path, 'agent.conf')
    writeFileSync(conf, 'node_meta { from = "conf" }\nprimary_datacenter = "dc0"\n')
    const agent = await startAgent({args: ['-node-meta=flag:1', '-hcl', 'node_meta { hcl = "yes" }', '-config-format=hcl', `-config-file=${conf}`]})
    try {
      const {Config, Meta} = await self(agent)
      // Maps merge key by key across the sources (Consul's config Merge): file, then flags, then -hcl.
      assert.deepEqual(Meta, {from: 'conf', flag: '1', hcl: 'yes'})
      assert.equal(Config.PrimaryDatacenter, 'dc0')
    } finally {
      await agent.stop()
    }
    const unknown = await runCli(['agent', '-dev', ...SAFE, `-config-file=${conf}`], {timeoutMs: 20_000})
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /agent\.conf has unknown extension; must be \.hcl or \.json, or config format must be set/)
    const badFormat = await runCli(['agent', '-dev', ...SAFE, '-config-format=yaml'], {timeoutMs: 20_000})
    assert.equal(badFormat.code, 1)
    assert.match(badFormat.stderr, /-config-format must be 'hcl' or 'json', got "yaml"/)
    const badFragment = await runCli(['agent', '-dev', ...SAFE, '-hcl', 'ports {'], {timeoutMs: 20_000})
    assert.equal(badFragment.code, 1)
    assert.match(badFragment.stderr, /Error parsing flags-0\.hcl: /)
  })

  it('-raft-protocol=3, -primary-datacenter, -disable-host-node-id, -segment (a warning) and an Enterprise key start; other Raft protocols are refused', async () => {
    const enterprise = join(dir.path, 'enterprise.hcl')
    writeFileSync(enterprise, 'audit { enabled = true }\npartition = "p1"\n')
    const agent = await startAgent({args: ['-raft-protocol=3', '-primary-datacenter=dc0', '-disable-host-node-id', '-segment=alpha', `-config-file=${enterprise}`]})
    try {
      assert.equal((await self(agent)).Config.PrimaryDatacenter, 'dc0')
      for (const key of ['segment', 'audit', 'partition']) assert.match(agent.output(), new RegExp(`config key "${key}" is ignored: a Consul Enterprise feature`))
    } finally {
      await agent.stop()
    }
    const old = await runCli(['agent', '-dev', ...SAFE, '-raft-protocol=2'], {timeoutMs: 20_000})
    assert.equal(old.code, 1)
    assert.match(old.stderr, /raft_protocol: coord speaks Raft protocol 3 only/)
  })

  it('flags coord cannot honour are refused with a one-line reason, never "flag provided but not defined"', async () => {
    for (const [flag, says] of [
      ['-grpc-port=8502', /^==> -grpc-port is not supported by coord: coord serves no gRPC API/],
      ['-grpc-tls-port=8503', /^==> -grpc-tls-port is not supported by coord: coord serves no gRPC API/],
      ['-read-replica=true', /^==> -read-replica is not supported by coord: read replicas are a Consul Enterprise feature/],
      ['-syslog', /enable_syslog: coord cannot write to syslog/],
      ['-protocol=2', /^==> -protocol is not supported by coord/],
      ['-primary-gateway=10.0.0.1:443', /^==> -primary-gateway is not supported by coord: coord has no mesh gateways/],
    ] as const) {
      const result = await runCli(['agent', '-dev', ...SAFE, flag], {timeoutMs: 20_000})
      assert.equal(result.code, 1, `${flag}: ${result.stdout}`)
      assert.match(result.stderr, says, flag)
      assert.ok(!/flag provided but not defined/.test(result.stderr), flag)
      assert.equal(result.stderr.trim().split('\n').length, 1, `${flag}: one line: ${result.stderr}`)
    }
  })
})

describe('-log-file keeps the agent output honest', () => {
  let agent: TestAgent | undefined
  after(async () => { await agent?.stop() })
  it('writes the same log lines as stdout', async () => {
    const dir = tempDir('coord-agent-logfile-')
    try {
      agent = await startAgent({args: [`-log-file=${dir.path}/`]})
      await http(agent.httpAddr, 'GET', '/v1/agent/self')
      const file = join(dir.path, 'consul.log')
      const line = await until('a log line in consul.log', () => readFileSync(file, 'utf8').split('\n').find((l) => l.includes('Consul agent running!')))
      assert.ok(agent.output().includes(line), 'the file line is the stdout line')
      await agent.stop()
      agent = undefined
    } finally {
      dir.cleanup()
    }
  })
})
