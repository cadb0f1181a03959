// What a Consul user tripped over, answered as Consul does: an unknown command (usage, exit 127),
// `version`'s build date, duration defaults in help, `info`'s raft and acl keys, and `watch`'s
// KV Flags as JSON numbers.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {runCli, startAgent, type TestAgent} from '../helpers/agent.js'

const manifest = JSON.parse(readFileSync(new URL('../../../oclif.manifest.json', import.meta.url), 'utf8')) as {
  commands: Record<string, {hidden?: boolean; flags: Record<string, {name: string; default?: unknown}>}>
}
const buildInfo = JSON.parse(readFileSync(new URL('../../src/build-info.json', import.meta.url), 'utf8')) as {buildDate: string}

describe('answers without an agent', () => {
  it('an unknown command prints Consul\'s usage and command list on stdout and exits 127', async () => {
    const res = await runCli(['frobnicate', 'x'])
    assert.equal(res.code, 127, res.stderr)
    assert.equal(res.stderr, '')
    assert.match(res.stdout, /^Usage: coord \[--version\] \[--help\] <command> \[<args>\]\n\nAvailable commands are:\n/)
    const listed = [...res.stdout.matchAll(/^ {4}(\S+) {4,}\S/gm)].map((m) => m[1])
    const topLevel = new Set(Object.entries(manifest.commands).filter(([, c]) => !c.hidden).map(([id]) => id.split(':')[0]))
    for (const name of topLevel) assert.ok(listed.includes(name), `${name} is listed`)
    assert.ok(listed.includes('autocomplete'))
    assert.deepEqual(listed, [...listed].sort(), 'sorted by name')
    assert.ok(res.stdout.endsWith('\n\n'), 'a blank line at the end, as mitchellh/cli writes it')
  })

  it('a bare `coord` is a blank command: the same usage and list, exit 127 (mitchellh/cli); `coord -h` is help, exit 0', async () => {
    const bare = await runCli([])
    const unknown = await runCli(['frobnicate'])
    assert.equal(bare.code, 127, bare.stderr)
    assert.equal(bare.stdout, unknown.stdout)
    const help = await runCli(['-h'])
    assert.equal(help.code, 0, help.stderr)
  })

  it('an unknown subcommand of a topic prints the topic\'s usage and its subcommands, exit 1 (Consul\'s RunResultHelp)', async () => {
    const res = await runCli(['operator', 'raft', 'frob'])
    assert.equal(res.code, 1, res.stderr)
    assert.equal(res.stderr, '')
    assert.match(res.stdout, /^Usage: coord operator raft <subcommand> \[options\] \[args\]\n\n {2}\S.*\n\nSubcommands:\n/)
    const listed = [...res.stdout.matchAll(/^ {4}(\S+) {4,}\S/gm)].map((m) => m[1])
    assert.deepEqual(listed, ['list-peers', 'remove-peer', 'transfer-leader'])
  })

  it('version prints the date of this build, not the zero time', async () => {
    const pretty = await runCli(['version'])
    assert.equal(pretty.code, 0, pretty.stderr)
    const date = /^Build Date (\S+)$/m.exec(pretty.stdout)?.[1]
    assert.equal(date, buildInfo.buildDate)
    assert.match(date!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    const when = Date.parse(date!)
    assert.ok(when > Date.parse('2024-01-01T00:00:00Z') && when <= Date.now(), date)
    const json = JSON.parse((await runCli(['version', '-format=json'])).stdout) as {BuildDate: string}
    assert.equal(json.BuildDate, date)
  })

  it('help shows duration defaults as durations (lock-delay 2s beside session-ttl 15s), not milliseconds', async () => {
    const help = await runCli(['lock', '--help'])
    assert.equal(help.code, 0, help.stderr)
    assert.match(help.stdout, /--lock-delay=<duration>\s+\[default: 2s\]/)
    assert.match(help.stdout, /--session-ttl=<string>\s+\[default: 15s\]/)
    assert.doesNotMatch(help.stdout, /\[default: 2000\]/)
    assert.equal(manifest.commands.exec.flags.wait.default, '2s')
    assert.equal(manifest.commands.exec.flags['wait-repl'].default, '200ms')
  })
})

describe('answers from an agent', {timeout: 120_000}, () => {
  let agent: TestAgent
  before(async () => { agent = await startAgent() })
  after(async () => { await agent?.stop() })
  const cli = (args: string[]) => runCli(args, {httpAddr: agent.httpAddr})

  it('info carries Consul\'s raft and acl keys, latest_configuration in raft\'s %+v form', async () => {
    const res = await cli(['info'])
    assert.equal(res.code, 0, res.stderr)
    const sections = new Map<string, Map<string, string>>()
    let current: Map<string, string> | undefined
    for (const line of res.stdout.split('\n')) {
      const head = /^(\w+):$/.exec(line)
      if (head) sections.set(head[1], current = new Map())
      const kv = /^\t(\S+) = (.*)$/.exec(line)
      if (kv) current!.set(kv[1], kv[2])
    }
    const raft = sections.get('raft')!
    assert.equal(sections.get('consul')!.get('acl'), 'disabled')
    assert.equal(raft.get('protocol_version_min'), '0')
    assert.equal(raft.get('protocol_version_max'), '3')
    assert.equal(raft.get('snapshot_version_min'), '0')
    assert.equal(raft.get('snapshot_version_max'), '1')
    assert.match(raft.get('fsm_pending') ?? '', /^\d+$/)
    assert.ok(Number(raft.get('latest_configuration_index')) >= 1, raft.get('latest_configuration_index'))
    assert.match(raft.get('latest_configuration') ?? '', /^\[\{Suffrage:Voter ID:[0-9a-f-]{36} Address:127\.0\.0\.1:\d+\}\]$/)
    const keys = [...raft.keys()]
    assert.deepEqual(keys, [...keys].sort(), 'keys sorted within the section')
  })

  it('watch -type=key and -type=keyprefix print api.KVPair as Consul does: Flags a JSON number (exact for uint64), fields in order', async () => {
    assert.equal((await cli(['kv', 'put', '-flags=42', 'wf/a', 'x'])).code, 0)
    assert.equal((await cli(['kv', 'put', '-flags=18446744073709551615', 'wf/b', 'y'])).code, 0)
    const key = await cli(['watch', '-type=key', '-key=wf/a'])
    assert.equal(key.code, 0, key.stderr)
    assert.match(key.stdout, /\n {4}"Flags": 42,\n/)
    // Consul marshals the decoded api.KVPair again: the struct's field order, Session always there.
    assert.deepEqual(Object.keys(JSON.parse(key.stdout) as object), ['Key', 'CreateIndex', 'ModifyIndex', 'LockIndex', 'Flags', 'Value', 'Session'])
    const prefix = await cli(['watch', '-type=keyprefix', '-prefix=wf/'])
    assert.equal(prefix.code, 0, prefix.stderr)
    assert.match(prefix.stdout, /"Flags": 42,/)
    assert.match(prefix.stdout, /"Flags": 18446744073709551615,/)
    assert.doesNotMatch(prefix.stdout, /"Flags": "/)
  })
})
