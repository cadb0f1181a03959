// `npm run ui:screenshots`: every page of the web UI, light and dark, into docs/ui/ — taken in
// chromium from a fresh `coord agent -dev` seeded with a small demo state (fixtures.ts seedDemo).
import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {repoRootDir, startAgent} from './screenshot-agent.js'
import {launchBrowser, browserMissing} from '../helpers/browser.js'
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
    for (const colorScheme of ['light', 'dark'] as const) {
      const page = await browser.page({colorScheme, width: 1100, height: 720})
      for (const [name, path, ready] of PAGES) {
        await page.goto(`http://${agent.httpAddr}/ui/${path}`)
        await page.locator(ready).first().waitFor({timeout: 10_000})
        await page.waitForTimeout(300)
        const file = join(out, `${name}-${colorScheme}.png`)
        await page.screenshot({path: file})
        console.log(`wrote ${file}`)
      }
      await page.close()
    }
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
