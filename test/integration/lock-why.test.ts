// `coord lock` says on stderr why it stopped its child, without -verbose: the session destroyed
// under it, a signal to coord lock, its agent not answering (SIGSTOP) past the confirmation window.
// And the README's fencing-token script runs as written (one quoted argument under -shell), as
// does its -shell=false twin; `coord lock -h` shows the difference.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {coordBin, runCli, startAgent, tempDir, type TestAgent} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'

interface Holder {
  proc: ChildProcess
  stderr(): string
  exited: Promise<number | null>
}

/** `coord lock <key>` running a child that marks `started` and sleeps. */
function lock(agent: TestAgent, key: string, started: string): Holder {
  const proc = spawn(process.execPath, [coordBin, 'lock', key, `touch ${started} && sleep 30`], {
    env: {...process.env, CONSUL_HTTP_ADDR: agent.httpAddr}, stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  proc.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  proc.stdout!.resume()
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
  return {proc, stderr: () => stderr, exited}
}

/** The session holding `key`'s lock, once the holder's child runs (it touched `started`). */
async function holderSession(agent: TestAgent, key: string, started: string): Promise<string> {
  for (let i = 0; i < 200 && !existsSync(started); i++) await sleep(50)
  for (let i = 0; i < 200; i++) {
    const res = await http(agent.httpAddr, 'GET', `/v1/kv/${key}/.lock`)
    if (res.status === 200) {
      const session = res.json<Array<{Session?: string}>>()[0].Session
      if (session) return session
    }
    await sleep(50)
  }
  throw new Error(`nobody took ${key}`)
}

async function exitWithin(holder: Holder, ms: number): Promise<number | null> {
  const code = await Promise.race([holder.exited, sleep(ms).then(() => 'timeout' as const)])
  if (code === 'timeout') {
    holder.proc.kill('SIGKILL')
    throw new Error(`coord lock still running after ${ms} ms; stderr: ${holder.stderr()}`)
  }
  return code
}

describe('coord lock says why it stopped its child', {timeout: 120_000}, () => {
  let agent: TestAgent
  const markers = tempDir('coord-lock-why-')
  const started = (name: string) => join(markers.path, name)
  before(async () => { agent = await startAgent() })
  after(async () => {
    await agent?.stop()
    markers.cleanup()
  })

  it('session destroyed: names the session and says it was invalidated or the lock lost', async () => {
    const holder = lock(agent, 'why/destroyed', started('destroyed'))
    const session = await holderSession(agent, 'why/destroyed', started('destroyed'))
    await http(agent.httpAddr, 'PUT', `/v1/session/destroy/${session}`)
    await exitWithin(holder, 15_000)
    console.log(`# ${holder.stderr().trim().replace(/\n/g, ' | ')}`)
    assert.match(holder.stderr(), new RegExp(`Stopping the child: (lock lost: the key no longer names session ${session}|session ${session} invalidated)`))
  })

  it('SIGTERM to coord lock: says it received the signal', async () => {
    const holder = lock(agent, 'why/signal', started('signal'))
    await holderSession(agent, 'why/signal', started('signal'))
    holder.proc.kill('SIGTERM')
    assert.equal(await exitWithin(holder, 15_000), 0)
    assert.match(holder.stderr(), /Stopping the child: coord lock received SIGTERM/)
  })

  it('agent paused past the confirmation window: says since when it is unreachable', async () => {
    const holder = lock(agent, 'why/paused', started('paused'))
    await holderSession(agent, 'why/paused', started('paused'))
    await sleep(500)
    process.kill(agent.pid, 'SIGSTOP')
    try {
      // The child is stopped while the agent is still paused (releasing the lock waits for it).
      for (let i = 0; i < 300 && !holder.stderr().includes('Stopping the child'); i++) await sleep(50)
    } finally {
      process.kill(agent.pid, 'SIGCONT')
    }
    await exitWithin(holder, 30_000)
    console.log(`# ${holder.stderr().trim().replace(/\n/g, ' | ')}`)
    assert.match(holder.stderr(), /Stopping the child: agent unreachable since \d{4}-\d\d-\d\dT[\d:.]+Z: the lock could not be re-confirmed within \d+ ms/)
  })

  it('the README fencing script: one argument under -shell, `sh -c` argv with -shell=false; -h explains', async () => {
    const dir = tempDir('coord-lock-shell-')
    try {
      const token = join(dir.path, 'token')
      const script = `
  last=$(cat ${token} 2>/dev/null || echo 0)
  [ "$COORD_LOCK_TOKEN" -ge "$last" ] || { echo "stale holder, refusing" >&2; exit 1; }
  echo "$COORD_LOCK_TOKEN" > ${token}`
      const first = await runCli(['lock', '-child-exit-code', 'why/report', script], {httpAddr: agent.httpAddr})
      assert.equal(first.code, 0, first.stderr)
      const written = Number(readFileSync(token, 'utf8').trim())
      assert.ok(written > 0, `the script ran with a fencing token (${written})`)
      const second = await runCli(['lock', '-child-exit-code', '-shell=false', 'why/report', 'sh', '-c', script], {httpAddr: agent.httpAddr})
      assert.equal(second.code, 0, second.stderr)
      assert.ok(Number(readFileSync(token, 'utf8').trim()) > written, 'the later holder wrote a larger token')
      const help = await runCli(['lock', '-h'])
      const text = help.stdout.replace(/\s+/g, ' ')
      assert.match(text, /pass a script as ONE quoted argument/)
      assert.match(text, /coord lock -shell=false jobs\/report sh -c 'test -f ready/)
    } finally {
      dir.cleanup()
    }
  })
})
