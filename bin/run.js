#!/usr/bin/env node
// Production entry point. A command runs straight from oclif.manifest.json (its module alone is
// imported, never @oclif/core: cold start matters); help, topics and unknown commands go to oclif.
import {normalizeArgv, runFromManifest} from '../dist/src/lib/cli/argv.js'

const args = normalizeArgv(process.argv.slice(2))
if (!(await runFromManifest(args, new URL('../', import.meta.url)))) {
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url, args})
}
