// Output layouts of the kv commands (Consul docs: commands/kv), kept apart from the commands so they can be
// tested without an agent.
import type {KVPair} from '../api/kv.js'
import {goJsonEscape} from './go-compat.js'
import {tabwrite} from './render.js'
import {stringifyJson} from '../json.js'

/** prettyKVPair: tabwriter(minwidth 0, tabwidth 2, padding 6); the value column starts at 17. */
export function renderDetailed(pair: KVPair, base64: boolean): Buffer {
  const head = tabwrite([
    `CreateIndex\t${pair.createIndex}`,
    `Flags\t${pair.flags}`,
    `Key\t${pair.key}`,
    `LockIndex\t${pair.lockIndex}`,
    `ModifyIndex\t${pair.modifyIndex}`,
    `Session\t${pair.session ?? '-'}`,
    'Value\t',
  ].join('\n'), {padding: 6})
  // The value is the last cell: it never widens the column, so it is appended as raw bytes.
  return Buffer.concat([Buffer.from(head), base64 ? Buffer.from(pair.value.toString('base64')) : pair.value])
}

/** kv export: a TAB-indented JSON array of {key, flags, value(base64)}, Go-escaped. */
export function renderExport(pairs: KVPair[]): string {
  if (pairs.length === 0) return '[]'
  const entries = pairs.map((pair) => ({key: pair.key, flags: pair.flags, value: pair.value.toString('base64')}))
  return goJsonEscape(stringifyJson(entries, '\t'))
}

/** -format=json: the API's KVPair shape (PascalCase, base64 Value), Flags exact. */
export function kvPairJson(pair: KVPair): Record<string, unknown> {
  return {
    Key: pair.key, CreateIndex: pair.createIndex, ModifyIndex: pair.modifyIndex, LockIndex: pair.lockIndex,
    Flags: pair.flags, Value: pair.value.length === 0 ? null : pair.value.toString('base64'), Session: pair.session ?? '',
  }
}
