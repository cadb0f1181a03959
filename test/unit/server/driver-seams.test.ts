// The Raft driver and the pieces around it take their state machine, codec, storage, transport and
// clock as interfaces (server/driver-ports.ts, clock.ts): that is what lets the driver simulation
// (test/sim/driver.test.ts) run them unchanged on simulated time. This keeps it so.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {builtinModules} from 'node:module'
import {clockAndRandomUses, readSources, unitOf} from '../../helpers/imports.js'

const DRIVER_PIECES = [
  'src/lib/server/raft-driver.ts', 'src/lib/server/read-barrier.ts', 'src/lib/server/membership.ts', 'src/lib/server/raft-operator.ts',
  'src/lib/server/leader-hold.ts', 'src/lib/server/applied-waiters.ts', 'src/lib/server/driver-ports.ts',
]
const sources = readSources(process.cwd()).filter((f) => DRIVER_PIECES.includes(f.path))
const nodeBuiltins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]))

describe('the Raft driver seams', () => {
  it('finds every driver piece', () => {
    assert.deepEqual(sources.map((f) => f.path).sort(), [...DRIVER_PIECES].sort())
  })

  it('no driver piece imports the state machine, its codec or any other file of state/', () => {
    assert.deepEqual(sources.flatMap((f) => f.imports.filter((target) => unitOf(target) === 'state').map((target) => `${f.path} imports ${target}`)), [])
  })

  it('no driver piece reads a clock, sets a timer or imports a Node built-in: time comes from the injected Clock', () => {
    assert.deepEqual(sources.flatMap(clockAndRandomUses), [])
    assert.deepEqual(sources.flatMap((f) => f.packages.filter((name) => nodeBuiltins.has(name)).map((name) => `${f.path} imports ${name}`)), [])
  })
})
