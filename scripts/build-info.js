#!/usr/bin/env node
// Writes dist/src/build-info.json: when this build was made, which `coord version` prints as its
// Build Date (Consul stamps the same at build time). SOURCE_DATE_EPOCH (reproducible-builds.org)
// pins it; otherwise it is the time of the build. Seconds precision, UTC, as Go's RFC 3339 form.
import {mkdirSync, writeFileSync} from 'node:fs'

const epoch = process.env.SOURCE_DATE_EPOCH
const date = epoch && /^\d+$/.test(epoch) ? new Date(Number(epoch) * 1000) : new Date()
mkdirSync('dist/src', {recursive: true})
writeFileSync('dist/src/build-info.json', `${JSON.stringify({buildDate: date.toISOString().replace(/\.\d{3}Z$/, 'Z')})}\n`)
