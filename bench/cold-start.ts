// Cold start: the whole-process wall time of one `coord kv get` against a running agent, next
// to a bare `node -e 0` (Node's own start-up, the floor of any Node CLI) and to curl making the
// same HTTP request. The gap to `node -e 0` is what coord adds per call in a shell script (module
// loading, the request); hyperfine runs all three without a shell (-N) so none pays for one. It
// runs them in a few rounds, all three in each, rather than all of one command then all of the
// next: on a shared machine a noisy stretch then falls on every command alike instead of on one.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {coordBin} from '../src/lib/devcluster/agent-process.js'

export interface ColdStartRow {
  command: string
  meanMs: number
  stddevMs: number
  minMs: number
  maxMs: number
  runs: number
}

export interface ColdStartResult {
  rows: ColdStartRow[]
  error?: string
}

interface HyperfineJson {
  results: {command: string; times: number[]}[]
}

export function coldStart(httpAddr: string, key: string, opts = {warmup: 3, runs: 20, rounds: 4}): ColdStartResult {
  const env = {...process.env, CONSUL_HTTP_ADDR: httpAddr, NO_COLOR: '1'}
  // hyperfine times whatever exits 0, so first make sure the CLI really prints the value.
  const probe = spawnSync(process.execPath, [coordBin, 'kv', 'get', key], {env, encoding: 'utf8', timeout: 30_000})
  if (probe.status !== 0 || probe.stdout.trim() === '') {
    return {rows: [], error: `coord kv get ${key} exited ${probe.status}: ${(probe.stderr || probe.stdout).trim().slice(0, 300)}`}
  }
  const dir = mkdtempSync(join(tmpdir(), 'coord-bench-hf-'))
  try {
    const json = join(dir, 'cold-start.json')
    const coordCmd = `${process.execPath} ${coordBin} kv get ${key}`
    const curlCmd = `curl -s http://${httpAddr}/v1/kv/${key}?raw`
    const times = new Map<string, number[]>()
    const perRound = Math.max(1, Math.round(opts.runs / opts.rounds))
    for (let round = 0; round < opts.rounds; round++) {
      const hf = spawnSync('hyperfine', ['-N', '--warmup', String(round === 0 ? opts.warmup : 1), '--runs', String(perRound), '--export-json', json,
        '-n', 'node -e 0', `${process.execPath} -e 0`, '-n', `coord kv get ${key}`, coordCmd, '-n', `curl -s /v1/kv/${key}?raw`, curlCmd,
      ], {env, encoding: 'utf8', timeout: 180_000})
      if (hf.status !== 0) return {rows: [], error: `hyperfine exited ${hf.status ?? hf.signal}: ${(hf.stderr || hf.error?.message || '').trim().slice(0, 300)}`}
      const parsed = JSON.parse(readFileSync(json, 'utf8')) as HyperfineJson
      for (const r of parsed.results) times.set(r.command, [...(times.get(r.command) ?? []), ...r.times])
    }
    return {rows: [...times].map(([command, seconds]) => summarizeRuns(command, seconds))}
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
}

/** Mean, sample standard deviation, min and max of one command's runs, in ms. */
function summarizeRuns(command: string, seconds: number[]): ColdStartRow {
  const ms = seconds.map((t) => t * 1000)
  const meanMs = ms.reduce((a, b) => a + b, 0) / ms.length
  const variance = ms.length > 1 ? ms.reduce((a, b) => a + (b - meanMs) ** 2, 0) / (ms.length - 1) : 0
  return {command, meanMs, stddevMs: Math.sqrt(variance), minMs: Math.min(...ms), maxMs: Math.max(...ms), runs: ms.length}
}
