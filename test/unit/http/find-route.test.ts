// Route lookup (server.ts findRoute) goes through an index by the path's first two segments; it
// must pick exactly the route the plain longest-prefix-first scan picks, for every kind of route:
// prefixes under a segment pair, exact paths, a bare '/v1/', a non-exact prefix without a slash.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import type {Route} from '../../../src/lib/http/context.js'
import {findRoute} from '../../../src/lib/http/server.js'

const route = (path: string, exact = false): Route => ({path, ...(exact ? {exact} : {}), methods: {}})

function scan(routes: Route[], path: string): Route | undefined {
  return routes.find((r) => (r.exact ? path === r.path : path.startsWith(r.path)))
}

describe('findRoute', () => {
  const routes = [
    route('/v1/session/info/'), route('/v1/agent/service/'), route('/v1/session/'), route('/v1/catalog'), route('/v1/kv/'),
    route('/v1/status/leader', true), route('/v1/kv', true), route('/v1/agent'), route('/v1/'), route('/ui/'), route('/', true),
  ].sort((a, b) => b.path.length - a.path.length)
  const paths = ['/v1/kv/a', '/v1/kv/', '/v1/kv', '/v1/kvx', '/v1/kv/a/b/c', '/v1/session/info/x', '/v1/session/list', '/v1/session',
    '/v1/agent/service/web', '/v1/agent/self', '/v1/agents', '/v1/agent', '/v1/catalog/nodes', '/v1/catalogue', '/v1/status/leader',
    '/v1/status/peers', '/v1/nothing', '/v1/', '/v1', '/ui/', '/ui/x', '/', '', '/x', '//', '/v1//kv']

  it('picks the route the longest-prefix scan picks, with the rest of the path as tail', () => {
    for (const path of paths) {
      const want = scan(routes, path)
      const got = findRoute(routes, path)
      assert.equal(got?.route, want, path)
      if (want) assert.equal(got?.tail, path.slice(want.path.length), path)
    }
  })

  it('keeps separate indexes for separate route lists', () => {
    const other = [route('/v1/kv/')]
    assert.equal(findRoute(other, '/v1/kv/a')?.route, other[0])
    assert.equal(findRoute(other, '/v1/session/x'), undefined)
    assert.equal(findRoute(routes, '/v1/session/x')?.route.path, '/v1/session/')
  })
})
