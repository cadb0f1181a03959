// The web UI on a real multi-datacenter setup, in chromium: dc1 (a server and a client agent, both
// with -ui) and dc2 (one server), WAN-joined. The client agent serves the UI itself; its
// datacenter switcher lists both datacenters and shows dc2's catalog through ?dc=dc2 (back returns
// to dc1); the nodes page shows the round trip to the other dc1 node from network coordinates.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {clientArgs, randomSubnet} from '../../src/lib/devcluster/cluster.js'
import {spawnAgent, type AgentProcess} from '../../src/lib/devcluster/agent-process.js'
import {startDatacenterServer, tempDir} from '../helpers/agent.js'
import {http} from '../helpers/http.js'
import {until} from '../helpers/wait.js'
import {browserMissing, launchBrowser, type TestBrowser} from '../helpers/browser.js'

describe('web UI across datacenters', {skip: browserMissing()}, () => {
  const dir = tempDir('coord-ui-multidc-')
  const subnet = randomSubnet()
  const agents: AgentProcess[] = []
  let c1: AgentProcess
  let s2: AgentProcess
  let browser: TestBrowser

  before(async () => {
    // Coordinates quickly (as test/integration/coordinates.test.ts), so the RTT shows within the test.
    const config = join(dir.path, 'fast-coordinates.json')
    writeFileSync(config, JSON.stringify({sync_coordinate_interval_min: '300ms', coordinate_update_period: '100ms'}))
    const [s1, s3] = await Promise.all([
      startDatacenterServer(dir.path, subnet, 1, 'dc1', ['-ui', `-config-file=${config}`]),
      startDatacenterServer(dir.path, subnet, 3, 'dc2', [`-retry-join-wan=${subnet}.1`]),
    ])
    agents.push(s1, s3)
    s2 = s3
    const dataDir = join(dir.path, 'c1')
    mkdirSync(dataDir, {recursive: true})
    c1 = await spawnAgent({name: 'c1', timeoutMs: 30_000, waitForLeader: true, args: clientArgs({name: 'c1', address: `${subnet}.2`, dataDir, join: [`${subnet}.1`], extra: ['-ui', `-config-file=${config}`]})})
    agents.push(c1)
    await until('dc2 known in dc1', async () => {
      const r = await http(c1.httpAddr, 'GET', '/v1/catalog/datacenters').catch(() => undefined)
      return r?.status === 200 && r.json<string[]>().includes('dc2')
    }, 30_000)
    const reg = await http(s2.httpAddr, 'PUT', '/v1/catalog/register', JSON.stringify({Node: 'far-node', Address: '10.2.0.1', Service: {Service: 'only-in-dc2', Port: 9000}}))
    assert.equal(reg.status, 200, reg.text)
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await Promise.all(agents.map((a) => a.stop()))
    dir.cleanup()
  })

  it('a client agent serves the UI; the switcher lists dc1 and dc2 and shows dc2 through ?dc=', async () => {
    const page = await browser.page()
    await page.goto(`http://${c1.httpAddr}/`)
    await page.waitForURL(/\/ui\/$/)
    await page.locator('[data-service="consul"]').waitFor({timeout: 10_000})
    const switcher = page.getByLabel('Datacenter')
    assert.deepEqual(await switcher.locator('option').allTextContents(), ['dc1 (this agent)', 'dc2'])
    await switcher.selectOption('dc2')
    await page.locator('[data-service="only-in-dc2"]').waitFor({timeout: 10_000})
    assert.match(page.url(), /\?dc=dc2$/)
    assert.match(await page.locator('main').innerText(), /Showing datacenter dc2/)
    // Links keep the datacenter: the service page is dc2's.
    await page.getByRole('link', {name: 'only-in-dc2'}).click()
    await page.locator('[data-instance="only-in-dc2"]').waitFor({timeout: 10_000})
    assert.match(page.url(), /\/ui\/services\/only-in-dc2\?dc=dc2$/)
    assert.match(await page.locator('main').innerText(), /far-node/)
    await page.goBack()
    await page.goBack()
    await page.locator('[data-service="consul"]').waitFor()
    assert.equal(await page.locator('[data-service="only-in-dc2"]').count(), 0)
    await page.close()
  })

  it('the nodes page shows the round trip from this agent to the other node', async () => {
    const page = await browser.page()
    await page.goto(`http://${c1.httpAddr}/ui/nodes`)
    const rtt = page.locator('[data-node="s1"] .rtt')
    await rtt.waitFor({timeout: 10_000})
    // Coordinates appear once both nodes have synced theirs (about a second with these settings).
    const t0 = performance.now()
    await page.waitForFunction(() => /\d+(\.\d+)? ms$/.test(document.querySelector('[data-node="s1"] .rtt')?.textContent ?? ''), undefined, {timeout: 20_000})
    console.log(`# RTT c1 → s1 shown as "${await rtt.innerText()}" after ${(performance.now() - t0).toFixed(0)} ms`)
    assert.equal(await page.locator('[data-node="c1"] .rtt').innerText(), 'this agent')
    await page.close()
  })
})
