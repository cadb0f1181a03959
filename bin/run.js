#!/usr/bin/env node
// Production entry point: runs the compiled commands in dist/ through oclif (manifest-driven, lazy imports).
import {execute} from '@oclif/core'
import {normalizeArgv} from '../dist/src/lib/cli/argv.js'

await execute({dir: import.meta.url, args: normalizeArgv(process.argv.slice(2))})
