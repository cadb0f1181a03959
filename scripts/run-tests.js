#!/usr/bin/env node
// Runs every compiled test file under dist/test with Node's built-in test runner.
// Unit tests first (fast, pure), then the seeded simulation, then the CLI and integration suites that start real agents,
// then the web UI in a real browser (test/ui), then the jepsen runs (fault injection on real clusters, checked for linearizability).
// Node 20's --test takes file paths, not globs, so the files are listed here.
import {readdirSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {spawn} from 'node:child_process'
import {createInterface} from 'node:readline'

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
const child = spawn(process.execPath, ['--test', '--test-concurrency=2', `--test-timeout=${PER_TEST_TIMEOUT_MS}`, ...files], {stdio: ['ignore', 'pipe', 'inherit']})
const [failures, status] = await Promise.all([
  collectFailures(child.stdout),
  new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1))),
])
console.log(`# test suites ${suites.join(', ')}: ${files.length} files, wall time ${Math.round((Date.now() - started) / 1000)} s`)
// CI keeps only the end of a long log: repeat each failed test there, with where and why it failed.
if (failures.length > 0) {
  console.log(`# failed (${failures.length}):`)
  for (const failure of failures) for (const line of failure) console.log(`#   ${line}`)
}
process.exit(status)

// Passes the TAP stream through and keeps, for every failed test (not the suites that only failed
// because a subtest did), its path of subtest names and the head of its YAML block.
function collectFailures(stream) {
  const found = []
  const names = []
  let open = null
  const lines = createInterface({input: stream})
  lines.on('line', (line) => {
    console.log(line)
    const indent = line.length - line.trimStart().length
    const depth = Math.floor(indent / 4)
    const subtest = /^\s*# Subtest: (.*)$/.exec(line)
    if (subtest) { names.length = depth; names[depth] = subtest[1]; return }
    const notOk = /^\s*not ok \d+ - (.*)$/.exec(line)
    if (notOk) { open = {title: [...names.slice(0, depth), notOk[1]].join(' > '), detail: [], indent}; return }
    if (open === null) return
    if (line.trim() === '...' || /^\s*(not )?ok \d+/.test(line)) { finish(open); open = null; return }
    if (line.trim() !== '---' && !/duration_ms|\(node:|^\s*node:internal/.test(line) && open.detail.length < 14) open.detail.push(line.slice(open.indent + 2))
  })
  function finish(failure) {
    if (failure.detail.some((line) => /failureType: 'subtestsFailed'/.test(line))) return
    found.push([failure.title, ...failure.detail.map((line) => `  ${line}`)])
  }
  return new Promise((resolve) => lines.on('close', () => resolve(found)))
}
