// The off/on comparisons (bench/acl-suite.ts, bench/metrics-suite.ts): PUT then GET cells against
// the off and the on agent side by side (at the same time, each with its own clients), each with
// the agent's own CPU time per request from process accounting (/proc/<pid>/stat utime + stime,
// also reported apart: user time is the agent's code and GC, system time its syscalls);
// and the tables: every run, then per op the median of the rounds off and on, the throughput cost
// and the CPU cost. Side by side, a shared machine's load (which swings the figures of agents run
// one after the other by tens of percent within a minute) falls on both alike; rounds repeat it.
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {runLoad} from './load.js'
import {keyFor, prefill, type KvCell, type KvPlan} from './kv-suite.js'
import type {Target} from './targets.js'

export interface OnOffCell extends KvCell {
  /** The agent's CPU time (user + system) per request, in microseconds, over warm-up and window. */
  cpuUsPerOp: number
  /** Its two parts: user time (JavaScript, GC, libuv) and system time (the kernel: sockets, disk). */
  userUsPerOp?: number
  sysUsPerOp?: number
}

export interface OnOffRow {
  label: string
  on: boolean
  cells: OnOffCell[]
  error?: string
}

let ticksPerSecond: number | undefined

/** The user and system CPU time (ms) process `pid` has used so far: /proc/<pid>/stat fields 14 and 15. */
export function processCpuMs(pid: number): {user: number; sys: number} {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], {encoding: 'utf8'}).trim()) || 100
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may hold spaces: count from the closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return {user: (Number(fields[11]) / ticksPerSecond) * 1000, sys: (Number(fields[12]) / ticksPerSecond) * 1000}
}

/** One agent under test: how to reach it and its process, for the CPU figure. */
export interface Side {
  makeTarget: (connections: number) => Target
  pid: number
}

/**
 * PUT then GET at each client count against every side at once (the off and the on agent side by
 * side, each with its own clients), each with its agent's CPU time per request: both see the same
 * moment of a shared machine, so its load falls on both alike. One cell list per side, in order.
 */
export async function runSideBySide(plan: KvPlan, sides: readonly Side[], log: (line: string) => void, onCellStart?: (op: 'PUT' | 'GET', clients: number) => void): Promise<OnOffCell[][]> {
  const cells: OnOffCell[][] = sides.map(() => [])
  const pick = keyFor(plan.keys)
  for (const side of sides) await prefill(side.makeTarget(16), plan.keys)
  for (const op of ['PUT', 'GET'] as const) {
    for (const clients of plan.clients) {
      onCellStart?.(op, clients)
      await Promise.all(sides.map(async (side, i) => {
        const target = side.makeTarget(clients)
        try {
          // Every request counts for the CPU figure, warm-up included, as the CPU time spans both.
          let requests = 0
          const call = op === 'PUT' ? (k: number) => target.put(k) : (k: number) => target.get(k)
          const cpuBefore = processCpuMs(side.pid)
          const result = await runLoad((w, seq) => { requests++; return call(pick(w, seq)) }, {workers: clients, durationMs: plan.durationMs, warmupMs: plan.warmupMs})
          const cpuAfter = processCpuMs(side.pid)
          const perOp = (ms: number) => (ms * 1000) / Math.max(1, requests)
          const [userUsPerOp, sysUsPerOp] = [perOp(cpuAfter.user - cpuBefore.user), perOp(cpuAfter.sys - cpuBefore.sys)]
          const cpuUsPerOp = userUsPerOp + sysUsPerOp
          log(`  ${target.name} ${op} x${clients}: ${Math.round(result.opsPerSec)} ops/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, ` +
            `agent CPU ${cpuUsPerOp.toFixed(0)} µs/request (user ${userUsPerOp.toFixed(0)}, system ${sysUsPerOp.toFixed(0)})` + (result.errors ? `, ${result.errors} errors (${result.firstError})` : ''))
          cells[i].push({op, clients, result, cpuUsPerOp, userUsPerOp, sysUsPerOp})
        } finally {
          await target.close()
        }
      }))
    }
  }
  return cells
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/** Every run's cells, then per op and client count the medians off and on with both costs. */
export function renderOnOff(rows: readonly OnOffRow[], clients: readonly number[], aim: string): string[] {
  const fmt = (v: number) => (Number.isNaN(v) ? '–' : v.toFixed(2))
  const lines = ['| run | op | clients | ops/s | p50 ms | p99 ms | agent CPU µs/request | user + system | errors |', '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |']
  for (const row of rows) {
    if (row.error) {
      lines.push(`| ${row.label} | failed: ${row.error} | | | | | | | |`)
      continue
    }
    for (const c of row.cells) {
      const split = c.userUsPerOp === undefined || c.sysUsPerOp === undefined ? '–' : `${Math.round(c.userUsPerOp)} + ${Math.round(c.sysUsPerOp)}`
      lines.push(`| ${row.label} | ${c.op} | ${c.clients} | ${Math.round(c.result.opsPerSec)} | ${fmt(c.result.p50Ms)} | ${fmt(c.result.p99Ms)} | ${Math.round(c.cpuUsPerOp)} | ${split} | ${c.result.errors} |`)
    }
  }
  const pick = (on: boolean, op: string, n: number, of: (c: OnOffCell) => number) =>
    median(rows.filter((x) => x.on === on).flatMap((x) => x.cells).filter((c) => c.op === op && c.clients === n).map(of))
  const cost = (off: number, on: number, sign: 1 | -1) => (Number.isNaN(off) || Number.isNaN(on) ? '–' : `${((sign * (off - on) / off) * 100).toFixed(1)} %`)
  const whole = (v: number) => (Number.isNaN(v) ? '–' : String(Math.round(v)))
  lines.push('', `| op | clients | median ops/s off | median ops/s on | throughput cost | median CPU µs/request off | on | CPU cost | aim |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |')
  for (const op of ['PUT', 'GET']) {
    for (const n of clients) {
      const [offOps, onOps] = [pick(false, op, n, (c) => c.result.opsPerSec), pick(true, op, n, (c) => c.result.opsPerSec)]
      const [offCpu, onCpu] = [pick(false, op, n, (c) => c.cpuUsPerOp), pick(true, op, n, (c) => c.cpuUsPerOp)]
      lines.push(`| ${op} | ${n} | ${whole(offOps)} | ${whole(onOps)} | ${cost(offOps, onOps, 1)} | ${whole(offCpu)} | ${whole(onCpu)} | ${cost(offCpu, onCpu, -1)} | ${aim} |`)
    }
  }
  return lines
}
