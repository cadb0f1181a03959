// The agent's log file with Consul's rotation (logging/logfile.go), on a real directory with an
// injected clock: rotation at the byte limit and at the age limit, Consul's archive names, and how
// many archives log_rotate_max_files keeps.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {LogFile} from '../../../src/lib/agent/log-file.js'

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'coord-log-file-'))
  try {
    fn(dir)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

const archives = (dir: string, stem: string) => readdirSync(dir).filter((name) => name.startsWith(`${stem}-`)).sort()

describe('log file', () => {
  it('rotates once the file holds log_rotate_bytes, renaming it <name>-<unix nanoseconds>.log', () => withDir((dir) => {
    const file = new LogFile({path: join(dir, 'agent.log'), rotateBytes: 100, rotateDurationMs: 24 * 3600_000, rotateMaxFiles: 0})
    const line = 'x'.repeat(29) // 30 bytes with the newline
    for (let i = 0; i < 10; i++) file.write(line)
    file.close()
    const rotated = archives(dir, 'agent')
    // 4 lines (120 bytes) reach the limit; the 5th write rotates first: 10 lines → 2 archives of 4 lines + 2 active.
    assert.equal(rotated.length, 2, rotated.join(' '))
    for (const name of rotated) {
      assert.match(name, /^agent-\d{19}\.log$/)
      assert.equal(statSync(join(dir, name)).size, 120, 'an archive is cut at the first write past the limit')
    }
    assert.equal(readFileSync(join(dir, 'agent.log'), 'utf8'), `${line}\n${line}\n`)
  }))

  it('rotates when the file is log_rotate_duration old', () => withDir((dir) => {
    let now = 1_700_000_000_000
    const file = new LogFile({path: join(dir, 'agent.log'), rotateBytes: 0, rotateDurationMs: 1000, rotateMaxFiles: 0}, () => now)
    file.write('first')
    now += 999
    file.write('second')
    assert.equal(archives(dir, 'agent').length, 0, 'not yet a second old')
    now += 1
    file.write('third')
    file.close()
    const [archive] = archives(dir, 'agent')
    assert.equal(readFileSync(join(dir, archive), 'utf8'), 'first\nsecond\n')
    assert.equal(readFileSync(join(dir, 'agent.log'), 'utf8'), 'third\n')
  }))

  it('keeps log_rotate_max_files archives (the newest), none with -1, all with 0', () => withDir((dir) => {
    for (const [keep, stem] of [[2, 'two'], [-1, 'none'], [0, 'all']] as const) {
      const file = new LogFile({path: join(dir, `${stem}.log`), rotateBytes: 10, rotateDurationMs: 24 * 3600_000, rotateMaxFiles: keep})
      for (let i = 0; i < 6; i++) file.write(`line ${i} of ${stem}`)
      file.close()
    }
    assert.equal(archives(dir, 'two').length, 2)
    assert.equal(readFileSync(join(dir, archives(dir, 'two')[1]), 'utf8'), 'line 4 of two\n', 'the newest archives stay')
    assert.equal(archives(dir, 'none').length, 0)
    assert.equal(archives(dir, 'all').length, 5)
  }))

  it('a path ending in / is a directory holding consul.log, created if missing; an existing file is appended to', () => withDir((dir) => {
    const logDir = join(dir, 'logs', 'coord') + '/'
    const first = new LogFile({path: logDir, rotateBytes: 0, rotateDurationMs: 24 * 3600_000, rotateMaxFiles: 0})
    first.write('one')
    first.close()
    const second = new LogFile({path: logDir, rotateBytes: 0, rotateDurationMs: 24 * 3600_000, rotateMaxFiles: 0})
    second.write('two')
    second.close()
    assert.ok(existsSync(join(logDir, 'consul.log')))
    assert.equal(readFileSync(join(logDir, 'consul.log'), 'utf8'), 'one\ntwo\n')
  }))
})
