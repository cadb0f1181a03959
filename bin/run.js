#!/usr/bin/env node
// Production entry point. A command runs straight from the build's command index (its bundle or
// module alone is imported, never @oclif/core: cold start matters, see src/lib/cli/argv.ts); help,
// topics and unknown commands go to oclif.
import module from 'node:module'

// Node 22.1+ keeps compiled code between runs (node:module enableCompileCache; NODE_DISABLE_COMPILE_CACHE=1
// turns it off); Node 20 has no such cache and skips this.
module.enableCompileCache?.()

const {normalizeArgv, runFromCommandIndex} = await import('../dist/src/lib/cli/argv.js')
const args = normalizeArgv(process.argv.slice(2))
if (args.length === 0) {
  // A bare `coord` is a blank command, as Consul's CLI (mitchellh/cli) treats it: the command list, exit 127.
  const {Config} = await import('@oclif/core')
  const config = await Config.load(import.meta.url)
  await config.runHook('command_not_found', {id: ''})
} else if (!(await runFromCommandIndex(args, new URL('../', import.meta.url)))) {
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url, args})
}
