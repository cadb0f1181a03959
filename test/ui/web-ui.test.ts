// The web UI in a real browser (Debian's chromium through playwright-core) against a real
// `coord agent -dev`: live updates through blocking queries, KV editing with check-and-set, the
// lock page, bad answers shown in the page, back/forward, 320 px, keyboard, and axe-core on every
// page in both colour schemes. Timing bounds are the UI's promise (2 s), printed as measured.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import type {Page} from 'playwright-core'
import {coordBin, runCli, startAgent, type TestAgent} from '../helpers/agent.js'
import {http} from '../helpers/http.js'
import {axeViolations, browserMissing, launchBrowser, type TestBrowser} from '../helpers/browser.js'

const LIVE_MS = 2000
const skip = browserMissing()

/** Milliseconds from `start` until the locator is visible, failing past `limitMs`. */
async function msUntilVisible(page: Page, selector: string, start: number, limitMs = LIVE_MS): Promise<number> {
  await page.locator(selector).first().waitFor({state: 'visible', timeout: limitMs + 3000})
  const ms = performance.now() - start
  assert.ok(ms <= limitMs, `${selector} took ${ms.toFixed(0)} ms (limit ${limitMs} ms)`)
  return ms
}

describe('web UI in chromium', {skip}, () => {
  let agent: TestAgent
  let browser: TestBrowser
  const children: ChildProcess[] = []
  const url = (path: string) => `http://${agent.httpAddr}/ui/${path}`
  const api = (method: string, path: string, body?: unknown) => http(agent.httpAddr, method, path, body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body))
  const open = async (path: string, opts: {colorScheme?: 'light' | 'dark'; width?: number} = {}) => {
    const page = await browser.page(opts)
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    await page.goto(url(path))
    return {page, errors}
  }

  before(async () => {
    agent = await startAgent()
    browser = await launchBrowser()
  })
  after(async () => {
    for (const child of children) if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGTERM')
    await browser?.close()
    await agent?.stop()
  })

  it('a registered service appears without reload, and its failing check shows critical, each within 2 s', async () => {
    const {page, errors} = await open('services')
    await page.getByText('consul', {exact: true}).waitFor({timeout: 10_000})
    const navigations: string[] = []
    page.on('framenavigated', (frame) => { if (frame === page.mainFrame()) navigations.push(frame.url()) })
    const t0 = performance.now()
    const reg = await api('PUT', '/v1/agent/service/register', {Name: 'web', ID: 'web1', Tags: ['v1', 'edge'], Port: 8080, Check: {TTL: '60s', Status: 'passing'}})
    assert.equal(reg.status, 200, reg.text)
    const appeared = await msUntilVisible(page, '[data-service="web"] .badge.passing', t0)
    const t1 = performance.now()
    const fail = await api('PUT', '/v1/agent/check/fail/service:web1?note=disk%20full')
    assert.equal(fail.status, 200, fail.text)
    const critical = await msUntilVisible(page, '[data-service="web"] .badge.critical', t1)
    console.log(`# service appeared after ${appeared.toFixed(0)} ms, critical after ${critical.toFixed(0)} ms`)
    assert.deepEqual(navigations, [], 'no reload')
    // The service page lists the instance with its node, port and the check's output.
    await page.getByRole('link', {name: 'web', exact: true}).click()
    await page.locator('[data-instance="web1"]').waitFor()
    const card = await page.locator('[data-instance="web1"]').innerText()
    assert.match(card, /test-node/)
    assert.match(card, /8080/)
    assert.match(card, /disk full/)
    assert.match(page.url(), /\/ui\/services\/web$/)
    assert.deepEqual(errors, [])
    await page.close()
  })

  it('filters by text, health and tag are in the URL, and back/forward move between pages', async () => {
    const {page} = await open('services?health=critical')
    await page.locator('[data-service="web"]').waitFor()
    assert.equal(await page.locator('[data-service="consul"]').count(), 0, 'consul is passing: filtered out')
    await page.getByLabel('Tag').fill('nope')
    await page.getByText('No service matches these filters.').waitFor()
    assert.match(page.url(), /tag=nope/)
    await page.getByLabel('Tag').fill('edge')
    await page.locator('[data-service="web"]').waitFor()
    await page.getByRole('link', {name: 'Nodes'}).click()
    await page.locator('[data-node="test-node"]').waitFor()
    await page.goBack()
    await page.locator('[data-service="web"]').waitFor()
    assert.match(page.url(), /\/ui\/services\?health=critical&tag=edge$/)
    await page.goForward()
    await page.locator('[data-node="test-node"]').waitFor()
    assert.match(page.url(), /\/ui\/nodes$/)
    await page.close()
  })

  it('a hidden tab parks no blocking read, and catches up when shown again', async () => {
    const page = await browser.page()
    const inFlight = new Set<unknown>()
    page.on('request', (r) => { if (r.url().includes('/v1/')) inFlight.add(r) })
    const done = (r: unknown) => inFlight.delete(r)
    page.on('requestfinished', done)
    page.on('requestfailed', done)
    await page.goto(url('services'))
    await page.locator('[data-service="web"]').waitFor()
    await page.waitForTimeout(300)
    assert.ok(inFlight.size >= 1, 'a blocking read is parked while visible')
    const setHidden = (hidden: boolean) => page.evaluate((h) => {
      Object.defineProperty(document, 'hidden', {configurable: true, get: () => h})
      document.dispatchEvent(new Event('visibilitychange'))
    }, hidden)
    await setHidden(true)
    await page.waitForTimeout(500)
    assert.equal(inFlight.size, 0, 'nothing parked while hidden')
    await api('PUT', '/v1/agent/service/register', {Name: 'while-hidden', Port: 1})
    await page.waitForTimeout(500)
    assert.equal(await page.locator('[data-service="while-hidden"]').count(), 0)
    const t0 = performance.now()
    await setHidden(false)
    const shown = await msUntilVisible(page, '[data-service="while-hidden"]', t0)
    console.log(`# hidden tab caught up ${shown.toFixed(0)} ms after it was shown`)
    await api('PUT', '/v1/agent/service/deregister/while-hidden')
    await page.close()
  })

  it('the nodes page shows address, health, services and checks; a node page its sessions', async () => {
    const {page} = await open('nodes/test-node')
    await page.getByRole('heading', {name: 'Services'}).waitFor()
    const text = await page.locator('main').innerText()
    assert.match(text, /127\.0\.0\.1/)
    assert.match(text, /Serf Health Status/)
    assert.match(text, /web1/)
    await page.goto(url('nodes/ghost'))
    await page.getByText('No node named ghost is registered in this datacenter.').waitFor()
    await page.close()
  })

  it('editing a KV value in the page is what `coord kv get` returns', async () => {
    assert.equal((await runCli(['kv', 'put', 'app/config', 'v1'], {httpAddr: agent.httpAddr})).code, 0)
    const {page} = await open('kv/app/')
    await page.getByRole('link', {name: 'config'}).click()
    const value = page.getByLabel('Value', {exact: true})
    await value.waitFor()
    assert.equal(await value.inputValue(), 'v1')
    await value.fill('{"replicas": 3}')
    await page.getByRole('button', {name: 'Save'}).click()
    await page.getByText('Saved.').waitFor()
    const got = await runCli(['kv', 'get', 'app/config'], {httpAddr: agent.httpAddr})
    assert.equal(got.stdout, '{"replicas": 3}\n')
    // Flags are a uint64, kept exact beyond 2^53.
    await page.getByLabel('Flags', {exact: true}).fill('18446744073709551615')
    await page.getByRole('button', {name: 'Save'}).click()
    await page.getByText('Saved.').waitFor()
    const detailed = await runCli(['kv', 'get', '-detailed', 'app/config'], {httpAddr: agent.httpAddr})
    assert.match(detailed.stdout, /^Flags\s+18446744073709551615$/m)
    assert.match(detailed.stdout, /^Value\s+\{"replicas": 3\}$/m)
    // The JSON view pretty-prints it.
    await page.getByLabel('JSON').check()
    assert.match(await page.getByLabel('value as JSON').innerText(), /"replicas": 3/)
    await page.close()
  })

  it('a change by someone else during an edit is warned about, the save is refused, and the typed text stays', async () => {
    assert.equal((await runCli(['kv', 'put', 'app/race', 'original'], {httpAddr: agent.httpAddr})).code, 0)
    const {page} = await open('kv/app/race')
    const value = page.getByLabel('Value', {exact: true})
    await value.waitFor()
    await value.fill('mine')
    const t0 = performance.now()
    assert.equal((await runCli(['kv', 'put', 'app/race', 'theirs'], {httpAddr: agent.httpAddr})).code, 0)
    const warned = await msUntilVisible(page, '[data-testid="cas-warning"]', t0)
    console.log(`# concurrent-change warning after ${warned.toFixed(0)} ms`)
    assert.equal(await value.inputValue(), 'mine')
    await page.getByRole('button', {name: 'Save'}).click()
    await page.waitForTimeout(300)
    assert.equal((await runCli(['kv', 'get', 'app/race'], {httpAddr: agent.httpAddr})).stdout, 'theirs\n', 'the check-and-set refused the stale save')
    assert.equal(await value.inputValue(), 'mine')
    await page.getByRole('button', {name: 'Overwrite with my text'}).click()
    await page.getByText('Saved.').waitFor()
    assert.equal((await runCli(['kv', 'get', 'app/race'], {httpAddr: agent.httpAddr})).stdout, 'mine\n')
    await page.close()
  })

  it('a failed save keeps what was typed; binary and malformed values are shown safely', async () => {
    const {page} = await open('kv/app/config')
    const value = page.getByLabel('Value', {exact: true})
    await value.waitFor()
    await value.fill('typed text that must survive')
    await page.route('**/v1/kv/app/config?*', (route) => (route.request().method() === 'PUT' ? route.fulfill({status: 500, body: 'rpc error: no leader'}) : route.continue()))
    await page.getByRole('button', {name: 'Save'}).click()
    await page.getByText('Not saved (your text is kept)').waitFor()
    assert.match(await page.locator('main').innerText(), /no leader/)
    assert.equal(await value.inputValue(), 'typed text that must survive')
    await page.unroute('**/v1/kv/app/config?*')
    // Bytes that are not UTF-8 text: a hex dump, no editor.
    await http(agent.httpAddr, 'PUT', '/v1/kv/app/blob', Buffer.from([0xff, 0x00, 0xfe, 0x41]))
    await page.goto(url('kv/app/blob'))
    await page.getByText('Binary value (4 bytes)').waitFor()
    assert.match(await page.getByLabel('value as hex').innerText(), /ff 00 fe 41/)
    assert.equal(await page.getByLabel('Value', {exact: true}).count(), 0)
    // Text that is not JSON, viewed as JSON.
    await runCli(['kv', 'put', 'app/notjson', '{oops'], {httpAddr: agent.httpAddr})
    await page.goto(url('kv/app/notjson'))
    await page.getByLabel('JSON').check()
    await page.getByText(/Not valid JSON/).waitFor()
    await page.close()
  })

  it('a folder delete names how many keys go, and deletes them', async () => {
    for (const k of ['tmp/a', 'tmp/b', 'tmp/deep/c']) await runCli(['kv', 'put', k, 'x'], {httpAddr: agent.httpAddr})
    const {page} = await open('kv/')
    await page.getByRole('button', {name: 'Delete tmp/'}).click()
    await page.getByText('Delete the folder tmp/ and all 3 keys under it?').waitFor()
    await page.getByRole('button', {name: 'Delete 3 keys'}).click()
    await page.locator('[data-key="tmp/"]').waitFor({state: 'detached'})
    const keys = await http(agent.httpAddr, 'GET', '/v1/kv/tmp/?keys')
    assert.equal(keys.status, 404)
    // Create through the form.
    await page.getByRole('button', {name: 'Create a key or folder'}).click()
    await page.getByLabel(/^Name/).fill('created/by-ui')
    await page.getByLabel('Value').fill('hello')
    await page.getByRole('button', {name: 'Create', exact: true}).click()
    await page.waitForURL(/\/ui\/kv\/created\/by-ui$/)
    assert.equal((await runCli(['kv', 'get', 'created/by-ui'], {httpAddr: agent.httpAddr})).stdout, 'hello\n')
    await page.close()
  })

  it('a held `coord lock` shows its holder on the locks page', async () => {
    const {page} = await open('sessions')
    await page.getByText('No lock is held.').waitFor()
    const lock = spawn(process.execPath, [coordBin, 'lock', '-name=ui-test-holder', 'jobs/nightly', 'sleep 60'], {env: {...process.env, CONSUL_HTTP_ADDR: agent.httpAddr}, stdio: 'ignore'})
    children.push(lock)
    const t0 = performance.now()
    const row = page.locator('[data-lock="jobs/nightly/.lock"]')
    await row.waitFor({timeout: 15_000})
    console.log(`# lock holder shown ${(performance.now() - t0).toFixed(0)} ms after starting coord lock`)
    assert.match(await row.innerText(), /ui-test-holder/)
    assert.match(await page.locator('main').innerText(), /holds jobs\/nightly\/\.lock/)
    process.kill(lock.pid!, 'SIGTERM')
    await row.waitFor({state: 'detached', timeout: 15_000})
    // A semaphore (`coord lock -n=2`): its slots used of the limit and the holder.
    const semaphore = spawn(process.execPath, [coordBin, 'lock', '-n=2', '-name=ui-test-slot', 'jobs/pool', 'sleep 60'], {env: {...process.env, CONSUL_HTTP_ADDR: agent.httpAddr}, stdio: 'ignore'})
    children.push(semaphore)
    const slots = page.locator('[data-semaphore="jobs/pool/"]')
    await page.waitForFunction(() => /1 of 2/.test(document.querySelector('[data-semaphore="jobs/pool/"]')?.textContent ?? ''), undefined, {timeout: 15_000})
    assert.match(await slots.innerText(), /ui-test-slot/)
    process.kill(semaphore.pid!, 'SIGTERM')
    await page.waitForFunction(() => /0 of 2/.test(document.querySelector('[data-semaphore="jobs/pool/"]')?.textContent ?? '') || !document.querySelector('[data-semaphore="jobs/pool/"]'), undefined, {timeout: 15_000})
    await page.close()
  })

  it('an unreachable agent, a 403, a 500, a malformed answer and a malformed value are messages in the page', async () => {
    const {page} = await open('services')
    await page.locator('[data-service="web"]').waitFor()
    const cases: Array<[string, (route: import('playwright-core').Route) => Promise<void>, RegExp]> = [
      ['unreachable', (route) => route.abort('connectionrefused'), /Cannot reach the agent/],
      ['403', (route) => route.fulfill({status: 403, body: 'Permission denied'}), /Permission denied \(403\)/],
      ['500', (route) => route.fulfill({status: 500, body: 'No cluster leader'}), /could not answer \(500\): No cluster leader/],
      ['malformed', (route) => route.fulfill({status: 200, body: '{"not": "a list"', headers: {'X-Consul-Index': '5'}}), /not valid JSON/],
      ['wrong shape', (route) => route.fulfill({status: 200, body: '{"a": 1}', headers: {'X-Consul-Index': '5'}}), /expected a list/],
    ]
    for (const [name, handler, says] of cases) {
      await page.route('**/v1/internal/ui/services*', handler)
      await page.goto(url('services'))
      await page.getByRole('alert').first().waitFor({timeout: 10_000})
      assert.match(await page.locator('main').innerText(), says, name)
      assert.ok((await page.getByRole('button', {name: 'Retry'}).count()) > 0, `${name}: a retry button`)
      await page.unroute('**/v1/internal/ui/services*')
    }
    // A KV answer whose value is not base64: the key page says so.
    await page.route('**/v1/kv/app/config*', (route) => route.fulfill({status: 200, headers: {'X-Consul-Index': '5'},
      body: '[{"Key":"app/config","Value":"!!not base64!!","Flags":0,"LockIndex":0,"CreateIndex":5,"ModifyIndex":5}]'}))
    await page.goto(url('kv/app/config'))
    await page.getByText('Malformed value').waitFor({timeout: 10_000})
    assert.match(await page.locator('main').innerText(), /not valid base64/)
    await page.unroute('**/v1/kv/app/config*')
    // A real 500 from the agent: a datacenter it has no path to.
    await page.goto(url('services?dc=nowhere'))
    await page.getByRole('alert').first().waitFor({timeout: 10_000})
    assert.match(await page.locator('main').innerText(), /No path to datacenter/)
    await page.close()
  })

  it('is usable from the keyboard and readable at 320 px', async () => {
    const {page} = await open('services', {width: 320})
    await page.locator('[data-service="web"]').waitFor()
    for (const path of ['services', 'services/web', 'nodes', 'nodes/test-node', 'kv/', 'kv/app/config', 'sessions']) {
      await page.goto(url(path))
      await page.waitForTimeout(400)
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
      assert.ok(overflow <= 0, `${path} scrolls sideways by ${overflow}px at 320 px`)
    }
    await page.goto(url('services'))
    await page.locator('[data-service="web"]').waitFor()
    const focused: string[] = []
    for (let i = 0; i < 12; i++) {
      await page.keyboard.press('Tab')
      focused.push(await page.evaluate(() => {
        const el = document.activeElement
        return el ? `${el.tagName.toLowerCase()}:${(el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 30)}` : ''
      }))
    }
    assert.ok(focused.includes('a:Nodes'), focused.join(' | '))
    assert.ok(focused.some((f) => f.startsWith('select:')), `the datacenter switcher is reachable: ${focused.join(' | ')}`)
    assert.ok(focused.some((f) => f.startsWith('input:')), `the filters are reachable: ${focused.join(' | ')}`)
    // Enter on the focused Nodes link navigates.
    await page.goto(url('services'))
    await page.getByRole('link', {name: 'Nodes'}).focus()
    await page.keyboard.press('Enter')
    await page.waitForURL(/\/ui\/nodes$/)
    await page.close()
  })

  it('axe-core finds no serious or critical violations on any page, light or dark', async () => {
    const pages = ['services', 'services/web', 'nodes', 'nodes/test-node', 'kv/', 'kv/app/config', 'sessions']
    const found: string[] = []
    for (const colorScheme of ['light', 'dark'] as const) {
      const {page} = await open('services', {colorScheme})
      for (const path of pages) {
        await page.goto(url(path))
        await page.locator('main h1').waitFor()
        await page.waitForTimeout(500)
        const violations = await axeViolations(page)
        for (const v of violations) {
          if (v.impact === 'serious' || v.impact === 'critical') found.push(`${colorScheme} ${path}: ${v.id} (${v.impact}) ${v.help} ${JSON.stringify(v.nodes)}`)
        }
        console.log(`# axe ${colorScheme} ${path}: ${violations.length} violations (${violations.map((v) => `${v.id}:${v.impact}`).join(', ') || 'none'})`)
      }
      // The check can fail: a button without a name is one of axe's critical findings.
      await page.evaluate(() => document.querySelector('main')?.append(document.createElement('button')))
      assert.ok((await axeViolations(page)).some((v) => v.id === 'button-name' && v.impact === 'critical'), 'axe reports a nameless button')
      await page.close()
    }
    assert.deepEqual(found, [])
  })
})
