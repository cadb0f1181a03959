// DNS answers only what the agent's default token may read (AclDnsCatalog over the in-memory catalog).
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {MemoryDnsCatalog} from '../../../src/lib/dns/catalog.js'
import {AclDnsCatalog} from '../../../src/lib/dns/acl-catalog.js'
import {mergeRules, policyAuthorizer} from '../../../src/lib/acl/authorizer.js'
import {parseRules} from '../../../src/lib/acl/rules.js'

const opts = {datacenter: 'dc1', allowStale: true, maxStaleMs: 0}
const authz = (rules: string) => policyAuthorizer(mergeRules([parseRules(rules)]), 'deny')

describe('DNS with ACLs on', () => {
  const memory = new MemoryDnsCatalog()
    .addInstance({node: 'web-1', nodeAddress: '10.0.0.1', serviceId: 'web', port: 80})
    .addInstance({node: 'db-1', nodeAddress: '10.0.0.2', serviceId: 'web', port: 80})
    .addInstance({node: 'db-1', nodeAddress: '10.0.0.2', serviceId: 'db', port: 5432})

  it('service lookups need service:read and node:read on each instance', async () => {
    const catalog = new AclDnsCatalog(memory, () => authz('service "web" { policy = "read" }\nnode_prefix "web-" { policy = "read" }'))
    assert.deepEqual((await catalog.serviceInstances('web', opts)).map((i) => i.node), ['web-1'])
    assert.deepEqual(await catalog.serviceInstances('db', opts), [])
  })

  it('node lookups need node:read; the anonymous token under default deny sees nothing', async () => {
    const reader = new AclDnsCatalog(memory, () => authz('node_prefix "web-" { policy = "read" }'))
    assert.equal((await reader.node('web-1', opts))?.node, 'web-1')
    assert.equal(await reader.node('db-1', opts), undefined)
    assert.deepEqual((await reader.nodes(opts)).map((n) => n.node), ['web-1'])
    const anonymous = new AclDnsCatalog(memory, () => authz(''))
    assert.deepEqual(await anonymous.nodes(opts), [])
  })

  it('an unknown default token answers nothing (the lookup fails, as the resolver answers SERVFAIL)', async () => {
    const broken = new AclDnsCatalog(memory, () => { throw new Error('ACL not found') })
    await assert.rejects(() => broken.serviceInstances('web', opts), /ACL not found/)
  })
})
