#!/usr/bin/env node
// Production entry point. A command runs straight from oclif.manifest.json (its module alone is
// imported, never @oclif/core: cold start matters); help, topics and unknown commands go to oclif.
import {normalizeArgv, runFromManifest} from '../dist/src/lib/cli/argv.js'

const args = normalizeArgv(process.argv.slice(2))
if (args.length === 0) {
  // A bare `coord` is a blank command, as Consul's CLI (mitchellh/cli) treats it: the command list, exit 127.
  const {Config} = await import('@oclif/core')
  const config = await Config.load(import.meta.url)
  await config.runHook('command_not_found', {id: ''})
} else if (!(await runFromManifest(args, new URL('../', import.meta.url)))) {
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url, args})
}
