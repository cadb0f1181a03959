// Bad command lines for every command in oclif.manifest.json (enumerated, never hand-listed): an
// unknown flag, a flag without its value, garbage for each number/duration flag, too many and too
// few arguments, and CONSUL_HTTP_ADDR at a closed port or malformed. The real binary must answer each
// with a clear error: non-zero exit, Consul's wording on stderr (`Error ...`, or Go's flag message
// then the usage, Consul docs: commands–0.3), no stack trace, no "undefined". No agent is needed: every
// address points where nothing listens.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {readFileSync, writeFileSync} from 'node:fs'
import {createServer as createHttpServer} from 'node:http'
import {createServer} from 'node:net'
import {join} from 'node:path'
import {coordBin, runCli, tempDir, type CliResult} from '../helpers/agent.js'

interface ManifestFlag {type: 'boolean' | 'option'; helpValue?: string}
interface ManifestCommand {usage?: string; flags: Record<string, ManifestFlag>}

const manifest = JSON.parse(readFileSync(join(coordBin, '..', '..', 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, ManifestCommand>}
const commandIds = Object.keys(manifest.commands).sort()

// `agent` starts a server when its flags parse: its bad values are swept by the agent-config
// tests; here it gets only the cases that fail before anything listens.
const STARTS_PROCESSES = new Set(['agent', 'dev:cluster'])

/**
 * Extra arguments a command needs to reach its first request, beyond the required positionals its
 * usage line names (filled with `x`). Test data, checked below: each must end in a request error.
 */
const toReachAgent: Record<string, (dir: string) => string[]> = {
  event: () => ['-name=x'],
  exec: () => ['true'],
  keyring: () => ['-list'],
  lock: () => ['x', 'true'],
  watch: () => ['-type=nodes'],
  'kv:get': () => ['k'],
  'kv:import': () => ['[{"key": "k", "flags": 0, "value": ""}]'],
  'services:register': () => ['-name=x'],
  'services:deregister': () => ['-id=x'],
  'operator:raft:remove-peer': () => ['-id=x'],
  'snapshot:restore': (dir) => [join(dir, 'some.snap')],
  'snapshot:save': (dir) => [join(dir, 'out.snap')],
  'acl:policy:create': () => ['-name=x'],
  'acl:role:create': () => ['-name=x'],
  'acl:set-agent-token': () => ['default', 'x'],
  ...Object.fromEntries(['acl:policy:read', 'acl:policy:update', 'acl:policy:delete', 'acl:role:read', 'acl:role:update', 'acl:role:delete',
    'acl:token:read', 'acl:token:update', 'acl:token:delete', 'acl:token:clone'].map((id) => [id, () => ['-id=x']])),
}

/** Consul ignores extra positionals here (Run only parses flags): coord does the same. */
const IGNORES_EXTRA_ARGS = new Set(['info', 'keygen', 'maint', 'members', 'reload', 'version', 'operator:raft:list-peers', 'operator:raft:remove-peer', 'operator:raft:transfer-leader', 'operator:autopilot:get-config', 'operator:autopilot:set-config', 'operator:autopilot:state'])

/** Malformed agent addresses, one per command in turn (deterministic). */
const MALFORMED_ADDRS = ['http://[::1', '127.0.0.1:notaport', 'ftp://127.0.0.1:8500', 'unix://', '::::']

/**
 * First lines a failing command may print: `Error...` (and keyring's `error: ...`, as Consul's), Go's
 * flag package messages, and the argument errors Consul words without "Error" (Consul docs: commands/kv–§5).
 */
const FIRST_LINE = /^(Error|error: |flag provided but not defined: |flag needs an argument: |invalid (boolean )?value |bad flag syntax: |Too many arguments|Missing [A-Z]+( and [A-Z]+)? arguments?|A single node name must be specified|At least one address to join must be specified|Key prefix and child command must be specified|Event name must be specified|Service (de)?registration requires|Must specify|Lock holder limit must be positive|Number for 'monitor-retry' must be|Unexpected extra arguments|One or two node names must be specified|Unable to look up agent info: |Please provide |Failed |Missing required |==> )/

interface Case {
  id: string
  what: string
  args: string[]
  env?: Record<string, string>
  /** What stderr must show besides the common rules. */
  expect: (r: CliResult) => void
}

function usageArgs(id: string, usage = ''): {required: number; optional: number; variadic: boolean} {
  // Positional words only: a `-flag VALUE` pair and the `|` between alternatives are not arguments.
  const tokens = usage.replace('[options]', '').split(/\s+/).filter(Boolean).slice(id.split(':').length)
    .filter((t, i, all) => t !== '...' && t !== '|' && !t.startsWith('-') && !(all[i - 1]?.startsWith('-') && !t.startsWith('[')))
  return {
    required: tokens.filter((t) => !t.startsWith('[')).length,
    optional: tokens.filter((t) => t.startsWith('[')).length,
    variadic: usage.includes('...'),
  }
}

function flagError(message: RegExp, id: string): (r: CliResult) => void {
  return (r) => {
    const [first, second] = r.stderr.split('\n')
    assert.match(first, message)
    assert.ok(second.startsWith(`Usage: coord ${id.replaceAll(':', ' ')}`), `usage follows the flag error: ${second}`)
  }
}

function buildCases(dir: string, closedAddr: string): Case[] {
  const cases: Case[] = []
  commandIds.forEach((id, index) => {
    const command = manifest.commands[id]
    const words = id.split(':')
    const options = Object.entries(command.flags).filter(([, f]) => f.type === 'option')
    cases.push({id, what: 'unknown flag', args: [...words, '-no-such-flag'], expect: flagError(/^flag provided but not defined: -no-such-flag$/, id)})
    const last = options.at(-1)
    if (last) cases.push({id, what: `-${last[0]} without a value`, args: [...words, `-${last[0]}`], expect: flagError(new RegExp(`^flag needs an argument: -${last[0]}$`), id)})
    // One garbage value per kind of typed flag (the parser is shared; the flag definitions are not).
    const seen = new Set<string>()
    for (const [name, flag] of options) {
      const kind = flag.helpValue ?? ''
      if (!['<int>', '<uint>', '<duration>'].includes(kind) || seen.has(kind)) continue
      seen.add(kind)
      const garbage = kind === '<duration>' ? 'soon' : 'abc'
      cases.push({id, what: `-${name}=${garbage}`, args: [...words, `-${name}=${garbage}`], expect: flagError(new RegExp(`^invalid value "${garbage}" for flag -${name}: parse error$`), id)})
      if (kind !== '<duration>' && !STARTS_PROCESSES.has(id)) {
        // A negative number parses for int flags: the command must refuse it or fail cleanly on.
        cases.push({id, what: `-${name}=-1`, args: [...words, `-${name}=-1`, ...(toReachAgent[id]?.(dir) ?? [])], env: {CONSUL_HTTP_ADDR: closedAddr}, expect: () => {}})
      }
    }
    const {required, optional, variadic} = usageArgs(id, command.usage)
    if (!variadic && !IGNORES_EXTRA_ARGS.has(id)) {
      cases.push({id, what: 'too many arguments', args: [...words, ...Array<string>(required + optional + 1).fill('x')], env: {CONSUL_HTTP_ADDR: closedAddr}, expect: (r) => assert.doesNotMatch(r.stderr, /connection refused/, 'refused before any request')})
    }
    if (required > 0) cases.push({id, what: 'no arguments', args: words, env: {CONSUL_HTTP_ADDR: closedAddr}, expect: (r) => assert.doesNotMatch(r.stderr, /connection refused/, 'refused before any request')})
    if (command.flags['http-addr'] && !STARTS_PROCESSES.has(id)) {
      const args = [...words, ...(toReachAgent[id]?.(dir) ?? Array<string>(required).fill('x'))]
      cases.push({id, what: 'agent at a closed port', args, env: {CONSUL_HTTP_ADDR: closedAddr}, expect: (r) => assert.match(r.stderr, new RegExp(`dial tcp ${closedAddr}: connect: connection refused`))})
      const malformed = MALFORMED_ADDRS[index % MALFORMED_ADDRS.length]
      cases.push({id, what: `CONSUL_HTTP_ADDR=${malformed}`, args, env: {CONSUL_HTTP_ADDR: malformed}, expect: (r) => assert.match(r.stderr, /^Error connecting to Consul agent: \S/)})
    }
  })
  return cases
}

/** The rules every failure follows, whatever the command. */
function assertCleanFailure(c: Case, r: CliResult): void {
  const label = `coord ${c.args.join(' ')} (${c.what})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`
  assert.notEqual(r.code, -1, `killed by the time limit: ${label}`)
  assert.equal(r.code, 1, `Consul's exit status for a usage or request error: ${label}`)
  assert.match(r.stderr.split('\n')[0], FIRST_LINE, label)
  const message = r.stderr.split('\nUsage:')[0]
  assert.ok(message.trimEnd().split('\n').length <= 3, `one line or a short paragraph before any usage: ${label}`)
  for (const text of [r.stdout, r.stderr]) {
    assert.doesNotMatch(text, /^\s+at /m, `no stack trace: ${label}`)
    assert.doesNotMatch(text, /undefined|\[object Object\]|NaN/, label)
  }
  c.expect(r)
}

describe('every command refuses bad input cleanly (from oclif.manifest.json)', () => {
  const dir = tempDir('coord-cli-bad-')
  let closedAddr = ''
  before(async () => {
    writeFileSync(join(dir.path, 'some.snap'), 'not a snapshot')
    // A port that was free a moment ago: bound, closed, then used as the agent's address.
    closedAddr = await new Promise<string>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const {port} = server.address() as {port: number}
        server.close(() => resolve(`127.0.0.1:${port}`))
      })
    })
  })
  after(() => dir.cleanup())

  it('enumerates the manifest', () => {
    assert.ok(commandIds.length >= 30, `only ${commandIds.length} commands in the manifest`)
    for (const id of Object.keys(toReachAgent)) assert.ok(manifest.commands[id], `toReachAgent names a command the manifest lacks: ${id}`)
  })

  it('answers every bad invocation with a clear error, run 4 at a time', async () => {
    const cases = buildCases(dir.path, closedAddr)
    const started = performance.now()
    const failures: string[] = []
    for (let i = 0; i < cases.length; i += 4) {
      const batch = cases.slice(i, i + 4)
      const results = await Promise.all(batch.map((c) => runCli(c.args, {env: c.env, cwd: dir.path, timeoutMs: 15_000})))
      batch.forEach((c, j) => {
        try {
          assertCleanFailure(c, results[j])
        } catch (error) {
          failures.push((error as Error).message)
        }
      })
    }
    console.log(`# ${cases.length} invocations over ${commandIds.length} commands in ${Math.round(performance.now() - started)} ms`)
    assert.deepEqual(failures, [])
  })

  it('an unknown command or topic answers with Consul\'s usage (127; a topic\'s subcommands, 1), no trace', async () => {
    const cases: Array<[string[], number, RegExp]> = [
      [['no-such-command'], 127, /^Usage: coord \[--version\] \[--help\] <command> \[<args>\]\n/],
      [['-no-such-flag'], 127, /^Usage: coord \[--version\] \[--help\] <command> \[<args>\]\n/],
      [['kv', 'no-such'], 1, /^Usage: coord kv <subcommand> \[options\] \[args\]\n[^]*\nSubcommands:\n {4}delete /],
    ]
    for (const [args, code, usage] of cases) {
      const r = await runCli(args, {cwd: dir.path})
      assert.equal(r.code, code, args.join(' '))
      assert.match(r.stdout, usage, args.join(' '))
      assert.equal(r.stderr, '')
    }
  })

  it('garbage in the environment: a warning or a clear error, never a crash', async () => {
    const token = await runCli(['kv', 'get', 'k'], {cwd: dir.path, env: {CONSUL_HTTP_ADDR: closedAddr, CONSUL_HTTP_TOKEN: 'a\nb'}})
    assert.equal(token.code, 1)
    assert.equal(token.stderr, 'Error querying Consul agent: Invalid character in header content ["x-consul-token"]\n')
    const ssl = await runCli(['kv', 'get', 'k'], {cwd: dir.path, env: {CONSUL_HTTP_ADDR: closedAddr, CONSUL_HTTP_SSL: 'maybe'}})
    assert.equal(ssl.code, 1)
    assert.match(ssl.stderr, /^\[WARN\] Could not parse CONSUL_HTTP_SSL: maybe\nError querying Consul agent: .*connection refused\n$/)
  })

  it('an address that answers 200 but is no agent: event says so instead of "Event ID: undefined"', async () => {
    const server = createHttpServer((req, res) => {
      req.resume()
      res.writeHead(200, {'content-type': 'application/json'})
      res.end(req.url?.startsWith('/v1/event/fire/') ? '{}' : 'null')
    })
    const addr = await new Promise<string>((resolve) => server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${(server.address() as {port: number}).port}`)))
    try {
      const r = await runCli(['event', '-name=deploy'], {cwd: dir.path, env: {CONSUL_HTTP_ADDR: addr}})
      assert.equal(r.code, 1, r.stdout)
      assert.equal(r.stderr, 'Error firing event: unexpected response from the agent: {}\n')
    } finally {
      server.close()
    }
  })

  it('keygen and version ignore extra arguments, as Consul does', async () => {
    for (const id of ['keygen', 'version']) {
      const r = await runCli([id, 'extra'], {cwd: dir.path})
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stderr, '')
    }
  })
})
