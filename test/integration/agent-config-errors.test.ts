// Broken agent configuration through the real binary: `coord agent` must exit 1 promptly with one
// `==> ` line naming the file and the key (Consul's agent prefixes its errors with `==> `), never
// start half-way or hang; `coord reload` with a broken file keeps the running config and says why.
// The full key × wrong-type matrix is unit-tested (test/unit/agent/config.test.ts); this covers each
// kind of failure once, end to end. agent-local.test.ts covers a reload with unparsable JSON.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {createSocket} from 'node:dgram'
import {createServer} from 'node:net'
import {join} from 'node:path'
import {runCli, startAgent, tempDir, type TestAgent} from '../helpers/agent.js'
import {http} from '../helpers/http.js'

// Ports 0 and loopback: a case that wrongly starts still binds nothing a neighbour uses.
const SAFE = ['-http-port=0', '-dns-port=0', '-server-port=0', '-serf-lan-port=0', '-serf-wan-port=0', '-bind=127.0.0.1', '-client=127.0.0.1']

describe('coord agent refuses a broken configuration', () => {
  const dir = tempDir('coord-config-errors-')
  const file = (name: string, text: string): string => {
    const path = join(dir.path, name)
    writeFileSync(path, text)
    return path
  }

  /** args; what the one line must say (the file and key where there is one). */
  const cases: Array<{name: string; args: () => string[]; says: RegExp; unsafe?: string}> = [
    {name: 'truncated JSON', args: () => ['-dev', `-config-file=${file('truncated.json', '{"server": true, "ports": {')}`], says: /^Error parsing \S+truncated\.json: /},
    {name: 'empty file', args: () => ['-dev', `-config-file=${file('empty.json', '')}`], says: /^Error parsing \S+empty\.json: /},
    {name: 'top level not an object', args: () => ['-dev', `-config-file=${file('array.json', '[]')}`], says: /array\.json: the top level must be a JSON object$/},
    {name: 'string for a number', args: () => ['-dev', `-config-file=${file('type.json', '{"bootstrap_expect": "three"}')}`], says: /^\S+type\.json: bootstrap_expect: expected a non-negative integer, got "three"$/},
    {name: 'unknown key', args: () => ['-dev', `-config-file=${file('unknown.json', '{"bootstrap_expected": 3}')}`], says: /^\S+unknown\.json: invalid config key bootstrap_expected$/},
    {name: 'bad duration', args: () => ['-dev', `-config-file=${file('duration.json', '{"retry_interval": "soon"}')}`], says: /^\S+duration\.json: retry_interval: expected a duration/},
    {name: 'port out of range', args: () => ['-dev', `-config-file=${file('port.json', '{"ports": {"http": 70000}}')}`], unsafe: '-http-port', says: /^\S+port\.json: ports\.http: expected a port number/},
    {name: 'bind address not an IP', args: () => ['-dev', `-config-file=${file('bind.json', '{"bind_addr": "not-an-ip"}')}`], unsafe: '-bind', says: /^\S+bind\.json: bind_addr: must be an IP address, got "not-an-ip"$/},
    {name: 'ACLs with a down policy coord does not know (refused, never guessed)', args: () => ['-dev', `-config-file=${file('acl.json', '{"acl": {"enabled": true, "default_policy": "deny", "down_policy": "open"}}')}`], says: /^\S+acl\.json: acl\.down_policy: must be one of "allow", "deny", "extend-cache", "async-cache", got "open"$/},
    {name: 'a write allow-list with a bad CIDR (refused, never open)', args: () => ['-dev', `-config-file=${file('allow-write.json', '{"http_config": {"allow_write_http_from": ["127.0.0.0/33"]}}')}`], says: /^\S+allow-write\.json: http_config\.allow_write_http_from: invalid CIDR "127\.0\.0\.0\/33"$/},
    {name: 'HCL syntax error (line and column)', args: () => ['-dev', `-config-file=${file('agent.hcl', 'server = true\nports {\n  http =\n}')}`], says: /^Error parsing \S+agent\.hcl: At 4:\d+: /},
    {name: 'HCL wrong type, named by file and key', args: () => ['-dev', `-config-file=${file('type.hcl', 'bootstrap_expect = "three"')}`], says: /^\S+type\.hcl: bootstrap_expect: expected a non-negative integer, got "three"$/},
    {name: '-config-file naming a directory (read as one, as Consul does)', args: () => {
      mkdirSync(join(dir.path, 'as-dir'), {recursive: true})
      writeFileSync(join(dir.path, 'as-dir', 'bad.json'), '{"log_level": 3}')
      return ['-dev', `-config-file=${join(dir.path, 'as-dir')}`]
    }, says: /^\S+as-dir\/bad\.json: log_level: expected one of/},
    {name: 'a dangling symlink in the config dir', args: () => {
      mkdirSync(join(dir.path, 'links'), {recursive: true})
      symlinkSync(join(dir.path, 'gone.json'), join(dir.path, 'links', 'gone.json'))
      return ['-dev', `-config-dir=${join(dir.path, 'links')}`]
    }, says: /^Error reading \S+links\/gone\.json: ENOENT/},
    {name: 'config dir missing', args: () => ['-dev', `-config-dir=${join(dir.path, 'nope')}`], says: /^Error reading config dir \S+nope: ENOENT/},
    {name: '-dev with -bootstrap-expect', args: () => ['-dev', '-bootstrap-expect=3'], says: /^bootstrap_expect: 'bootstrap_expect > 0' not allowed in dev mode$/},
    {name: '-bootstrap with -bootstrap-expect', args: () => ['-server', '-bootstrap', '-bootstrap-expect=3', `-data-dir=${join(dir.path, 'data')}`], says: /mutually exclusive$/},
    {name: 'data dir is a file', args: () => ['-server', '-bootstrap', `-data-dir=${file('plain', 'x')}`], says: /^data_dir: "\S+plain" is not a directory$/},
    {name: 'data dir under a file', args: () => ['-server', '-bootstrap', `-data-dir=${join(file('plain2', 'x'), 'sub')}`], says: /^data_dir: cannot (use|create) "\S+plain2\/sub": ENOTDIR/},
  ]
  // A port in use fails the start after Raft is up: it used to linger 10 s (HTTP) or hang (DNS)
  // on a pending read-index timer and the coordinate timers, not closed on that path.
  let busyPort = 0
  cases.push(
    {name: 'HTTP port in use', args: () => ['-dev', `-http-port=${busyPort}`], unsafe: '-http-port', says: /^Error starting HTTP server on 127\.0\.0\.1 port \d+: listen EADDRINUSE/},
    {name: 'DNS port in use', args: () => ['-dev', `-dns-port=${busyPort}`], unsafe: '-dns-port', says: /^Error starting DNS server on 127\.0\.0\.1 port \d+: bind EADDRINUSE/},
  )
  const busy: Array<{close(): void}> = []
  before(async () => {
    const tcp = createServer()
    busyPort = await new Promise<number>((resolve) => tcp.listen(0, '127.0.0.1', () => resolve((tcp.address() as {port: number}).port)))
    const udp = createSocket('udp4')
    await new Promise<void>((resolve) => udp.bind(busyPort, '127.0.0.1', resolve))
    busy.push(tcp, udp)
  })
  after(() => { for (const socket of busy) socket.close() })
  // procfs answers ENOENT to any mkdir, on which mkdirSync({recursive}) never returned.
  if (existsSync('/proc/self')) cases.push({name: 'data dir that cannot be created (/proc)', args: () => ['-server', '-bootstrap', '-data-dir=/proc/coord-no-such-dir'], says: /^data_dir: cannot create "\/proc\/coord-no-such-dir": ENOENT/})

  after(() => dir.cleanup())

  it(`exits 1 with one line naming the problem (${cases.length} cases, 4 at a time)`, async () => {
    const started = performance.now()
    const failures: string[] = []
    let slowest = 0
    for (let i = 0; i < cases.length; i += 4) {
      const batch = cases.slice(i, i + 4)
      // 20 s is a liveness bound (a hang is killed and reported), not a speed claim.
      // A flag would override the file's bad value: `unsafe` names the one the case leaves out.
      const safe = (c: (typeof cases)[number]) => SAFE.filter((flag) => !c.unsafe || !flag.startsWith(c.unsafe))
      const results = await Promise.all(batch.map(async (c) => {
        const t0 = performance.now()
        const r = await runCli(['agent', ...safe(c), ...c.args()], {timeoutMs: 20_000})
        return {...r, ms: Math.round(performance.now() - t0)}
      }))
      batch.forEach((c, j) => {
        const r = results[j]
        const label = `${c.name}: exit ${r.code}\nstderr: ${r.stderr}\nstdout: ${r.stdout.slice(0, 300)}`
        slowest = Math.max(slowest, r.ms)
        try {
          assert.equal(r.code, 1, label)
          const lines = r.stderr.trimEnd().split('\n')
          assert.equal(lines.length, 1, `one line: ${label}`)
          assert.match(lines[0], /^==> /, label)
          assert.match(lines[0].slice(4), c.says, label)
          assert.doesNotMatch(r.stdout, /agent running/, `nothing started: ${label}`)
        } catch (error) {
          failures.push((error as Error).message)
        }
      })
    }
    // Exit 1 (not the 20 s kill) is the liveness check; the slowest refusal is printed, not bounded.
    console.log(`# ${cases.length} refused configurations in ${Math.round(performance.now() - started)} ms, slowest ${slowest} ms`)
    assert.deepEqual(failures, [])
  })

  it('refuses an unreadable config file by name', async () => {
    const path = file('secret.json', '{}')
    const {chmodSync} = await import('node:fs')
    chmodSync(path, 0o000)
    const r = await runCli(['agent', ...SAFE, '-dev', `-config-file=${path}`], {timeoutMs: 20_000, obeyFileModes: true})
    assert.equal(r.code, 1, r.stderr)
    assert.match(r.stderr, /^==> Error reading \S+secret\.json: EACCES/)
  })
})

describe('coord reload with a broken file', () => {
  const dir = tempDir('coord-reload-errors-')
  const confDir = join(dir.path, 'conf.d')
  let agent: TestAgent
  before(async () => {
    mkdirSync(confDir)
    writeFileSync(join(confDir, 'web.json'), JSON.stringify({service: {name: 'web', port: 80}}))
    agent = await startAgent({args: [`-config-dir=${confDir}`]})
  })
  after(async () => {
    await agent?.stop()
    dir.cleanup()
  })

  const services = async (): Promise<Record<string, {Port: number}>> => (await http(agent.httpAddr, 'GET', '/v1/agent/services')).json()

  for (const [what, text, says] of [
    ['a wrong type', JSON.stringify({service: {name: 'web', port: 81}, log_level: 5}), /web\.json: log_level: expected one of/],
    ['an unknown key', JSON.stringify({service: {name: 'web', port: 82}, servr: true}), /web\.json: invalid config key servr/],
    ['a bad service', JSON.stringify({service: {name: 'web', port: 'eighty'}}), /web\.json: services\[0\]/],
  ] as const) {
    it(`keeps the running config on ${what}, naming the file and key`, async () => {
      writeFileSync(join(confDir, 'web.json'), text)
      const r = await runCli(['reload'], {httpAddr: agent.httpAddr})
      assert.equal(r.code, 1, r.stderr)
      assert.match(r.stderr, /^Error reloading: /)
      assert.match(r.stderr, says)
      assert.doesNotMatch(r.stderr, /^\s+at /m)
      assert.equal((await services()).web?.Port, 80, 'the running config stays')
    })
  }

  it('applies the file once it is fixed', async () => {
    writeFileSync(join(confDir, 'web.json'), JSON.stringify({service: {name: 'web', port: 8080}}))
    const r = await runCli(['reload'], {httpAddr: agent.httpAddr})
    assert.equal(r.code, 0, r.stderr)
    assert.equal((await services()).web?.Port, 8080)
  })
})
