// `coord debug` against a real agent with enable_debug, a gossip key and an ACL token in its config:
// the archive holds Consul's files (index, agent, host, members, metrics, log, CPU and heap
// profiles), every one parses, and none holds the token or the key.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, writeFileSync, existsSync} from 'node:fs'
import {join} from 'node:path'
import {gunzipSync} from 'node:zlib'
import tar from 'tar-stream'
import {runCli, startAgent, tempDir, type TestAgent} from '../helpers/agent.js'
import {http} from '../helpers/http.js'

async function untar(bytes: Buffer): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>()
  const extract = tar.extract()
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = []
      stream.on('data', (chunk: unknown) => { chunks.push(chunk as Buffer) })
      stream.on('end', () => {
        if (header.type === 'file') files.set(header.name, Buffer.concat(chunks))
        next()
      })
      stream.resume()
    })
    extract.on('finish', resolve)
    extract.on('error', reject)
  })
  extract.end(gunzipSync(bytes))
  await done
  return files
}

describe('coord debug', () => {
  const dir = tempDir('coord-debug-')
  const key = 'pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s='
  const token = '8f8e6a6c-3b0e-4d7f-9a55-0c6a1f1d2e3f'
  let agent: TestAgent

  before(async () => {
    const file = join(dir.path, 'agent.json')
    writeFileSync(file, JSON.stringify({enable_debug: true, encrypt: key, acl: {enabled: false, tokens: {agent: token, default: token}}}))
    agent = await startAgent({args: [`-config-file=${file}`]})
    await http(agent.httpAddr, 'PUT', '/v1/kv/debug/x', 'y', {'X-Consul-Token': token})
  })
  after(async () => {
    await agent?.stop()
    dir.cleanup()
  })

  it('-duration=5s writes an archive whose files parse and hold no token or key', async () => {
    const output = join(dir.path, 'bundle')
    const started = Date.now()
    const res = await runCli(['debug', '-duration=5s', `-output=${output}`], {httpAddr: agent.httpAddr, env: {CONSUL_HTTP_TOKEN: token}, timeoutMs: 60_000})
    console.log(`coord debug took ${((Date.now() - started) / 1000).toFixed(1)} s`)
    assert.equal(res.code, 0, res.stderr)
    assert.match(res.stdout, /Starting debugger and capturing static information/)
    assert.match(res.stdout, new RegExp(`Saved debug archive: ${output}\\.tar\\.gz`))
    assert.equal(existsSync(output), false, 'the directory is removed once archived')
    const files = await untar(readFileSync(`${output}.tar.gz`))
    const names = [...files.keys()].map((n) => n.replace(/^bundle\//, ''))
    for (const expected of ['index.json', 'agent.json', 'host.json', 'members.json', 'metrics.json', 'consul.log', 'profile.cpuprofile']) {
      assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`)
    }
    const heaps = names.filter((n) => /^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ\/heap\.heapprofile$/.test(n))
    assert.ok(heaps.length >= 1, names.join(', '))
    const text = (name: string) => files.get(`bundle/${name}`)!.toString('utf8')
    const index = JSON.parse(text('index.json')) as {AgentVersion: string; Targets: string[]; Duration: string}
    assert.deepEqual([...index.Targets].sort(), ['agent', 'host', 'logs', 'members', 'metrics', 'pprof'])
    assert.equal((JSON.parse(text('agent.json')) as {Config: {NodeName: string}}).Config.NodeName, 'test-node')
    assert.ok((JSON.parse(text('host.json')) as {Memory: {total: number}}).Memory.total > 0)
    assert.equal((JSON.parse(text('members.json')) as Array<{Name: string}>)[0].Name, 'test-node')
    // metrics.json: one indented summary after another (Consul's stream form): at the start and each interval.
    const summaries = text('metrics.json').split(/\n(?=\{)/).map((part) => JSON.parse(part) as {Gauges: unknown[]})
    assert.ok(summaries.length >= 2, `${summaries.length} summaries`)
    assert.ok(summaries.every((s) => Array.isArray(s.Gauges)))
    const profile = JSON.parse(text('profile.cpuprofile')) as {nodes: unknown[]; startTime: number; endTime: number}
    assert.ok(profile.nodes.length > 0)
    assert.ok(profile.endTime - profile.startTime >= 4e6, 'the CPU profile spans the duration (µs)')
    assert.ok((JSON.parse(text(heaps[0])) as {head: {children: unknown[]}}).head.children.length > 0)
    for (const [name, body] of files) {
      const content = body.toString('utf8')
      assert.ok(!content.includes(token), `${name} holds the ACL token`)
      assert.ok(!content.includes(key), `${name} holds the gossip key`)
    }
  })

  it('refuses bad timing, unknown targets and an existing output, before any request', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['-duration=1s'], /^==> Capture validation failed: duration must be longer than 5s/],
      [['-duration=10s', '-interval=1s'], /interval must be longer than 5s/],
      [['-duration=10s', '-interval=20s'], /duration \(10s\) must be longer than interval \(20s\)/],
      [['-duration=10s', '-capture=bogus'], /target not found: bogus/],
      [['-duration=10s', `-output=${dir.path}`], /output directory already exists/],
    ]
    for (const [args, expected] of cases) {
      const res = await runCli(['debug', ...args], {httpAddr: '127.0.0.1:1'})
      assert.equal(res.code, 1, args.join(' '))
      assert.match(res.stderr, expected)
    }
  })
})
