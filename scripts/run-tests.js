#!/usr/bin/env node
// Runs every compiled test file under dist/test with Node's built-in test runner.
// Unit tests first (fast, pure), then the seeded simulation, then the CLI and integration suites that start real agents,
// then the web UI in a real browser (test/ui), then the jepsen runs (fault injection on real clusters, checked for linearizability).
// Node 20's --test takes file paths, not globs, so the files are listed here.
import {readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {spawnSync} from 'node:child_process'

const root = 'dist/test'
const suites = (process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['unit', 'sim', 'cli', 'integration', 'ui', 'jepsen'])
const files = []
const walk = (dir) => {
  let names
  try { names = readdirSync(dir).sort() } catch { return }
  for (const name of names) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path)
    else if (name.endsWith('.test.js')) files.push(path)
  }
}
for (const suite of suites) walk(join(root, suite))
if (files.length === 0) {
  console.error('Error: no test files found under dist/test (did the build run?)')
  process.exit(1)
}
// Integration tests start agent processes; two at a time keeps a 2-core machine responsive.
// Every test gets a timeout (a test may set a shorter one): a hung test fails with its name
// instead of holding the whole run until CI's limit.
const PER_TEST_TIMEOUT_MS = 300_000
const started = Date.now()
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', `--test-timeout=${PER_TEST_TIMEOUT_MS}`, ...files], {stdio: 'inherit'})
console.log(`# test suites ${suites.join(', ')}: ${files.length} files, wall time ${Math.round((Date.now() - started) / 1000)} s`)
process.exit(result.status ?? 1)
