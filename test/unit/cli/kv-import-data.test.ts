import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {parseImportData} from '../../../src/lib/cli/kv-import-data.js'

describe('kv import DATA', () => {
  it('reads export output, flags exact beyond 2^53, missing fields empty', () => {
    assert.deepEqual(parseImportData('[{"key": "a", "flags": 18446744073709551615, "value": "eA=="}, {"key": "b"}]'), [
      {key: 'a', flags: '18446744073709551615', value: 'eA=='},
      {key: 'b', flags: '0', value: ''},
    ])
    assert.deepEqual(parseImportData('null'), [], 'Go decodes null into an empty slice')
  })

  it("refuses wrong types with Go's messages, before anything is written", () => {
    const cases: Array<[string, string]> = [
      ['{}', 'json: cannot unmarshal object into Go value of type []*kv.Entry'],
      ['5', 'json: cannot unmarshal number into Go value of type []*kv.Entry'],
      ['[null]', 'json: cannot unmarshal null into Go value of type kv.Entry'],
      ['[{"key": "ok"}, 5]', 'json: cannot unmarshal number into Go value of type kv.Entry'],
      ['[{"key": 1}]', 'json: cannot unmarshal number into Go struct field Entry.key of type string'],
      ['[{"key": "k", "value": true}]', 'json: cannot unmarshal bool into Go struct field Entry.value of type string'],
      ['[{"key": "k", "flags": -1}]', 'json: cannot unmarshal number into Go struct field Entry.flags of type uint64'],
      ['[{"key": "k", "flags": "x"}]', 'json: cannot unmarshal string into Go struct field Entry.flags of type uint64'],
    ]
    for (const [data, message] of cases) assert.throws(() => parseImportData(data), {message}, data)
  })
})
