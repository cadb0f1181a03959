#!/usr/bin/env -S node --import tsx
// Development entry point: runs the TypeScript sources directly (no build step). An ES module by its
// extension, since bin/package.json makes the .js files here CommonJS (for bin/run.js); oclif is
// given the package root, where the package.json with its oclif settings is.
import {execute} from '@oclif/core'
import {normalizeArgv} from '../src/lib/cli/argv.ts'

await execute({development: true, dir: new URL('../', import.meta.url).href, args: normalizeArgv(process.argv.slice(2))})
