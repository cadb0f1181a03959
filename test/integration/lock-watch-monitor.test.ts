// coord lock (semaphore, exit codes, timeout, env), coord watch (+ the agent's `watches` and their
// reload), coord monitor: real CLI processes against one real agent.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {coordBin, runCli, startAgent, tempDir, type TestAgent} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'
import {until} from '../helpers/wait.js'
import {LogHub} from '../../src/lib/logger.js'
import {AgentWatches} from '../../src/lib/agent/watches.js'
import {parseWatches} from '../../src/lib/agent/watch-config.js'
import {lineSink} from '../../src/lib/agent/config-problems.js'

describe('lock, watch and monitor against one agent', {timeout: 240_000}, () => {
  let agent: TestAgent
  const dir = tempDir('coord-lwm-')
  const agentWatchFile = join(dir.path, 'agent-watch.log')
  before(async () => {
    const config = join(dir.path, 'agent.json')
    writeFileSync(config, JSON.stringify({
      session_ttl_min: '1s',
      watches: [{type: 'key', key: 'cfg/k', handler_type: 'script', args: ['/bin/sh', '-c', `cat >> ${agentWatchFile}`]}],
    }))
    agent = await startAgent({args: [`-config-file=${config}`]})
  })
  after(async () => {
    await agent.stop()
    dir.cleanup()
  })
  const cli = (args: string[], opts: {timeoutMs?: number} = {}) => runCli(args, {httpAddr: agent.httpAddr, ...opts})
  const put = (key: string, value: string) => http(agent.httpAddr, 'PUT', `/v1/kv/${key}`, value)
  const readLines = (file: string): string[] => existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []

  it('semaphore -n=3 with 10 contenders: never more than 3 children at once, all finish', async () => {
    const count = join(dir.path, 'sem.count')
    const seen = join(dir.path, 'sem.seen')
    writeFileSync(count, '0\n')
    // The job counts itself in and out under flock (also when stopped by SIGTERM after a lost slot).
    const job = `down() { flock ${count}.lk sh -c 'echo $(($(cat ${count})-1)) > ${count}'; }; trap 'down; exit 143' TERM; ` +
      `flock ${count}.lk sh -c 'n=$(($(cat ${count})+1)); echo $n > ${count}; echo $n >> ${seen}'; sleep 0.4 & wait $!; down`
    const results = await Promise.all(Array.from({length: 10}, () => cli(['lock', '-verbose', '-n=3', 'sem/pool', job], {timeoutMs: 120_000})))
    for (const r of results) assert.equal(r.code, 0, r.stderr)
    const lost = results.filter((r) => r.stdout.includes('Lock lost')).length
    if (lost > 0) console.log(`semaphore: ${lost} holder(s) lost their slot (confirmation window missed under load)`)
    const levels = readLines(seen).map(Number)
    assert.equal(levels.length, 10)
    const max = Math.max(...levels)
    console.log(`semaphore: most children at once = ${max} (limit 3)`)
    assert.ok(max <= 3, `saw ${max} children at once`)
    // Every holder left the document and cleaned up after itself.
    const doc = await http(agent.httpAddr, 'GET', '/v1/kv/sem/pool?recurse')
    assert.equal(doc.status, 404, doc.text)
  })

  it('lock: the child sees the lock env and fencing token; exit codes as Consul (-child-exit-code → 2)', async () => {
    const ok = await cli(['lock', 'env/lock', 'echo "$CONSUL_LOCK_HELD $COORD_LOCK_TOKEN $COORD_LOCK_INDEX $COORD_LOCK_KEY"'])
    assert.equal(ok.code, 0, ok.stderr)
    const [held, token, lockIndex, key] = ok.stdout.trim().split(' ')
    assert.equal(held, 'true')
    assert.ok(Number(token) > 0)
    assert.equal(lockIndex, '1')
    assert.equal(key, 'env/lock/.lock')
    const second = await cli(['lock', 'env/lock', 'echo $COORD_LOCK_TOKEN'])
    assert.ok(Number(second.stdout.trim()) > Number(token), 'a later holder gets a larger token')
    const failed = await cli(['lock', 'env/lock', 'exit 3'])
    assert.equal(failed.code, 0)
    assert.match(failed.stderr, /Error running handler: exit status 3/)
    const propagated = await cli(['lock', '-child-exit-code', 'env/lock', 'exit 3'])
    assert.equal(propagated.code, 2)
    const noShell = await cli(['lock', '-shell=false', 'env/lock', '/bin/echo', 'a  b'])
    assert.equal(noShell.stdout, 'a  b\n')
  })

  it('lock -timeout gives up while another holds the lock (exit 1); mixing lock and semaphore is refused', async () => {
    const holder = spawn(process.execPath, [coordBin, 'lock', 'busy/lock', 'sleep 30'], {env: {...process.env, CONSUL_HTTP_ADDR: agent.httpAddr}, stdio: 'ignore'})
    try {
      const deadline = Date.now() + 15_000
      while (Date.now() < deadline) {
        const res = await http(agent.httpAddr, 'GET', '/v1/kv/busy/lock/.lock')
        if (res.status === 200 && res.json<Array<{Session?: string}>>()[0].Session) break
        await sleep(100)
      }
      const started = Date.now()
      const timedOut = await cli(['lock', '-timeout=1s', 'busy/lock', 'true'])
      assert.equal(timedOut.code, 1)
      assert.match(timedOut.stderr, /Shutdown triggered or timeout during lock acquisition/)
      assert.ok(Date.now() - started < 10_000)
      const mixed = await cli(['lock', '-n=2', 'busy/lock', 'true'])
      assert.equal(mixed.code, 1)
      assert.match(mixed.stderr, /Lock acquisition failed: Existing key does not match semaphore use/)
    } finally {
      holder.kill('SIGTERM')
      await new Promise((resolve) => holder.once('exit', resolve))
    }
  })

  it('bad flags and arguments: Error on stderr, exit 1', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['lock'], /Key prefix and child command must be specified/],
      [['lock', 'only-prefix'], /Key prefix and child command must be specified/],
      [['lock', '-n=0', 'p', 'true'], /Lock holder limit must be positive/],
      [['lock', '-timeout=-1s', 'p', 'true'], /Timeout must be positive/],
      [['lock', '-monitor-retry=-1', 'p', 'true'], /Number for 'monitor-retry' must be >= 0/],
      [['lock', '-bogus', 'p', 'true'], /flag provided but not defined: -bogus/],
      [['watch'], /Watch type must be specified/],
      [['watch', '-type=bogus'], /Unsupported watch type: bogus/],
      [['watch', '-type=key'], /Must specify a single key to watch/],
      [['watch', '-type=service'], /Must specify a single service to watch/],
      [['watch', '-type=checks', '-service=a', '-state=passing'], /Cannot specify service and state/],
      [['watch', '-type=service', '-service=web', '-passingonly=maybe'], /Failed to parse passingonly flag/],
      [['monitor', 'extra'], /Too many arguments/],
      [['monitor', '-log-level=bogus'], /Error starting monitor: .*Unknown log level: bogus/],
    ]
    for (const [args, pattern] of cases) {
      const r = await cli(args)
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, pattern, args.join(' '))
    }
  })

  it('watch without a handler prints the current value once and exits 0 (null for a missing key)', async () => {
    const missing = await cli(['watch', '-type=key', '-key=w/missing'])
    assert.equal(missing.code, 0, missing.stderr)
    assert.equal(missing.stdout, 'null\n')
    await put('w/present', 'hello')
    const present = await cli(['watch', '-type=key', '-key=w/present'])
    const value = JSON.parse(present.stdout) as {Key: string; Value: string}
    assert.equal(value.Key, 'w/present')
    assert.equal(Buffer.from(value.Value, 'base64').toString(), 'hello')
  })

  it('watch with a handler: one run per real change, none for unrelated wake-ups, final state of a 50-write burst delivered', async () => {
    const out = join(dir.path, 'watch.log')
    const watch = spawn(process.execPath, [coordBin, 'watch', '-type=key', '-key=w/burst', `printf '%s %s\\n' "$(cat)" "$CONSUL_INDEX" >> ${out}`], {
      env: {...process.env, CONSUL_HTTP_ADDR: agent.httpAddr}, stdio: 'ignore',
    })
    try {
      await until('the initial run', () => readLines(out).length >= 1)
      assert.equal(readLines(out)[0].split(' ')[0], 'null')
      for (let i = 1; i <= 50; i++) await put('w/burst', `v${i}`)
      const parse = () => readLines(out).slice(1).map((line) => {
        const space = line.lastIndexOf(' ')
        return {pair: JSON.parse(line.slice(0, space)) as {Value: string; ModifyIndex: number}, index: Number(line.slice(space + 1))}
      })
      await until('the final state', () => parse().some((r) => Buffer.from(r.pair.Value, 'base64').toString() === 'v50'), 20_000)
      // Writes elsewhere wake nothing for this key's watch.
      for (let i = 0; i < 5; i++) await put('w/other', `x${i}`)
      await sleep(1500)
      const runs = parse()
      console.log(`watch: 50 writes → ${runs.length} handler runs (coalesced), final value delivered`)
      assert.ok(runs.length <= 50)
      for (let i = 1; i < runs.length; i++) assert.ok(runs[i].pair.ModifyIndex > runs[i - 1].pair.ModifyIndex, 'a change delivered twice or out of order')
      assert.equal(Buffer.from(runs.at(-1)!.pair.Value, 'base64').toString(), 'v50', 'the last run saw the final state')
      assert.equal(runs.at(-1)!.index, runs.at(-1)!.pair.ModifyIndex)
    } finally {
      watch.kill('SIGINT')
      const code = await new Promise<number | null>((resolve) => watch.once('exit', (c) => resolve(c)))
      assert.equal(code, 0)
    }
  })

  it('event watch: each new event delivered once (the uint64 event index survives the round trip)', async () => {
    const out = join(dir.path, 'event.log')
    await http(agent.httpAddr, 'PUT', '/v1/event/fire/deploy', 'first')
    const watch = spawn(process.execPath, [coordBin, 'watch', '-type=event', '-name=deploy', `printf '%s %s\\n' "$(cat)" "$CONSUL_INDEX" >> ${out}`], {
      env: {...process.env, CONSUL_HTTP_ADDR: agent.httpAddr}, stdio: 'ignore',
    })
    try {
      await until('the initial run', () => readLines(out).length >= 1)
      await http(agent.httpAddr, 'PUT', '/v1/event/fire/deploy', 'second')
      await until('the second event', () => readLines(out).length >= 2)
      await http(agent.httpAddr, 'PUT', '/v1/event/fire/other', 'ignored')
      await http(agent.httpAddr, 'PUT', '/v1/event/fire/deploy', 'third')
      await until('the third event', () => readLines(out).length >= 3)
      await sleep(1000)
      const runs = readLines(out).map((line) => {
        const space = line.lastIndexOf(' ')
        return {events: JSON.parse(line.slice(0, space)) as Array<{Payload: string}>, index: line.slice(space + 1)}
      })
      const payloads = runs.map((r) => r.events.map((e) => Buffer.from(e.Payload, 'base64').toString()))
      assert.deepEqual(payloads, [['first'], ['second'], ['third']])
      for (const run of runs) assert.match(run.index, /^\d+$/)
    } finally {
      watch.kill('SIGINT')
      await new Promise((resolve) => watch.once('exit', resolve))
    }
  })

  it('agent `watches` from the config run the handler on change', async () => {
    await until('the initial run', () => readLines(agentWatchFile).length >= 1 || existsSync(agentWatchFile))
    await put('cfg/k', 'configured')
    await until('the change', () => readLines(agentWatchFile).some((l) => l.includes(Buffer.from('configured').toString('base64'))))
  })

  it('reload hook: unchanged watches keep running without re-running their handler; changed ones restart', async () => {
    const file = join(dir.path, 'reload.log')
    const problems: string[] = []
    const defs = parseWatches([{type: 'key', key: 'rl/k', args: ['/bin/sh', '-c', `cat >> ${file}; echo >> ${file}`]}], lineSink(problems))
    assert.deepEqual(problems, [])
    const watches = new AgentWatches(agent.httpAddr, new LogHub('error', () => {}).logger('test'))
    try {
      watches.start(defs)
      await until('initial run', () => readLines(file).length === 1)
      const same = parseWatches([{args: ['/bin/sh', '-c', `cat >> ${file}; echo >> ${file}`], key: 'rl/k', type: 'key'}], lineSink(problems))
      assert.deepEqual(await watches.reload(same), {kept: 1, started: 0, stopped: 0})
      await sleep(1000)
      assert.equal(readLines(file).length, 1, 'an unchanged watch ran again on reload')
      const changed = parseWatches([{type: 'key', key: 'rl/k2', args: ['/bin/sh', '-c', `cat >> ${file}; echo >> ${file}`]}], lineSink(problems))
      assert.deepEqual(await watches.reload(changed), {kept: 0, started: 1, stopped: 1})
      await until('the new watch\'s initial run', () => readLines(file).length === 2)
      const invalid: string[] = []
      parseWatches([{type: 'key'}, {type: 'nope', args: ['x']}, {type: 'keyprefix', prefix: 'a', handler_type: 'http'}], lineSink(invalid))
      assert.match(invalid.join('; '), /watches\[0\]: Must specify a single key to watch.*watches\[1\]\.type: Unsupported watch type: nope.*watches\[2\]\.http_handler_config/)
    } finally {
      await watches.stop()
    }
  })

  it('monitor streams new log lines (text and -log-json) and exits 0 on SIGINT', async () => {
    for (const json of [false, true]) {
      const proc = spawn(process.execPath, [coordBin, 'monitor', '-log-level=debug', ...(json ? ['-log-json'] : [])], {
        env: {...process.env, CONSUL_HTTP_ADDR: agent.httpAddr}, stdio: ['ignore', 'pipe', 'pipe'],
      })
      let output = ''
      proc.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
      try {
        await until('the replayed lines', () => output.includes('Consul agent running!'))
        // A session with a 1s TTL expires on the leader, which logs it (debug) while we watch.
        const created = await http(agent.httpAddr, 'PUT', '/v1/session/create', JSON.stringify({TTL: '1s'}))
        const id = created.json<{ID: string}>().ID
        await until('the expiry line', () => output.split('\n').some((l) => l.includes('session TTL expired') && l.includes(id)), 15_000)
        if (json) {
          const line = output.split('\n').find((l) => l.includes(id))!
          assert.equal((JSON.parse(line) as Record<string, unknown>)['@level'], 'debug')
        } else {
          assert.match(output, /\[DEBUG\] [a-z.]+: session TTL expired/)
        }
      } finally {
        proc.kill('SIGINT')
      }
      const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)))
      assert.equal(code, 0)
    }
  })
})
