#!/usr/bin/env node
// Production entry point. A command runs straight from the build's command index (its bundle or
// module alone is loaded, never @oclif/core: cold start matters, see src/lib/cli/argv.ts); help,
// topics and unknown commands go to oclif.
// CommonJS (bin/package.json says so): a command bundled as CommonJS is require()d and Node's ESM
// loader is never started (scripts/bundle-commands.js says what it costs); ES modules (the other
// bundles, the agent, oclif) are import()ed.
'use strict'
const {join} = require('node:path')

// Node 22.1+ keeps compiled code between runs (node:module enableCompileCache; NODE_DISABLE_COMPILE_CACHE=1
// turns it off); Node 20 has no such cache and skips this.
if (Number(process.versions.node.split('.')[0]) >= 22) require('node:module').enableCompileCache?.()

// The package root: oclif looks for package.json from here (not from bin/, whose package.json only
// sets the module type).
const root = join(__dirname, '..')
const load = (file) => file.endsWith('.cjs') ? require(file) : import(require('node:url').pathToFileURL(file).href)

async function main() {
  const {normalizeArgv, runFromCommandIndex} = require('../dist/src/bundle/argv.cjs')
  const args = normalizeArgv(process.argv.slice(2))
  if (args.length === 0) {
    // A bare `coord` is a blank command, as Consul's CLI (mitchellh/cli) treats it: the command list, exit 127.
    const {Config} = await import('@oclif/core')
    const config = await Config.load(root)
    await config.runHook('command_not_found', {id: ''})
  } else if (!(await runFromCommandIndex(args, root, load))) {
    const {execute} = await import('@oclif/core')
    await execute({dir: root, args})
  }
}

// A rejection is unhandled, so Node prints it and exits 1, as it did for the module's top-level await.
void main()
