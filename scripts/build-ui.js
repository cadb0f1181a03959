#!/usr/bin/env node
// Builds the web UI (ui/) into dist/ui, which the agent serves (src/lib/http/ui-assets.ts):
// index.html plus one script and one stylesheet, bundled and minified by esbuild from the npm
// packages in node_modules (Preact). Nothing is fetched at run time. Fails when the whole UI is
// over its 200 KB gzipped budget.
import {build} from 'esbuild'
import {mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'

const out = 'dist/ui'
const BUDGET_GZIP_BYTES = 200 * 1024

rmSync(out, {recursive: true, force: true})
mkdirSync(join(out, 'assets'), {recursive: true})
await build({
  entryPoints: {app: 'ui/src/main.tsx'},
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: join(out, 'assets'),
  legalComments: 'linked',
  logLevel: 'warning',
})
await build({entryPoints: {app: 'ui/src/styles.css'}, bundle: true, minify: true, outdir: join(out, 'assets'), logLevel: 'warning'})
writeFileSync(join(out, 'index.html'), readFileSync('ui/index.html'))

const files = []
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) walk(path)
    else files.push(path)
  }
}
walk(out)
let raw = 0
let gzipped = 0
for (const file of files) {
  const data = readFileSync(file)
  raw += data.length
  gzipped += gzipSync(data, {level: 9}).length
}
console.log(`web UI: ${files.length} files in ${out}, ${(raw / 1024).toFixed(1)} KB, ${(gzipped / 1024).toFixed(1)} KB gzipped (budget ${BUDGET_GZIP_BYTES / 1024} KB)`)
if (gzipped > BUDGET_GZIP_BYTES) {
  console.error(`Error: the web UI is ${gzipped} bytes gzipped, over its ${BUDGET_GZIP_BYTES}-byte budget`)
  process.exit(1)
}
