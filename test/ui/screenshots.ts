// `npm run ui:screenshots`: every page of the web UI, light and dark, into docs/ui/ — taken in
// chromium from a fresh `coord agent -dev` seeded with a small demo state (fixtures.ts seedDemo);
// the ACL pages from a second -dev agent with ACLs on, a policy, a role and a token.
import {randomUUID} from 'node:crypto'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {repoRootDir, startAgent} from './screenshot-agent.js'
import {launchBrowser, browserMissing, type TestBrowser} from '../helpers/browser.js'
import type {Page} from 'playwright-core'
import {seedDemo} from './fixtures.js'

const PAGES: Array<[string, string, string]> = [
  ['services', 'services', '[data-service="web"]'],
  ['service', 'services/web', '[data-instance="web-1"]'],
  ['nodes', 'nodes', '[data-node]'],
  ['node', 'nodes/demo-node', 'h2'],
  ['kv-folder', 'kv/app/', '[data-key]'],
  ['kv-key', 'kv/app/config.json', 'textarea'],
  ['sessions', 'sessions', '[data-lock]'],
]

const missing = browserMissing()
if (missing) {
  console.error(`Error: ${missing}`)
  process.exit(1)
}
const out = join(repoRootDir, 'docs', 'ui')
mkdirSync(out, {recursive: true})
const agent = await startAgent()
try {
  await seedDemo(agent.httpAddr)
  const browser = await launchBrowser()
  try {
    await shootPages(browser, agent.httpAddr, PAGES)
    const narrow = await browser.page({colorScheme: 'light', width: 320, height: 640})
    await narrow.goto(`http://${agent.httpAddr}/ui/services`)
    await narrow.locator('[data-service="web"]').waitFor()
    await narrow.screenshot({path: join(out, 'services-320px-light.png')})
    console.log(`wrote ${join(out, 'services-320px-light.png')}`)
  } finally {
    await browser.close()
  }
} finally {
  await agent.stop()
}

// --- the ACL pages: an agent with ACLs on, the management token set in the browser ---
const root = randomUUID()
const confDir = mkdtempSync(join(tmpdir(), 'coord-shots-acl-'))
writeFileSync(join(confDir, 'acl.json'), JSON.stringify({acl: {enabled: true, default_policy: 'deny', tokens: {initial_management: root}}}))
const aclAgent = await startAgent([`-config-file=${join(confDir, 'acl.json')}`])
try {
  const api = (method: string, path: string, body?: unknown) => fetch(`http://${aclAgent.httpAddr}${path}`, {method, headers: {'X-Consul-Token': root}, body: body === undefined ? undefined : JSON.stringify(body)})
  for (let i = 0; i < 100 && (await api('GET', '/v1/acl/token/self')).status !== 200; i++) await new Promise((resolve) => setTimeout(resolve, 100))
  const policy = await (await api('PUT', '/v1/acl/policy', {Name: 'app-read', Description: 'reads the app/ keys', Rules: 'key_prefix "app/" {\n  policy = "read"\n}\nservice_prefix "" {\n  policy = "read"\n}\n'})).json() as {ID: string}
  await api('PUT', '/v1/acl/role', {Name: 'app-team', Description: 'the app team', Policies: [{ID: policy.ID}]})
  await api('PUT', '/v1/acl/token', {Description: 'ci reader', Policies: [{ID: policy.ID}]})
  const browser = await launchBrowser()
  try {
    const aclPages: Array<[string, string, string]> = [['acl-token', 'acl', '[data-self]'], ['acl-policies', `acl/policies?policy=${policy.ID}`, '[data-policy-rules]']]
    await shootPages(browser, aclAgent.httpAddr, aclPages, async (page) => {
      await page.goto(`http://${aclAgent.httpAddr}/ui/acl`)
      await page.evaluate((token) => localStorage.setItem('coord-acl-token', token), root)
    })
  } finally {
    await browser.close()
  }
} finally {
  await aclAgent.stop()
  rmSync(confDir, {recursive: true, force: true})
}

/** Each page in the light and the dark scheme at 1100×720, written as <name>-<scheme>.png once its `ready` element shows. */
async function shootPages(browser: TestBrowser, httpAddr: string, pages: Array<[string, string, string]>, prepare?: (page: Page) => Promise<void>): Promise<void> {
  for (const colorScheme of ['light', 'dark'] as const) {
    const page = await browser.page({colorScheme, width: 1100, height: 720})
    await prepare?.(page)
    for (const [name, path, ready] of pages) {
      await page.goto(`http://${httpAddr}/ui/${path}`)
      await page.locator(ready).first().waitFor({timeout: 10_000})
      await page.waitForTimeout(300)
      const file = join(out, `${name}-${colorScheme}.png`)
      await page.screenshot({path: file})
      console.log(`wrote ${file}`)
    }
    await page.close()
  }
}
