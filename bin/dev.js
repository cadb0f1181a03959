#!/usr/bin/env -S node --import tsx
// Development entry point: runs the TypeScript sources directly (no build step).
import {execute} from '@oclif/core'
import {normalizeArgv} from '../src/lib/cli/argv.ts'

await execute({development: true, dir: import.meta.url, args: normalizeArgv(process.argv.slice(2))})
