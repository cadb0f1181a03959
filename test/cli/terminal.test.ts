/* eslint-disable no-control-regex -- terminal escape codes are what these tests look for */
// The terminal for people (lib/cli/terminal.ts) on the real binary: under a pseudo-terminal (util-linux
// `script`, installed by .ci/run) status words are coloured, waits show an ora spinner on stderr and
// `snapshot inspect` draws tables; the same commands piped print exactly the plain bytes (Consul's).
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {randomSubnet} from '../../src/lib/devcluster/cluster.js'
import {coordBin, startAgent, tempDir, type TestAgent} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'

interface Run {code: number; stdout: string; stderr: string}

const SGR = /\x1b\[[0-9;]*m/g
const stripColour = (text: string): string => text.replace(SGR, '')
const SPINNER_FRAMES = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/
const shellQuote = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`

/** The environment of a user who set nothing about colour (whatever this test process has). */
function userEnv(httpAddr: string, extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {...process.env, CONSUL_HTTP_ADDR: httpAddr, TERM: 'xterm', ...extra}
  for (const key of ['NO_COLOR', 'FORCE_COLOR']) if (!(key in extra)) delete env[key]
  return env
}

function collect(command: string, args: string[], env: Record<string, string | undefined>, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {env, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({code: code ?? -1, stdout, stderr})
    })
  })
}

/** `coord args` with stdout and stderr on one pseudo-terminal of 120×40; its output with \r\n as \n. */
async function inPty(args: string[], env: Record<string, string | undefined>, timeoutMs = 30_000): Promise<Run> {
  const line = `stty cols 120 rows 40; exec ${[process.execPath, coordBin, ...args].map(shellQuote).join(' ')}`
  const run = await collect('script', ['-qfec', line, '/dev/null'], env, timeoutMs)
  return {...run, stdout: run.stdout.replace(/\r\n/g, '\n')}
}

/** `coord args` with stdout and stderr piped. */
const piped = (args: string[], env: Record<string, string | undefined>, timeoutMs = 30_000): Promise<Run> =>
  collect(process.execPath, [coordBin, ...args], env, timeoutMs)

describe('coord at a terminal and piped', {timeout: 180_000}, () => {
  let agent: TestAgent
  const dir = tempDir('coord-term-')
  before(async () => {
    agent = await startAgent()
    // The agent lists itself alive once gossip has started.
    const deadline = Date.now() + 10_000
    while (Date.now() < deadline && !(await piped(['members'], userEnv(agent.httpAddr))).stdout.includes('alive')) await sleep(100)
  })
  after(async () => {
    await agent?.stop()
    dir.cleanup()
  })

  it('members: alive in green at a terminal; piped, the same bytes without colour; NO_COLOR and FORCE_COLOR obeyed', async () => {
    const env = userEnv(agent.httpAddr)
    const plain = await piped(['members'], env)
    assert.equal(plain.code, 0, plain.stderr)
    assert.match(plain.stdout, /^Node +Address +Status +Type +Build +Protocol +DC +Partition +Segment\ntest-node +127\.0\.0\.1:\d+ +alive +server /)
    assert.doesNotMatch(plain.stdout, /\x1b/, 'piped output carries no escape codes')

    const tty = await inPty(['members'], env)
    assert.equal(tty.code, 0, tty.stdout)
    assert.match(tty.stdout, /\x1b\[32malive\x1b\[39m/)
    assert.equal(stripColour(tty.stdout), plain.stdout, 'colour is the only difference: columns line up as piped')

    const noColor = await inPty(['members'], userEnv(agent.httpAddr, {NO_COLOR: '1'}))
    assert.equal(noColor.stdout, plain.stdout, 'NO_COLOR at a terminal prints the plain bytes')
    const forced = await piped(['members'], userEnv(agent.httpAddr, {FORCE_COLOR: '1'}))
    assert.match(forced.stdout, /\x1b\[32malive\x1b\[39m/, 'FORCE_COLOR colours a pipe')
    const forcedOff = await inPty(['members'], userEnv(agent.httpAddr, {FORCE_COLOR: '0'}))
    assert.equal(forcedOff.stdout, plain.stdout, 'FORCE_COLOR=0 turns colour off at a terminal')
  })

  it('operator raft list-peers: the leader in green at a terminal, plain when piped', async () => {
    const env = userEnv(agent.httpAddr)
    const plain = await piped(['operator', 'raft', 'list-peers'], env)
    assert.equal(plain.code, 0, plain.stderr)
    assert.match(plain.stdout, / leader /)
    const tty = await inPty(['operator', 'raft', 'list-peers'], env)
    assert.match(tty.stdout, /\x1b\[32mleader\x1b\[39m/)
    // The agent's own writes (coordinates, catalog sync) may move the commit index between the two runs.
    const commitIndexMasked = (text: string): string => text.replace(/ \d+( +-)$/gm, ' N$1')
    assert.equal(commitIndexMasked(stripColour(tty.stdout)), commitIndexMasked(plain.stdout))
  })

  it('lock: a wait for a held lock shows a spinner on the terminal and wipes it before the child runs; piped, no spinner bytes', async () => {
    const env = userEnv(agent.httpAddr)
    // Resolves once the holder has the lock; `done` is its exit (wrapped: an async function would await a returned promise).
    const holdFor = async (seconds: number): Promise<{done: Promise<Run>}> => {
      const holder = piped(['lock', 'term/held', 'sleep', String(seconds)], env, 60_000)
      const deadline = Date.now() + 15_000
      for (;;) {
        const res = await http(agent.httpAddr, 'GET', '/v1/kv/term/held/.lock')
        if (res.status === 200 && res.json<Array<{Session?: string}>>()[0]?.Session) break
        assert.ok(Date.now() < deadline, 'the holder never acquired the lock')
        await sleep(50)
      }
      return {done: holder}
    }

    let holder = await holdFor(6)
    const started = Date.now()
    const tty = await inPty(['lock', 'term/held', 'echo', 'got-it'], env, 60_000)
    console.log(`lock waited ${Date.now() - started} ms at a terminal`)
    assert.equal(tty.code, 0, tty.stdout)
    assert.equal((await holder.done).code, 0)
    const last = tty.stdout.lastIndexOf('Waiting for the lock on term/held')
    assert.ok(last > 0, `no spinner text in ${JSON.stringify(tty.stdout.slice(0, 300))}`)
    assert.match(tty.stdout, SPINNER_FRAMES)
    const after = tty.stdout.slice(last)
    assert.ok(after.indexOf('\x1b[0K') !== -1 && after.indexOf('\x1b[0K') < after.indexOf('got-it'), 'the spinner line is erased before the child writes')
    assert.match(after, /got-it\n/)

    holder = await holdFor(3)
    const pipedStart = Date.now()
    const plain = await piped(['lock', 'term/held', 'echo', 'got-it'], env, 60_000)
    const waited = Date.now() - pipedStart
    console.log(`lock waited ${waited} ms piped`)
    assert.ok(waited > 1000, 'the piped run waited past the spinner delay too')
    assert.equal((await holder.done).code, 0)
    assert.deepEqual(plain, {code: 0, stdout: 'got-it\n', stderr: ''})
  })

  it('snapshot inspect: tables at a terminal, Consul\'s tabwriter layout piped', async () => {
    const env = userEnv(agent.httpAddr)
    const file = join(dir.path, 'term.snap')
    await piped(['kv', 'put', 'term/a', '1'], env)
    const saved = await piped(['snapshot', 'save', file], env)
    assert.equal(saved.code, 0, saved.stderr)
    assert.match(saved.stdout, /^Saved and verified snapshot to index \d+\n$/)
    assert.equal(saved.stderr, '')

    const plain = await piped(['snapshot', 'inspect', file], env)
    assert.match(plain.stdout, /^ ID {11}\S+\n Size {9}\d+\n/)
    assert.doesNotMatch(plain.stdout, /[┌│]/)
    const tty = await inPty(['snapshot', 'inspect', file], env)
    assert.equal(tty.code, 0, tty.stdout)
    assert.match(tty.stdout, /┌/)
    assert.match(stripColour(tty.stdout), /│ KVS\s+│ \d+\s+│ \d+(\.\d)?K?B\s+│/)
    assert.match(stripColour(tty.stdout), /│ Index\s+│ \d+\s+│/)
  })

  it('dev cluster: the summary is a table at a terminal (the piped lines are covered by dev-cluster-clients)', async () => {
    const data = join(dir.path, 'cluster')
    const line = `stty cols 120 rows 40; echo "PID:$$"; exec ${[process.execPath, coordBin, 'dev', 'cluster', '-servers=1', `-subnet=${randomSubnet()}`, `-dir=${data}`].map(shellQuote).join(' ')}`
    const child = spawn('script', ['-qfec', line, '/dev/null'], {env: userEnv(agent.httpAddr), stdio: ['ignore', 'pipe', 'pipe']})
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()))
    try {
      const deadline = Date.now() + 60_000
      while (!output.includes('Cluster running') && Date.now() < deadline && child.exitCode === null) await sleep(100)
      const text = stripColour(output.replace(/\r\n/g, '\n'))
      assert.match(text, /Cluster running/, text)
      assert.match(text, /┌/)
      assert.match(text, /│ Agent\s+│ HTTP\s+│ PID\s+│/)
      assert.match(text, /│ server-1\s+│ http:\/\/127\.\d+\.\d+\.\d+:8500\s+│ \d+\s+│/)
    } finally {
      const pid = Number(/PID:(\d+)/.exec(output)?.[1])
      if (pid > 0) process.kill(pid, 'SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      await exited
      clearTimeout(timer)
    }
    assert.match(output, /Stopping the cluster/)
  })
})
