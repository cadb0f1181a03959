/* eslint-disable no-control-regex -- terminal escape codes are what these tests look for */
// The terminal decision (lib/cli/terminal.ts) and the styled layouts built on it: colour only for a
// person (or FORCE_COLOR), never shifting a column; Consul's command list for an unknown command.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import type {AgentMember} from '../../../src/lib/api/agent.js'
import {renderMembers} from '../../../src/lib/cli/members-render.js'
import {renderPeers} from '../../../src/lib/cli/operator-render.js'
import {columnize} from '../../../src/lib/cli/render.js'
import {inspectTables} from '../../../src/lib/cli/snapshot-render.js'
import {boxTable, palette, terminalState} from '../../../src/lib/cli/terminal.js'
import {renderCommandList} from '../../../src/lib/cli/usage.js'

const tty = {stdoutIsTTY: true, stderrIsTTY: true, stderrColumns: 80}
const piped = {stdoutIsTTY: false, stderrIsTTY: false}
const stripAnsi = (text: string): string => text.replace(/\x1b\[[0-9;]*m/g, '')

const member = (name: string, status: number): AgentMember => ({
  Name: name, Addr: '10.0.0.1', Port: 8301, Status: status, Tags: {role: 'node', dc: 'dc1', vsn: '2', build: '1.17.0:abc'},
  ProtocolMin: 1, ProtocolMax: 5, ProtocolCur: 2, DelegateMin: 2, DelegateMax: 5, DelegateCur: 4,
})

describe('terminalState: who decides colour and spinners', () => {
  it('colour on a terminal; off when piped, with NO_COLOR, or TERM=dumb', () => {
    assert.equal(terminalState(tty, {}).colorEnabled, true)
    assert.equal(terminalState(piped, {}).colorEnabled, false)
    assert.equal(terminalState(tty, {NO_COLOR: '1'}).colorEnabled, false)
    assert.equal(terminalState(tty, {NO_COLOR: ''}).colorEnabled, true, 'an empty NO_COLOR is unset (no-color.org)')
    assert.equal(terminalState(tty, {TERM: 'dumb'}).colorEnabled, false)
  })
  it('FORCE_COLOR overrides both ways; 0/false turn colour off', () => {
    assert.equal(terminalState(piped, {FORCE_COLOR: '1'}).colorEnabled, true)
    assert.equal(terminalState(tty, {FORCE_COLOR: '1', NO_COLOR: '1'}).colorEnabled, true)
    assert.equal(terminalState(tty, {FORCE_COLOR: '0'}).colorEnabled, false)
    assert.equal(terminalState(tty, {FORCE_COLOR: 'false'}).colorEnabled, false)
  })
  it('a spinner needs stderr to be a terminal with a width; FORCE_COLOR never forces one', () => {
    assert.equal(terminalState(tty, {}).spinnerEnabled, true)
    assert.equal(terminalState(tty, {NO_COLOR: '1'}).spinnerEnabled, true, 'NO_COLOR is about colour only')
    assert.equal(terminalState({...tty, stderrColumns: 0}, {}).spinnerEnabled, false)
    assert.equal(terminalState({...tty, stderrIsTTY: false}, {}).spinnerEnabled, false)
    assert.equal(terminalState(piped, {FORCE_COLOR: '1'}).spinnerEnabled, false)
    assert.equal(terminalState(tty, {TERM: 'dumb'}).spinnerEnabled, false)
  })
})

describe('styled layouts', () => {
  it('status words in their colours; columns measured on the plain text', async () => {
    const {status} = await palette({colorEnabled: true})
    assert.equal(status('alive'), '\x1b[32malive\x1b[39m')
    assert.equal(status('passing'), '\x1b[32mpassing\x1b[39m')
    assert.equal(status('failed'), '\x1b[31mfailed\x1b[39m')
    assert.equal(status('critical'), '\x1b[31mcritical\x1b[39m')
    assert.equal(status('left'), '\x1b[33mleft\x1b[39m')
    assert.equal(status('warning'), '\x1b[33mwarning\x1b[39m')
    assert.equal(status('follower'), 'follower')
    const members = [member('a', 1), member('node-long-name', 4), member('c', 3)]
    const plain = renderMembers(members)
    const coloured = renderMembers(members, status)
    assert.deepEqual(coloured.map(stripAnsi), plain)
    assert.match(coloured[2], /\x1b\[31mfailed\x1b\[39m/)
    assert.equal(coloured[0], plain[0], 'the header is never coloured')
  })
  it('colour off: identity styles, bytes as before', async () => {
    const {status, bold} = await palette({colorEnabled: false})
    assert.equal(status('alive'), 'alive')
    assert.equal(bold('x'), 'x')
    const rows = [['A', 'B'], ['x', 'alive']]
    assert.deepEqual(columnize(rows, (cell) => status(cell)), columnize(rows))
  })
  it('list-peers colours the leader only', async () => {
    const {status} = await palette({colorEnabled: true})
    const config = {Index: 1, Servers: [
      {ID: 'a', Node: 'n1', Address: '127.0.0.1:8300', Leader: true, Voter: true, ProtocolVersion: '3', LastIndex: 5},
      {ID: 'b', Node: 'n2', Address: '127.0.0.2:8300', Leader: false, Voter: true, ProtocolVersion: '3', LastIndex: 4},
    ]} as unknown as Parameters<typeof renderPeers>[0]
    const lines = renderPeers(config, status)
    assert.match(lines[1], /\x1b\[32mleader\x1b\[39m/)
    assert.doesNotMatch(lines[2], /\x1b/)
    assert.deepEqual(lines.map(stripAnsi), renderPeers(config))
  })
  it('snapshot inspect tables hold the same figures as the tabwriter layout', async () => {
    const info = {
      Meta: {ID: '2-13-1', Size: 1234, Index: 13, Term: 2, Version: 1},
      Stats: [{Name: 'KVS', Count: 3, Sum: 300}], StatsKV: null, TotalSize: 300, TotalSizeKV: 0,
    } as unknown as Parameters<typeof inspectTables>[0]
    const tables = inspectTables(info)
    assert.equal(tables.length, 2)
    const text = await boxTable({colorEnabled: false}, ...tables[1])
    assert.match(text, /┌/)
    assert.match(text, /│ KVS\s+│ 3\s+│ 300B\s+│/)
    assert.match(text, /│ Total\s+│\s+│ 300B\s+│/)
    assert.doesNotMatch(text, /\x1b/, 'no colour codes when colour is off')
  })
})

describe('renderCommandList (an unknown command)', () => {
  it('prints Consul\'s usage line and the sorted, aligned command list with one-sentence synopses', () => {
    const text = renderCommandList('coord', [
      {name: 'members', synopsis: 'Outputs the members. Exits 2 when none match.'},
      {name: 'kv', synopsis: 'Interact with the key-value store'},
      {name: 'force-leave', synopsis: 'Forces a member to leave (a failed node).'},
    ])
    assert.equal(text, [
      'Usage: coord [--version] [--help] <command> [<args>]',
      '',
      'Available commands are:',
      '    force-leave    Forces a member to leave (a failed node)',
      '    kv             Interact with the key-value store',
      '    members        Outputs the members',
      '',
    ].join('\n'))
  })
})
