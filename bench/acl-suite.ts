// The ACL section of BENCHMARKS.md: what token checks cost on the KV path, measured in one run.
// Two data-dir servers in turn, one with ACLs off and one with `acl { enabled = true,
// default_policy = "deny" }`, where every request carries a token whose one policy is
// `key_prefix "bench/" { policy = "write" }`. PUT and GET through the kv suite at the same client
// counts with the agent's CPU per request (on-off.ts); interleaved pairs (off, on, off, on, ...), the
// medians compared, so drift on a shared box falls on both sides.
import {randomUUID} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {startCoord} from './coord-agent.js'
import {type KvPlan} from './kv-suite.js'
import {renderOnOff, runOnOffCells, type OnOffCell} from './on-off.js'
import {coordTarget} from './targets.js'
import {writeSection} from './report.js'

export interface AclRun {
  /** One entry per agent run, in order. */
  runs: Array<{label: string; acl: boolean; cells: OnOffCell[]; error?: string}>
}

/** Asks until `fn` answers 200 (the initial management token exists once the server leads). */
async function until200(fn: () => Promise<Response>, what: string): Promise<Response> {
  for (let i = 0; i < 200; i++) {
    const res = await fn()
    if (res.status === 200) return res
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`${what}: no 200 within 20 s`)
}

/** A token with the one policy `key_prefix "bench/" { policy = "write" }`, made with the management token. */
async function benchToken(httpAddr: string, root: string): Promise<string> {
  const headers = {'X-Consul-Token': root}
  await until200(() => fetch(`http://${httpAddr}/v1/acl/token/self`, {headers}), 'initial management token')
  const policy = await until200(() => fetch(`http://${httpAddr}/v1/acl/policy`, {method: 'PUT', headers, body: JSON.stringify({Name: 'bench-kv', Rules: 'key_prefix "bench/" { policy = "write" }'})}), 'policy create')
  const {ID} = await policy.json() as {ID: string}
  const token = await until200(() => fetch(`http://${httpAddr}/v1/acl/token`, {method: 'PUT', headers, body: JSON.stringify({Description: 'bench', Policies: [{ID}]})}), 'token create')
  return (await token.json() as {SecretID: string}).SecretID
}

export async function runAclSuite(plan: KvPlan, rounds: number, log: (line: string) => void): Promise<AclRun> {
  const dir = mkdtempSync(join(tmpdir(), 'coord-bench-acl-'))
  const root = randomUUID()
  const config = join(dir, 'acl.json')
  writeFileSync(config, JSON.stringify({acl: {enabled: true, default_policy: 'deny', tokens: {initial_management: root}}}))
  const out: AclRun = {runs: []}
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const acl of [false, true]) {
        const label = `ACLs ${acl ? 'on' : 'off'} (round ${round})`
        try {
          const agent = await startCoord('persistent', 20_000, acl ? [`-config-file=${config}`] : [])
          try {
            const token = acl ? await benchToken(agent.httpAddr, root) : undefined
            log(`${label}: coord (data dir) at ${agent.httpAddr} (pid ${agent.pid})`)
            const cells = await runOnOffCells(plan, (n) => coordTarget(label, agent.httpAddr, n, plan, '', undefined, token), agent.pid, log)
            out.runs.push({label, acl, cells})
          } finally {
            await agent.stop()
          }
        } catch (error) {
          log(`${label} failed: ${(error as Error).message}`)
          out.runs.push({label, acl, cells: [], error: (error as Error).message.split('\n')[0]})
        }
      }
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
  return out
}

const BEGIN = '<!-- bench:acl:begin (written by `npm run bench`; edits inside are overwritten) -->'
const END = '<!-- bench:acl:end -->'

export function renderAclSection(r: {date: string; machine: string; plan: KvPlan; run: AclRun; seconds: number}): string {
  const {plan, run} = r
  const lines = [
    BEGIN,
    '## ACLs: on vs off',
    '',
    `${r.date} · ${r.machine} · ${r.seconds.toFixed(0)} s`,
    '',
    `One data-dir server per row, started in turn: ACLs off, then \`acl { enabled = true, default_policy = "deny" }\` with every request carrying a token whose one policy is \`key_prefix "bench/" { policy = "write" }\` ` +
      `(each request resolves the token and checks key:read or key:write). ${plan.keys} keys of ${plan.valueBytes} B, keep-alive connections (one per client), ` +
      `${plan.durationMs / 1000} s measured after ${plan.warmupMs / 1000} s warm-up. Runs interleave (off, on, off, on, ...: ${run.runs.length / 2} pairs) and the summary takes the median of each side, so drift on a shared machine falls on both; agent CPU is the server process's user + system time (/proc/<pid>/stat) per request over warm-up and window, which the machine's other load disturbs less than throughput.`,
    '',
    ...renderOnOff(run.runs.map((row) => ({...row, on: row.acl})), plan.clients, '≤ 10 %'),
    END,
  ]
  return lines.join('\n')
}

export function writeAclSection(path: string, section: string): void {
  writeSection(path, BEGIN, END, section)
}
