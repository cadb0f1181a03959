// The ACL section of BENCHMARKS.md: what token checks cost on the KV path, measured in one run.
// Two data-dir servers at once, one with ACLs off and one with `acl { enabled = true,
// default_policy = "deny" }`, where every request carries a token whose one policy is
// `key_prefix "bench/" { policy = "write" }`. PUT and GET through the kv suite at the same client
// counts with the agent's CPU per request, the two servers side by side (on-off.ts), the rounds'
// medians compared, so the load of a shared box falls on both sides alike.
import {randomUUID} from 'node:crypto'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {startCoord, type CoordAgent} from './coord-agent.js'
import {type KvPlan} from './kv-suite.js'
import {renderOnOff, runSideBySide, type OnOffCell} from './on-off.js'
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
      const labels = [`ACLs off (round ${round})`, `ACLs on (round ${round})`]
      const agents: CoordAgent[] = []
      try {
        agents.push(await startCoord('persistent', 20_000, []))
        agents.push(await startCoord('persistent', 20_000, [`-config-file=${config}`]))
        const token = await benchToken(agents[1].httpAddr, root)
        agents.forEach((agent, i) => log(`${labels[i]}: coord (data dir) at ${agent.httpAddr} (pid ${agent.pid})`))
        const cells = await runSideBySide(plan, agents.map((agent, i) => ({
          pid: agent.pid, makeTarget: (n: number) => coordTarget(labels[i], agent.httpAddr, n, plan, '', undefined, i === 1 ? token : undefined),
        })), log)
        labels.forEach((label, i) => out.runs.push({label, acl: i === 1, cells: cells[i]}))
      } catch (error) {
        log(`round ${round} failed: ${(error as Error).message}`)
        labels.forEach((label, i) => out.runs.push({label, acl: i === 1, cells: [], error: (error as Error).message.split('\n')[0]}))
      } finally {
        for (const agent of agents) await agent.stop()
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
    `Two data-dir servers per round, measured side by side (at the same time, each with its own clients): ACLs off, and \`acl { enabled = true, default_policy = "deny" }\` with every request carrying a token whose one policy is \`key_prefix "bench/" { policy = "write" }\` ` +
      `(each request resolves the token and checks key:read or key:write). ${plan.keys} keys of ${plan.valueBytes} B, keep-alive connections (one per client), ` +
      `${plan.durationMs / 1000} s measured after ${plan.warmupMs / 1000} s warm-up. ${run.runs.length / 2} rounds, a fresh pair each; the summary takes the median of each side. Side by side, a shared machine's load falls on both alike (run one after the other, the same agent's figures swung by tens of percent within a minute here); agent CPU is the server process's user + system time (/proc/<pid>/stat) per request over warm-up and window, which the machine's other load disturbs less than throughput.`,
    '',
    ...renderOnOff(run.runs.map((row) => ({...row, on: row.acl})), plan.clients, '≤ 10 %'),
    END,
  ]
  return lines.join('\n')
}

export function writeAclSection(path: string, section: string): void {
  writeSection(path, BEGIN, END, section)
}
