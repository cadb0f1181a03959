import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {formatRecord, LogHub, parseLogLevel} from '../../../src/lib/logger.js'

describe('logger', () => {
  it('writes hclog lines: time, padded level, module, message, fields', () => {
    const line = formatRecord({time: new Date(), level: 'info', module: 'agent', message: 'Started HTTP server', fields: {address: '127.0.0.1:8500', network: 'tcp'}})
    assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}(Z|[+-]\d{4}) \[INFO\] {2}agent: Started HTTP server: address=127\.0\.0\.1:8500 network=tcp$/)
    const warn = formatRecord({time: new Date(), level: 'warn', module: 'agent.server', message: 'hi', fields: {reason: 'two words'}})
    assert.match(warn, / \[WARN\] {2}agent\.server: hi: reason="two words"$/)
  })

  it('filters by level and feeds subscribers at their own level', () => {
    const lines: string[] = []
    const hub = new LogHub('info', (l) => lines.push(l))
    const seen: string[] = []
    hub.subscribe('debug', (r) => seen.push(r.message))
    const log = hub.logger('agent')
    log.debug('quiet')
    log.info('loud')
    assert.equal(lines.length, 1)
    assert.deepEqual(seen, ['quiet', 'loud'])
  })

  it('parses levels case-insensitively', () => {
    assert.equal(parseLogLevel('WARN'), 'warn')
    assert.equal(parseLogLevel('Trace'), 'trace')
    assert.equal(parseLogLevel('loud'), undefined)
  })
})
