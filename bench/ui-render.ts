// `npm run ui:bench`: the web UI's section of BENCHMARKS.md. Bundle size of dist/ui (raw and
// gzip -9, what a browser downloads), and time to first render in Debian's chromium of the
// services page with 1,000 services and of a KV folder with 10,000 keys, against a -dev agent on
// this machine. Time to first render = navigation start to the list's first row and its count
// being in the page, read from the page's own clock (performance.now() is measured from
// navigation start), over fresh tabs in one browser.
import {readFileSync, readdirSync, statSync} from 'node:fs'
import {cpus, loadavg, availableParallelism} from 'node:os'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import type {Page} from 'playwright-core'
import {writeSection} from './report.js'
import {launchBrowser, browserMissing} from '../test/helpers/browser.js'
import {putKeys, registerServices} from '../test/ui/fixtures.js'
import {repoRootDir, startAgent} from '../test/ui/screenshot-agent.js'

const BEGIN = '<!-- bench:ui:begin (written by `npm run ui:bench`; edits inside are overwritten) -->'
const END = '<!-- bench:ui:end -->'
const RUNS = Number(process.env.BENCH_UI_RUNS) > 0 ? Number(process.env.BENCH_UI_RUNS) : 7
const SERVICES = 1000
const KEYS = 10_000

function bundleSizes(dir: string): Array<{file: string; raw: number; gzip: number}> {
  const rows: Array<{file: string; raw: number; gzip: number}> = []
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name)
      if (statSync(path).isDirectory()) walk(path)
      else {
        const data = readFileSync(path)
        rows.push({file: path.slice(dir.length + 1), raw: data.length, gzip: gzipSync(data, {level: 9}).length})
      }
    }
  }
  walk(dir)
  return rows
}

async function firstRender(page: Page, url: string, ready: string, countText: string): Promise<{ms: number; apiMs: number; apiBytes: number}> {
  await page.goto(url)
  await page.locator(ready).first().waitFor({timeout: 30_000})
  await page.getByText(countText).waitFor({timeout: 30_000})
  return page.evaluate(() => {
    const api = performance.getEntriesByType('resource').find((e) => /\/v1\/(internal\/ui\/services|kv\/)/.test(e.name)) as PerformanceResourceTiming | undefined
    return {ms: performance.now(), apiMs: api ? api.responseEnd - api.startTime : NaN, apiBytes: api ? api.encodedBodySize : NaN}
  })
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const fmt = (n: number) => n.toFixed(0)

const missing = browserMissing()
if (missing) {
  console.error(`Error: ${missing}`)
  process.exit(1)
}
const started = Date.now()
const loadStart = loadavg()[0]
const sizes = bundleSizes(join(repoRootDir, 'dist', 'ui'))
const agent = await startAgent()
const results: Array<{what: string; runs: Array<{ms: number; apiMs: number; apiBytes: number}>}> = []
let chromiumVersion = ''
try {
  await registerServices(agent.httpAddr, SERVICES)
  await putKeys(agent.httpAddr, 'big', KEYS)
  const browser = await launchBrowser()
  chromiumVersion = browser.context.browser()?.version() ?? ''
  try {
    const cases: Array<[string, string, string, string]> = [
      [`services page, ${SERVICES} services (+ consul)`, `http://${agent.httpAddr}/ui/services`, '[data-service]', `${SERVICES + 1} services`],
      [`KV folder, ${KEYS} keys`, `http://${agent.httpAddr}/ui/kv/big/`, '[data-key]', `${KEYS} entries`],
    ]
    for (const [what, url, ready, count] of cases) {
      const runs = []
      // One warm-up tab (disk cache, agent answer cache), then measured fresh tabs.
      for (let i = 0; i <= RUNS; i++) {
        const page = await browser.page()
        const r = await firstRender(page, url, ready, count)
        await page.close()
        if (i > 0) runs.push(r)
      }
      results.push({what, runs})
      console.log(`${what}: median ${fmt(median(runs.map((r) => r.ms)))} ms`)
    }
  } finally {
    await browser.close()
  }
} finally {
  await agent.stop()
}

const total = sizes.reduce((a, s) => ({raw: a.raw + s.raw, gzip: a.gzip + s.gzip}), {raw: 0, gzip: 0})
const section = [
  BEGIN,
  '## Web UI: bundle size and time to first render',
  '',
  `${new Date(started).toISOString().replace(/\.\d+Z$/, 'Z')} · nproc ${availableParallelism()} (${cpus()[0]?.model.split(' ').slice(0, 2).join(' ') ?? '?'}) · Node ${process.version} · Chromium ${chromiumVersion} (headless) · 1-min load average ${loadStart.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end · ${((Date.now() - started) / 1000).toFixed(0)} s`,
  '',
  'Bundle: every file `npm run build` writes to dist/ui (scripts/build-ui.js: esbuild, minified), raw and gzip -9. The build fails over 200 KB gzipped.',
  '',
  '| file | bytes | gzipped |',
  '| --- | ---: | ---: |',
  ...sizes.map((s) => `| ${s.file} | ${s.raw.toLocaleString('en-US')} | ${s.gzip.toLocaleString('en-US')} |`),
  `| **total** | ${total.raw.toLocaleString('en-US')} | ${total.gzip.toLocaleString('en-US')} |`,
  '',
  `Time to first render: a fresh tab opens the page on a \`coord agent -dev\` (same machine) holding ${SERVICES} services on 20 nodes (one check each) and ${KEYS} keys in one folder; measured from navigation start to the list's first row and its count being in the page, on the page's own clock (\`performance.now()\`), so it includes loading the bundle, the API read and rendering the virtualised list. One warm-up tab, then ${RUNS} measured tabs. "API" is the list read alone (Resource Timing).`,
  '',
  '| page | runs | median ms | max ms | API median ms | API answer bytes on the wire (gzip) |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...results.map(({what, runs}) => `| ${what} | ${runs.length} | ${fmt(median(runs.map((r) => r.ms)))} | ${fmt(Math.max(...runs.map((r) => r.ms)))} | ${fmt(median(runs.map((r) => r.apiMs)))} | ${Number.isFinite(runs[0]?.apiBytes) ? runs[0].apiBytes.toLocaleString('en-US') : '?'} |`),
  END,
].join('\n')
writeSection(join(repoRootDir, 'BENCHMARKS.md'), BEGIN, END, section)
console.log(section)
