// The web UI against a real agent with ACLs on (default deny): a request the token may not make
// shows the 403 in the page with a way to set a token; the token typed on the ACL page is kept in
// the browser's localStorage and sent as X-Consul-Token, so the KV browser then shows what that
// token may read and nothing else, without edit controls where it may not write; a management
// token sees the editor, and the token, policy (with its rules) and role lists. axe-core on the ACL pages.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {randomUUID} from 'node:crypto'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {runCli, startAgent, tempDir, type TestAgent} from '../helpers/agent.js'
import {http} from '../helpers/http.js'
import {axeViolations, browserMissing, launchBrowser, type TestBrowser} from '../helpers/browser.js'

const skip = browserMissing()

describe('web UI with ACLs on', {skip}, () => {
  const dir = tempDir('coord-ui-acl-')
  const root = randomUUID()
  let agent: TestAgent
  let browser: TestBrowser
  let reader = {AccessorID: '', SecretID: ''}
  const url = (path: string) => `http://${agent.httpAddr}/ui/${path}`

  before(async () => {
    const config = join(dir.path, 'acl.json')
    writeFileSync(config, JSON.stringify({acl: {enabled: true, default_policy: 'deny', tokens: {initial_management: root}}}))
    agent = await startAgent({args: [`-config-file=${config}`]})
    const cli = (args: string[]) => runCli(args, {httpAddr: agent.httpAddr, env: {CONSUL_HTTP_TOKEN: root}})
    let ready = false
    for (let i = 0; i < 100 && !ready; i++) {
      ready = (await cli(['acl', 'token', 'read', '-self'])).code === 0
      if (!ready) await new Promise((resolve) => setTimeout(resolve, 100))
    }
    assert.ok(ready, 'the initial management token works')
    for (const key of ['app/one', 'app/two', 'other/secret']) assert.equal((await http(agent.httpAddr, 'PUT', `/v1/kv/${key}`, 'v', {'X-Consul-Token': root})).status, 200)
    assert.equal((await cli(['acl', 'policy', 'create', '-name', 'app-read', '-description', 'reads app/', '-rules', 'key_prefix "app/" {\n  policy = "read"\n}\n'])).code, 0)
    assert.equal((await cli(['acl', 'role', 'create', '-name', 'app-role', '-policy-name', 'app-read'])).code, 0)
    reader = JSON.parse((await cli(['acl', 'token', 'create', '-description', 'ui reader', '-policy-name', 'app-read', '-format=json'])).stdout) as typeof reader
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await agent?.stop()
    dir.cleanup()
  })

  it('a 403 shows in the page with a link to set a token; the token is kept in the browser and only its keys show', async () => {
    const page = await browser.page()
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    const tokensSent: string[] = []
    page.on('request', (req) => { if (req.url().includes('/v1/')) tokensSent.push(req.headers()['x-consul-token'] ?? '') })
    await page.goto(url('acl/tokens'))
    const denied = page.locator('.message.error[data-status="403"]')
    await denied.waitFor({timeout: 10_000})
    assert.match(await denied.innerText(), /Permission denied \(403\)/)
    await denied.getByRole('link', {name: 'Set an ACL token'}).click()
    await page.getByLabel('Token (SecretID)').fill(reader.SecretID)
    await page.getByRole('button', {name: 'Use this token'}).click()
    await page.locator(`[data-self="${reader.AccessorID}"]`).waitFor({timeout: 10_000})
    assert.match(await page.locator(`[data-self="${reader.AccessorID}"]`).innerText(), /app-read/)
    assert.equal(await page.evaluate(() => localStorage.getItem('coord-acl-token')), reader.SecretID)
    assert.equal(await page.getByLabel('Token (SecretID)').inputValue(), '', 'the secret is not left in the form')

    // A fresh load keeps the token (localStorage) and the KV browser shows only what it may read.
    await page.goto(url('kv/'))
    await page.locator('[data-key="app/"]').waitFor({timeout: 10_000})
    assert.equal(await page.locator('[data-key="other/"]').count(), 0, 'other/ is not readable: absent')
    await page.goto(url('kv/app/'))
    await page.locator('[data-key="app/one"]').waitFor({timeout: 10_000})
    // Read-only: no create or delete controls, and the key shows without its editor.
    await page.waitForTimeout(500) // the authorize answer
    assert.equal(await page.getByRole('button', {name: 'Create a key or folder'}).count(), 0)
    assert.equal(await page.getByRole('button', {name: 'Delete app/one'}).count(), 0)
    await page.goto(url('kv/app/one'))
    await page.locator('[data-readonly]').waitFor({timeout: 10_000})
    assert.equal(await page.getByRole('form', {name: 'Edit value'}).count(), 0)
    assert.ok(tokensSent.includes(reader.SecretID), 'requests carry X-Consul-Token')
    await page.goto(url('kv/other/secret'))
    await page.locator('.message.error[data-status="403"]').waitFor({timeout: 10_000})
    assert.deepEqual(errors, [])
    await page.close()
  })

  it('a management token sees tokens, policies with their rules, and roles; forgetting it goes back to the anonymous token', async () => {
    const page = await browser.page()
    await page.goto(url('acl'))
    await page.getByLabel('Token (SecretID)').fill(root)
    await page.getByRole('button', {name: 'Use this token'}).click()
    await page.locator('[data-self]').waitFor({timeout: 10_000})
    await page.getByRole('link', {name: 'Tokens', exact: true}).click()
    await page.locator(`[data-token="${reader.AccessorID}"]`).waitFor({timeout: 10_000})
    assert.match(await page.locator(`[data-token="${reader.AccessorID}"]`).innerText(), /ui reader/)
    await page.getByRole('link', {name: 'Policies', exact: true}).click()
    await page.locator('[data-policy="global-management"]').waitFor({timeout: 10_000})
    await page.getByRole('link', {name: 'app-read', exact: true}).click()
    await page.locator('[data-policy-rules="app-read"]').waitFor({timeout: 10_000})
    assert.match(await page.locator('[data-policy-rules="app-read"]').innerText(), /key_prefix "app\/"/)
    await page.getByRole('link', {name: 'Roles', exact: true}).click()
    await page.locator('[data-role="app-role"]').waitFor({timeout: 10_000})
    // The management token may write: the editor and the controls are there.
    await page.goto(url('kv/app/one'))
    await page.getByRole('form', {name: 'Edit value'}).waitFor({timeout: 10_000})
    await page.goto(url('kv/app/'))
    await page.getByRole('button', {name: 'Delete app/one'}).waitFor({timeout: 10_000})
    for (const path of ['acl', 'acl/tokens', 'acl/policies', 'acl/roles']) {
      await page.goto(url(path))
      await page.locator('main h1').waitFor()
      await page.waitForTimeout(300)
      const serious = (await axeViolations(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical')
      assert.deepEqual(serious.map((v) => `${path}: ${v.id} ${v.help}`), [])
    }
    await page.goto(url('acl'))
    await page.getByRole('button', {name: 'Forget the token'}).click()
    await page.locator('[data-self="00000000-0000-0000-0000-000000000002"]').waitFor({timeout: 10_000}) // the anonymous token
    assert.equal(await page.evaluate(() => localStorage.getItem('coord-acl-token')), null)
    await page.close()
  })
})
