// The layering rule, enforced: dependencies point down the table in ARCHITECTURE.md's ```layers
// block (the test reads the rule from there, so the document and the rule cannot drift apart), no
// import cycles among files (type-only imports included), the composition root is imported by the
// `agent` command alone, and the pure cores import no I/O, read no clock and draw no ambient
// randomness: that is what lets a seeded simulation replay any run.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {existsSync, readFileSync} from 'node:fs'
import {builtinModules} from 'node:module'
import {join} from 'node:path'
import {clockAndRandomUses, importCycles, readLayers, readSources, unitOf, type SourceFile} from '../helpers/imports.js'

const root = process.cwd()
const sources = readSources(root)
const layers = readLayers(readFileSync(join(root, 'ARCHITECTURE.md'), 'utf8'))

/** Folders whose files are pure unless listed as drivers below. */
const PURE_FOLDERS = ['raft', 'gossip', 'state', 'coordinate']
/** The I/O side of those folders: disk stores, sockets, timers, crypto with random nonces. */
const DRIVERS = new Set([
  'src/lib/raft/file-storage.ts', 'src/lib/raft/log-store.ts', 'src/lib/raft/snapshot-store.ts', 'src/lib/raft/stable-store.ts',
  'src/lib/gossip/node.ts', 'src/lib/gossip/transport.ts', 'src/lib/gossip/keyring.ts',
])
/** Top-level modules the pure cores may use: pure themselves, and checked as such. */
const PURE_BASE = ['src/lib/duration.ts', 'src/lib/errors.ts', 'src/lib/handed-bytes.ts', 'src/lib/invariant.ts', 'src/lib/json.ts', 'src/lib/rng.ts']

const isPure = (path: string) => PURE_BASE.includes(path) || (PURE_FOLDERS.includes(unitOf(path)) && path.startsWith('src/lib/') && !DRIVERS.has(path))
const nodeBuiltins = new Set(builtinModules.flatMap((name) => [name, `node:${name}`]))

/** Layer number of every unit: 0 is the top line. */
function rankTable(table: string[][]): Map<string, number> {
  const ranks = new Map<string, number>()
  table.forEach((line, rank) => line.forEach((unit) => {
    assert.ok(!ranks.has(unit), `${unit} is listed twice in the layers block`)
    ranks.set(unit, rank)
  }))
  return ranks
}

/** "a imports b" for every import that goes up the table or sideways between two units of one line. */
function layerViolations(files: readonly SourceFile[], ranks: ReadonlyMap<string, number>): string[] {
  const violations: string[] = []
  for (const file of files) {
    const from = unitOf(file.path)
    for (const target of file.imports) {
      const to = unitOf(target)
      if (to === from) continue
      const a = ranks.get(from)
      const b = ranks.get(to)
      if (a === undefined || b === undefined) continue // reported by the coverage test
      if (b <= a) violations.push(`${file.path} imports ${target}: ${from} (layer ${a}) may only import layers below it, not ${to} (layer ${b})`)
    }
  }
  return violations
}

describe('layering (ARCHITECTURE.md "Layers")', () => {
  it('lists every folder and top-level module of src/lib exactly once, and nothing that does not exist', () => {
    const ranks = rankTable(layers)
    const units = new Set(sources.map((f) => unitOf(f.path)))
    for (const unit of units) assert.ok(ranks.has(unit), `${unit} is missing from the layers block in ARCHITECTURE.md`)
    for (const unit of ranks.keys()) assert.ok(units.has(unit), `the layers block names ${unit}, which has no source file`)
  })

  it('every import points to a lower layer', () => {
    assert.deepEqual(layerViolations(sources, rankTable(layers)), [])
  })

  it('has no import cycle between files, type-only imports included', () => {
    assert.deepEqual(importCycles(sources), [])
  })

  it('the composition root (runtime/) is imported by the agent command alone', () => {
    const importers = sources.filter((f) => unitOf(f.path) !== 'runtime' && f.imports.some((target) => unitOf(target) === 'runtime')).map((f) => f.path)
    assert.deepEqual(importers, ['src/commands/agent.ts'])
  })

  it('pure files of raft/, gossip/, state/ and coordinate/ import no I/O and no impure project file', () => {
    for (const driver of DRIVERS) assert.ok(existsSync(join(root, driver)), `${driver} is listed as a driver but does not exist`)
    const problems: string[] = []
    for (const file of sources.filter((f) => isPure(f.path))) {
      for (const name of file.packages) if (nodeBuiltins.has(name)) problems.push(`${file.path} imports ${name}`)
      for (const target of file.imports) if (!isPure(target)) problems.push(`${file.path} imports ${target}, which is not pure`)
    }
    assert.deepEqual(problems, [])
  })

  it('pure files read no clock, set no timer and draw no ambient randomness', () => {
    const pure = sources.filter((f) => isPure(f.path))
    assert.ok(pure.length > 40, `expected the cores' pure files, found ${pure.length}`)
    assert.deepEqual(pure.flatMap(clockAndRandomUses), [])
  })
})

describe('the layering checks themselves', () => {
  const file = (path: string, imports: string[], text = ''): SourceFile => ({path, text, imports, packages: []})

  it('finds an upward import and a sideways one', () => {
    const ranks = rankTable([['http'], ['server', 'client'], ['state']])
    const violations = layerViolations([
      file('src/lib/state/a.ts', ['src/lib/http/b.ts']),
      file('src/lib/server/c.ts', ['src/lib/client/d.ts']),
      file('src/lib/http/e.ts', ['src/lib/state/f.ts']),
    ], ranks)
    assert.equal(violations.length, 2)
    assert.match(violations[0], /^src\/lib\/state\/a\.ts imports src\/lib\/http\/b\.ts/)
    assert.match(violations[1], /server \(layer 1\) may only import layers below it, not client \(layer 1\)/)
  })

  it('finds a cycle through three files, and a file importing itself', () => {
    const cycles = importCycles([
      file('a.ts', ['b.ts']), file('b.ts', ['c.ts']), file('c.ts', ['a.ts']), file('d.ts', ['d.ts']), file('e.ts', ['a.ts']),
    ])
    assert.deepEqual(cycles.map((c) => c.join(' ')).sort(), ['a.ts b.ts c.ts', 'd.ts'])
  })

  it('finds clock, timer and randomness uses in code but not in comments', () => {
    const text = '// Date.now() in a comment\nconst t = Date.now()\nconst r = Math.random()\nsetTimeout(() => {}, 1)\nconst d = new Date(0)\n'
    assert.deepEqual(clockAndRandomUses(file('x.ts', [], text)).map((use) => use.replace(/^x\.ts:/, '')), ['2 Date.now', '3 Math.random', '4 setTimeout', '5 new Date'])
  })
})
