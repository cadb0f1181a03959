#!/usr/bin/env node
// Bundles each command's module graph for the CLI's fast path (bin/run.js → runFromCommandIndex): a
// command run from dist/src/commands imports ~20 of the project's modules one by one through Node's
// ESM loader, and parsing oclif.manifest.json (~300 KB) to find it costs as much again; a shell
// script calling `coord kv get` pays that on every call. esbuild bundles each command into one file
// of dist/src/bundle/ (npm packages and node: builtins left as imports; no shared chunks: splitting
// cut kv get into 14 of them, each one more import),
// and dist/src/bundle/index.json maps each command id to the file to load.
// A command whose bundle needs nothing but Node's builtins is written as CommonJS (`.cjs`), and so
// is the entry's own helper (src/lib/cli/argv.ts → argv.cjs): bin/run.js is CommonJS and require()s
// them, so such a command never starts Node's ESM loader (its set-up and its file reads on the
// thread pool cost a cold `coord kv get` 15-20 % of a bare `node -e 0` in CPU, on top of node:http's own
// cost). A bundle that imports an npm package stays an ES module (several are ESM-only, which
// require() cannot load before Node 20.19/22.12) and is import()ed.
// A module that finds files relative to itself (import.meta: the UI assets, package.json, the
// agent binary) would look in the wrong place from a bundle, so a command whose graph holds one
// keeps its unbundled module; so do help, topics and every command when no index is there (oclif).
// Runs after `oclif manifest` in `npm run build`.
import {build} from 'esbuild'
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {isBuiltin} from 'node:module'
import {relative, resolve} from 'node:path'

const root = process.cwd()
const outdir = resolve(root, 'dist/src/bundle')
const manifest = JSON.parse(readFileSync(resolve(root, 'oclif.manifest.json'), 'utf8'))
const commands = Object.entries(manifest.commands).filter(([, c]) => Array.isArray(c.relativePath))

const common = {bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'error'}

// Pass 1: each command's graph, to find those that reach a location-bound module.
const graph = await build({...common, entryPoints: commands.map(([, c]) => resolve(root, ...c.relativePath)), outdir, write: false, metafile: true})
const locationBound = new Map()
const reachesLocationBound = (input) => {
  if (!locationBound.has(input)) locationBound.set(input, /\bimport\.meta\b/.test(readFileSync(resolve(root, input), 'utf8')))
  return locationBound.get(input)
}
const bundleable = new Set()
const builtinsOnly = new Set()
for (const output of Object.values(graph.metafile.outputs)) {
  if (!output.entryPoint || Object.keys(output.inputs).some(reachesLocationBound)) continue
  const entry = resolve(root, output.entryPoint)
  bundleable.add(entry)
  if (output.imports.every((i) => i.external === false || isBuiltin(i.path))) builtinsOnly.add(entry)
}

// Pass 2: the bundles themselves, entry files named after the command modules' paths.
const commandsDir = resolve(root, 'dist/src/commands')
rmSync(outdir, {recursive: true, force: true})
mkdirSync(outdir, {recursive: true})
// (tsc's "use strict" heads each module, so a CommonJS bundle stays as strict as the ES modules were.)
const cjs = {...common, format: 'cjs', outExtension: {'.js': '.cjs'}}
await build({...cjs, entryPoints: [...builtinsOnly], outdir, outbase: commandsDir})
await build({...common, entryPoints: [...bundleable].filter((e) => !builtinsOnly.has(e)), outdir, outbase: commandsDir})
await build({...cjs, entryPoints: [resolve(root, 'dist/src/lib/cli/argv.js')], outfile: resolve(outdir, 'argv.cjs')})

const index = {}
for (const [id, command] of commands) {
  const source = resolve(root, ...command.relativePath)
  const bundled = resolve(outdir, relative(commandsDir, source))
  const target = builtinsOnly.has(source) ? bundled.replace(/\.js$/, '.cjs') : bundleable.has(source) ? bundled : source
  index[id] = relative(root, target).split(/[\\/]/)
}
writeFileSync(resolve(outdir, 'index.json'), `${JSON.stringify(index)}\n`)
console.log(`commands: ${bundleable.size} of ${commands.length} bundled into dist/src/bundle, ${builtinsOnly.size} of them as CommonJS (the rest find files relative to their module)`)
