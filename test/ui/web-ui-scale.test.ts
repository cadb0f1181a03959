// The web UI with 1,000 services and 10,000 keys in one folder, in chromium against a real agent:
// both lists render and stay virtualised (a bounded number of rows in the page however long the
// list), scroll to their last entry, stay live (a change still shows within 2 s), and the main
// thread is never blocked long (the longest task is printed and bounded loosely for a loaded box).
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import type {Page} from 'playwright-core'
import {startAgent, type TestAgent} from '../helpers/agent.js'
import {http} from '../helpers/http.js'
import {browserMissing, launchBrowser, type TestBrowser} from '../helpers/browser.js'
import {putKeys, registerServices} from './fixtures.js'

const SERVICES = 1000
const KEYS = 10_000
/** Far above a smooth page (tens of ms) and far below a frozen one. */
const LONGEST_TASK_LIMIT_MS = 1500

/** Starts recording long main-thread tasks (the Long Tasks API) in the page. */
async function watchLongTasks(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as {longest: number}
    w.longest = 0
    new PerformanceObserver((list) => { for (const e of list.getEntries()) w.longest = Math.max(w.longest, e.duration) }).observe({type: 'longtask', buffered: true})
  })
}

const longestTask = (page: Page) => page.evaluate(() => (window as unknown as {longest: number}).longest)

describe('web UI at scale', {skip: browserMissing()}, () => {
  let agent: TestAgent
  let browser: TestBrowser
  before(async () => {
    agent = await startAgent()
    const t0 = performance.now()
    await registerServices(agent.httpAddr, SERVICES)
    await putKeys(agent.httpAddr, 'big', KEYS)
    console.log(`# seeded ${SERVICES} services and ${KEYS} keys in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await agent?.stop()
  })

  it(`lists ${SERVICES} services virtualised, scrolls to the last, and stays live`, async () => {
    const page = await browser.page()
    const t0 = performance.now()
    await page.goto(`http://${agent.httpAddr}/ui/services`)
    await page.getByText(`${SERVICES + 1} services`).waitFor({timeout: 20_000})
    await page.locator('[data-service="consul"]').waitFor()
    console.log(`# services page with ${SERVICES + 1} services rendered in ${(performance.now() - t0).toFixed(0)} ms`)
    await watchLongTasks(page)
    const rows = await page.locator('.vrow').count()
    assert.ok(rows > 5 && rows < 100, `${rows} rows in the DOM for ${SERVICES + 1} services`)
    await page.locator('.vlist').evaluate((el) => { el.scrollTop = el.scrollHeight })
    await page.locator('[data-service="svc-0999"]').waitFor({timeout: 5000})
    const t1 = performance.now()
    const reg = await http(agent.httpAddr, 'PUT', '/v1/agent/service/register', JSON.stringify({Name: 'aaa-late', Port: 1}))
    assert.equal(reg.status, 200)
    await page.locator('.vlist').evaluate((el) => { el.scrollTop = 0 })
    await page.locator('[data-service="aaa-late"]').waitFor({timeout: 5000})
    const live = performance.now() - t1
    const longest = await longestTask(page)
    console.log(`# new service shown after ${live.toFixed(0)} ms among ${SERVICES + 2}; longest main-thread task ${longest.toFixed(0)} ms`)
    assert.ok(live <= 2000, `live update took ${live.toFixed(0)} ms`)
    assert.ok(longest < LONGEST_TASK_LIMIT_MS, `longest task ${longest} ms`)
    // Filtering 1,000 rows by health is immediate.
    await page.getByLabel('Health').selectOption('critical')
    await page.getByText(/^\d+ of \d+ services$/).waitFor({timeout: 5000})
    await page.close()
  })

  it(`browses a folder of ${KEYS} keys virtualised and scrolls to the last`, async () => {
    const page = await browser.page()
    const t0 = performance.now()
    await page.goto(`http://${agent.httpAddr}/ui/kv/big/`)
    await page.getByText(`${KEYS} entries`).waitFor({timeout: 20_000})
    console.log(`# KV folder with ${KEYS} keys rendered in ${(performance.now() - t0).toFixed(0)} ms`)
    await watchLongTasks(page)
    const rows = await page.locator('.vrow').count()
    assert.ok(rows > 5 && rows < 100, `${rows} rows in the DOM for ${KEYS} keys`)
    for (let step = 1; step <= 10; step++) {
      await page.locator('.vlist').evaluate((el, s) => { el.scrollTop = (el.scrollHeight * s) / 10 }, step)
      await page.waitForTimeout(50)
    }
    await page.locator(`[data-key="big/key-${String(KEYS - 1).padStart(5, '0')}"]`).waitFor({timeout: 5000})
    const longest = await longestTask(page)
    console.log(`# longest main-thread task while scrolling ${KEYS} keys: ${longest.toFixed(0)} ms`)
    assert.ok(longest < LONGEST_TASK_LIMIT_MS, `longest task ${longest} ms`)
    await page.close()
  })
})
