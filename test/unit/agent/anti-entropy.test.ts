import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {parseCheckDefinition, parseServiceDefinition} from '../../../src/lib/agent/definitions.js'
import {LocalState} from '../../../src/lib/agent/local-state.js'
import {AntiEntropy} from '../../../src/lib/agent/anti-entropy.js'
import type {CatalogCommand} from '../../../src/lib/agent/catalog-requests.js'
import {LogHub} from '../../../src/lib/logger.js'

const log = new LogHub('error', () => {}).logger('test')
const self = {node: 'n1', id: '11111111-2222-3333-4444-555555555555', address: '10.0.0.1', datacenter: 'dc1'}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function summary(command: CatalogCommand): string {
  if (command.type === 'catalog-deregister') return `dereg ${command.request.ServiceID ? `service ${command.request.ServiceID}` : `check ${command.request.CheckID}`}`
  const r = command.request
  return `reg ${r.Service ? `service ${r.Service.ID} checks=${(r.Checks ?? []).map((c) => c.CheckID).join(',')}` : `check ${r.Check?.CheckID}`} skipNode=${r.SkipNodeUpdate}`
}

describe('anti-entropy', () => {
  it('full sync pushes only differences: registers what the catalog lacks or holds differently, removes what the agent does not know, leaves serfHealth and the consul service alone', async () => {
    const local = new LocalState()
    const web = parseServiceDefinition({Name: 'web', Port: 80, Check: {TTL: '10s'}})
    local.addService(web.service, web.checks, 'api')
    local.addCheck(parseCheckDefinition({Name: 'mem', TTL: '10s'}), 'config')
    const db = parseServiceDefinition({Name: 'db', Port: 5432})
    local.addService(db.service, [], 'api')
    const sent: CatalogCommand[] = []
    const webRemote = {ID: 'web', Service: 'web', Tags: [], Address: '', TaggedAddresses: {}, Meta: {}, Port: 80, Weights: {Passing: 1, Warning: 1}, EnableTagOverride: false, Kind: ''}
    const check = (id: string, status: string, serviceId = '') => ({CheckID: id, Name: id === 'service:web' ? "Service 'web' check" : id, Status: status, Notes: '', Output: '', ServiceID: serviceId})
    const ae = new AntiEntropy({
      local, self, log, propose: async (command) => { sent.push(command) },
      catalog: {nodeEntries: async () => ({
        nodeExists: true,
        services: [webRemote, {...webRemote, ID: 'db', Service: 'db', Port: 1}, {...webRemote, ID: 'stale-svc', Service: 'stale'}, {...webRemote, ID: 'consul', Service: 'consul', Port: 8300}],
        checks: [check('serfHealth', 'passing'), check('old-check', 'passing'), check('service:web', 'critical', 'web'), check('mem', 'passing')],
      })},
    })
    try {
      await ae.syncFull()
      assert.deepEqual(sent.map(summary).sort(), [
        'dereg check old-check', 'dereg service stale-svc', 'reg check mem skipNode=true', 'reg service db checks= skipNode=true',
      ])
      const reg = sent.find((c) => c.type === 'catalog-register' && c.request.Service)
      assert.equal(reg?.type === 'catalog-register' && reg.request.Service?.Port, 5432)
      assert.ok(sent.every((c) => c.request.Node === 'n1'))
    } finally {
      ae.stop()
    }
  })

  it('an output-only change waits for the next full sync; a status change goes at once', async () => {
    const local = new LocalState()
    const sent: CatalogCommand[] = []
    const ae = new AntiEntropy({local, self, log, propose: async (command) => { sent.push(command) }})
    try {
      local.addCheck(parseCheckDefinition({Name: 'beat', TTL: '10s'}), 'api')
      await sleep(300)
      local.updateCheck('beat', 'critical', 'still down')
      await sleep(300)
      assert.deepEqual(sent.map(summary), ['reg check beat skipNode=false'], 'only the registration itself')
      local.updateCheck('beat', 'passing', 'up')
      const deadline = Date.now() + 5000
      while (sent.length < 2 && Date.now() < deadline) await sleep(10)
      assert.equal(sent.length, 2)
      assert.equal(sent[1].type === 'catalog-register' && sent[1].request.Check?.Status, 'passing')
    } finally {
      ae.stop()
    }
  })

  it('sends a delta for each change and writes the node record only when the catalog lacks it', async () => {
    const local = new LocalState()
    const sent: CatalogCommand[] = []
    const ae = new AntiEntropy({
      local, self, log, propose: async (command) => { sent.push(command) },
      catalog: {nodeEntries: async () => ({nodeExists: false, services: [], checks: []})},
    })
    try {
      await ae.syncFull()
      const db = parseServiceDefinition({Name: 'db', Port: 5432})
      local.addService(db.service, db.checks, 'api')
      const deadline = Date.now() + 5000
      while (sent.length < 1 && Date.now() < deadline) await sleep(10)
      assert.deepEqual(sent.map(summary), ['reg service db checks= skipNode=false'])
      local.removeService('db')
      while (sent.length < 2 && Date.now() < deadline) await sleep(10)
      assert.deepEqual(sent.slice(1).map(summary), ['dereg service db'])
    } finally {
      ae.stop()
    }
  })

  it('retries a failed push with backoff and keeps the entry dirty', async () => {
    const local = new LocalState()
    let calls = 0
    const ae = new AntiEntropy({
      local, self, log, propose: async () => {
        calls++
        if (calls === 1) throw new Error('No cluster leader')
      },
    })
    try {
      const web = parseServiceDefinition({Name: 'web'})
      local.addService(web.service, [], 'api')
      // First attempt ~50 ms after the change fails; the retry comes 1 s later.
      const deadline = Date.now() + 8000
      while (calls < 2 && Date.now() < deadline) await sleep(20)
      assert.equal(calls, 2)
    } finally {
      ae.stop()
    }
  })
})
