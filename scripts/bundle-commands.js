#!/usr/bin/env node
// Bundles each command's module graph for the CLI's fast path (bin/run.js → runFromManifest): a
// command run from dist/src/commands imports ~20 of the project's modules one by one through Node's
// ESM loader, and parsing oclif.manifest.json (~300 KB) to find it costs as much again; a shell
// script calling `coord kv get` pays that on every call. esbuild bundles each command into one file
// of dist/src/bundle/ (npm packages and node: builtins left as imports; no shared chunks: splitting
// cut kv get into 14 of them, each one more import),
// and dist/src/bundle/index.json maps each command id to the file to import.
// A module that finds files relative to itself (import.meta: the UI assets, package.json, the
// agent binary) would look in the wrong place from a bundle, so a command whose graph holds one
// keeps its unbundled module; so do help, topics and every command when no index is there (oclif).
// Runs after `oclif manifest` in `npm run build`.
import {build} from 'esbuild'
import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
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
for (const output of Object.values(graph.metafile.outputs)) {
  if (output.entryPoint && !Object.keys(output.inputs).some(reachesLocationBound)) bundleable.add(resolve(root, output.entryPoint))
}

// Pass 2: the bundle itself, entry files named after the command modules' paths.
const commandsDir = resolve(root, 'dist/src/commands')
rmSync(outdir, {recursive: true, force: true})
mkdirSync(outdir, {recursive: true})
await build({...common, entryPoints: [...bundleable], outdir, outbase: commandsDir})

const index = {}
for (const [id, command] of commands) {
  const source = resolve(root, ...command.relativePath)
  const target = bundleable.has(source) ? resolve(outdir, relative(commandsDir, source)) : source
  index[id] = relative(root, target).split(/[\\/]/)
}
writeFileSync(resolve(outdir, 'index.json'), `${JSON.stringify(index)}\n`)
console.log(`commands: ${bundleable.size} of ${commands.length} bundled into dist/src/bundle (the rest find files relative to their module)`)
