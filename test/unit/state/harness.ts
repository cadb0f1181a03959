// A tiny driver for state-machine tests: it plays the Raft log (consecutive indexes) and the
// proposer's clock (`now`, advanced by hand), so each scenario reads as a list of commands.

import {StateMachine} from '../../../src/lib/state/state-machine.js'
import type {ApplyResult, Command, HealthStatus, KVOp, Session, TxnOp, TxnResult} from '../../../src/lib/state/types.js'

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)
export const text = (b: Uint8Array): string => new TextDecoder().decode(b)

type Body<T extends Command['type']> = Omit<Extract<Command, {type: T}>, 'type' | 'now'>

export class Harness {
  readonly sm = new StateMachine()
  index = 0
  now = 1_700_000_000_000

  apply(cmd: Command): ApplyResult {
    this.index += 1
    return this.sm.apply(this.index, cmd)
  }

  cmd<T extends Command['type']>(type: T, body: Body<T>): ApplyResult {
    return this.apply({type, now: this.now, ...body} as unknown as Command)
  }

  /** Apply one KV op; returns PUT/DELETE's boolean answer, throwing on a hard error. */
  kv(op: KVOp): boolean {
    const result = this.cmd('kv', {op})
    if (result.type !== 'kv') throw new Error(`unexpected result ${result.type}`)
    if (result.error !== undefined) throw new Error(result.error)
    return result.ok
  }

  kvResult(op: KVOp): ApplyResult {
    return this.cmd('kv', {op})
  }

  put(key: string, value: string, flags = 0n): boolean {
    return this.kv({verb: 'set', key, value: bytes(value), flags})
  }

  txn(ops: TxnOp[]): TxnResult {
    const result = this.cmd('txn', {ops})
    if (result.type !== 'txn') throw new Error(`unexpected result ${result.type}`)
    return result.txn
  }

  registerNode(node: string, checks: Array<{checkId: string; status: HealthStatus}> = [{checkId: 'serfHealth', status: 'passing'}]): void {
    this.cmd('node-register', {
      node: {id: `id-${node}`, node, address: '127.0.0.1', datacenter: 'dc1'},
      checks: checks.map((c) => ({node, checkId: c.checkId, name: c.checkId, status: c.status, notes: '', output: ''})),
    })
  }

  createSession(id: string, fields: Partial<Omit<Session, 'id' | 'createIndex' | 'modifyIndex'>> = {}): ApplyResult {
    return this.cmd('session-create', {
      session: {
        id, name: '', node: 'n1', nodeChecks: ['serfHealth'], serviceChecks: [], lockDelayMs: 15_000,
        behavior: 'release', ttl: '', ...fields,
      },
    })
  }

  destroySession(id: string): void {
    this.cmd('session-destroy', {id})
  }
}
