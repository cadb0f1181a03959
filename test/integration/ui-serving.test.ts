// The agent serving the web UI (src/lib/http/ui-assets.ts) over plain HTTP: `/` redirects to the
// content path, files come with their types, any other path under it is index.html (the browser
// router's pages), nothing leaves the directory, -ui-dir and -ui-content-path change what and
// where, and the UI keys Consul refuses are refused at start. The pages themselves: test/ui/.
import {after, before, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {connect} from 'node:net'
import {runCli, startAgent, tempDir, type TestAgent} from '../helpers/agent.js'
import {http} from '../helpers/http.js'

const SAFE = ['-http-port=0', '-dns-port=0', '-server-port=0', '-serf-lan-port=0', '-serf-wan-port=0', '-bind=127.0.0.1', '-client=127.0.0.1']

/** A request with the path exactly as written (undici would normalise `..`). */
function rawGet(httpAddr: string, path: string): Promise<string> {
  const [host, port] = httpAddr.split(':')
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), host, () => socket.end(`GET ${path} HTTP/1.1\r\nHost: ${httpAddr}\r\nConnection: close\r\n\r\n`))
    let text = ''
    socket.on('data', (chunk) => { text += chunk.toString('latin1') })
    socket.on('end', () => resolve(text))
    socket.on('error', reject)
    socket.setTimeout(10_000, () => socket.destroy(new Error('timeout')))
  })
}

describe('built-in web UI on a -dev agent', () => {
  let agent: TestAgent
  before(async () => { agent = await startAgent() })
  after(async () => { await agent.stop() })

  it('/ redirects to /ui/ (301) and /ui to /ui/', async () => {
    const root = await http(agent.httpAddr, 'GET', '/')
    assert.equal(root.status, 301)
    assert.equal(root.headers.location, '/ui/')
    const bare = await http(agent.httpAddr, 'GET', '/ui')
    assert.equal(bare.status, 301)
    assert.equal(bare.headers.location, '/ui/')
  })

  it('serves index.html with the content path filled in, and the bundled assets with their types', async () => {
    const index = await http(agent.httpAddr, 'GET', '/ui/')
    assert.equal(index.status, 200)
    assert.match(String(index.headers['content-type']), /^text\/html/)
    assert.match(index.text, /<meta name="coord-content-path" content="\/ui\/">/)
    assert.doesNotMatch(index.text, /__COORD_CONTENT_PATH__/)
    assert.match(String(index.headers['content-security-policy']), /default-src 'self'/)
    const script = await http(agent.httpAddr, 'GET', '/ui/assets/app.js')
    assert.equal(script.status, 200)
    assert.match(String(script.headers['content-type']), /^text\/javascript/)
    assert.ok(script.text.length > 1000, 'the bundle has content')
    const css = await http(agent.httpAddr, 'GET', '/ui/assets/app.css')
    assert.match(String(css.headers['content-type']), /^text\/css/)
    const gz = await http(agent.httpAddr, 'GET', '/ui/assets/app.js', undefined, {'accept-encoding': 'gzip'})
    assert.equal(gz.headers['content-encoding'], 'gzip')
  })

  it('answers index.html for a page path (shared URLs load), 404 for a missing asset', async () => {
    for (const path of ['/ui/services/web', '/ui/kv/app/config/', '/ui/nodes/n1?dc=dc1', '/ui/kv/a.json']) {
      const page = await http(agent.httpAddr, 'GET', path)
      assert.equal(page.status, 200, path)
      assert.match(page.text, /coord-content-path/, path)
    }
    const missing = await http(agent.httpAddr, 'GET', '/ui/assets/nope.js')
    assert.equal(missing.status, 404)
  })

  it('never serves a file outside its directory', async () => {
    for (const path of ['/ui/../../../../etc/passwd', '/ui/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/ui/assets/..%2f..%2f..%2fpackage.json', '/ui/..%5c..%5cpackage.json']) {
      const answer = await rawGet(agent.httpAddr, path)
      assert.doesNotMatch(answer, /root:x:0:0|"name": "coord"/, path)
    }
  })

  it('refuses writes to the UI (405) and leaves /v1/ to the API', async () => {
    const put = await http(agent.httpAddr, 'PUT', '/ui/index.html', 'x')
    assert.equal(put.status, 405)
    const api = await http(agent.httpAddr, 'GET', '/v1/status/leader')
    assert.equal(api.status, 200)
    assert.match(api.text, /^"127\.0\.0\.1:\d+"\n?$/)
  })

  it('/v1/internal/ui/services counts instances by health and blocks until the catalog changes', async () => {
    const first = await http(agent.httpAddr, 'GET', '/v1/internal/ui/services')
    const index = Number(first.headers['x-consul-index'])
    assert.ok(index > 0)
    const parked = http(agent.httpAddr, 'GET', `/v1/internal/ui/services?index=${index}&wait=10s`)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const reg = await http(agent.httpAddr, 'PUT', '/v1/agent/service/register', JSON.stringify({Name: 'web', ID: 'web1', Tags: ['v1'], Check: {TTL: '30s', Status: 'critical'}}))
    assert.equal(reg.status, 200)
    const t0 = performance.now()
    const woken = await parked
    const ms = performance.now() - t0
    console.log(`# internal/ui/services woke ${ms.toFixed(0)} ms after the registration`)
    const web = woken.json<Array<{Name: string; Tags: string[]; InstanceCount: number; InstancesCritical: number}>>().find((s) => s.Name === 'web')
    assert.ok(web, woken.text)
    assert.deepEqual([web.Tags, web.InstanceCount, web.InstancesCritical], [['v1'], 1, 1])
  })

  it('an instance\'s health counts its node\'s checks too (Consul\'s aggregated health)', async () => {
    const reg = (body: unknown) => http(agent.httpAddr, 'PUT', '/v1/catalog/register', JSON.stringify(body))
    assert.equal((await reg({Node: 'n-sick', Address: '10.9.0.1', Service: {ID: 'db-1', Service: 'db'}, Check: {CheckID: 'disk', Name: 'disk', Status: 'critical'}})).status, 200)
    assert.equal((await reg({Node: 'n-sick', Address: '10.9.0.1', Service: {ID: 'db-2', Service: 'db'}, Check: {CheckID: 'db-2-ok', Name: 'ok', ServiceID: 'db-2', Status: 'passing'}})).status, 200)
    assert.equal((await reg({Node: 'n-well', Address: '10.9.0.2', Service: {ID: 'db-3', Service: 'db'}, Check: {CheckID: 'db-3-warn', Name: 'slow', ServiceID: 'db-3', Status: 'warning'}})).status, 200)
    const db = (await http(agent.httpAddr, 'GET', '/v1/internal/ui/services')).json<Array<Record<string, unknown>>>().find((s) => s.Name === 'db')
    assert.deepEqual(db && [db.InstanceCount, db.InstancesCritical, db.InstancesWarning, db.InstancesPassing, db.ChecksCritical, db.ChecksWarning, db.ChecksPassing, db.Nodes],
      [3, 2, 1, 0, 2, 1, 1, ['n-sick', 'n-well']])
    const node = await http(agent.httpAddr, 'GET', '/v1/internal/ui/node/n-sick')
    assert.equal(node.status, 200)
    assert.deepEqual(node.json<{Services: Array<{ID: string}>}>().Services.map((s) => s.ID).sort(), ['db-1', 'db-2'])
    const missing = await http(agent.httpAddr, 'GET', '/v1/internal/ui/node/nope')
    assert.equal(missing.status, 404)
    assert.ok(Number(missing.headers['x-consul-index']) > 0, 'a missing node still has an index to block on')
  })
})

describe('web UI options', () => {
  const dir = tempDir('coord-ui-dir-')
  after(() => dir.cleanup())

  it('-ui-dir serves that directory and -ui-content-path moves it (/ redirects there)', async () => {
    const assets = join(dir.path, 'site')
    mkdirSync(assets, {recursive: true})
    writeFileSync(join(assets, 'index.html'), '<p>own UI at __COORD_CONTENT_PATH__</p>')
    writeFileSync(join(assets, 'hello.txt'), 'hello')
    const agent = await startAgent({args: [`-ui-dir=${assets}`, '-ui-content-path=/console']})
    try {
      const root = await http(agent.httpAddr, 'GET', '/')
      assert.equal(root.status, 301)
      assert.equal(root.headers.location, '/console/')
      const index = await http(agent.httpAddr, 'GET', '/console/anything')
      assert.equal(index.text, '<p>own UI at /console/</p>')
      assert.equal(index.headers['content-security-policy'], undefined, 'an operator\'s UI gets no policy from coord')
      assert.equal((await http(agent.httpAddr, 'GET', '/console/hello.txt')).text, 'hello')
      assert.equal((await http(agent.httpAddr, 'GET', '/ui/')).status, 404)
    } finally {
      await agent.stop()
    }
  })

  it('a reload applies a changed ui_config.content_path', async () => {
    const file = join(dir.path, 'ui.json')
    writeFileSync(file, JSON.stringify({ui_config: {content_path: '/first/'}}))
    const agent = await startAgent({args: [`-config-file=${file}`]})
    try {
      assert.equal((await http(agent.httpAddr, 'GET', '/first/')).status, 200)
      writeFileSync(file, JSON.stringify({ui_config: {content_path: '/second/'}}))
      const reload = await runCli(['reload'], {httpAddr: agent.httpAddr})
      assert.equal(reload.code, 0, reload.stderr)
      assert.equal((await http(agent.httpAddr, 'GET', '/second/')).status, 200)
      assert.equal((await http(agent.httpAddr, 'GET', '/first/')).status, 404)
      assert.equal((await http(agent.httpAddr, 'GET', '/')).headers.location, '/second/')
    } finally {
      await agent.stop()
    }
  })

  it('without -ui or -dev there is no UI: / says "Consul Agent"', async () => {
    const data = join(dir.path, 'data')
    const agent = await startAgent({dataDir: data})
    try {
      const root = await http(agent.httpAddr, 'GET', '/')
      assert.equal(root.status, 200)
      assert.equal(root.text, 'Consul Agent')
      assert.equal((await http(agent.httpAddr, 'GET', '/ui/')).status, 404)
    } finally {
      await agent.stop()
    }
  })

  it('refuses -ui with -ui-dir (outside -dev), a -ui-dir that is not a directory, and a content path over /v1/', async () => {
    const file = join(dir.path, 'plain')
    writeFileSync(file, 'x')
    const data = join(dir.path, 'data2')
    const cases: Array<[string[], RegExp]> = [
      [['-server', '-bootstrap', `-data-dir=${data}`, '-ui', `-ui-dir=${dir.path}`], /^==> ui_config\.dir: both ui_config\.enabled and ui_config\.dir \(or -ui and -ui-dir\) were specified/],
      [['-dev', `-ui-dir=${file}`], /^==> ui_config\.dir: "\S+plain" is not a readable directory$/],
      [['-dev', '-ui-content-path=/v1/kv'], /^==> ui_config\.content_path: "\/v1\/kv\/" would hide the HTTP API/],
      [['-dev', '-ui-content-path=/a b'], /^==> ui_config\.content_path: "\/a b\/" may hold only URL path characters/],
    ]
    for (const [args, says] of cases) {
      const r = await runCli(['agent', ...SAFE, ...args], {timeoutMs: 20_000})
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr.trim(), says)
    }
  })
})
