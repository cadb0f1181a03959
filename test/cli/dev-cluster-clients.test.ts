// `coord dev cluster -servers=1 -clients=1`: the command starts a client agent next to the server,
// the client forwards to it, and Ctrl-C (SIGTERM here) stops both.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {randomSubnet} from '../../src/lib/devcluster/cluster.js'
import {coordBin, tempDir} from '../helpers/agent.js'
import {http, sleep} from '../helpers/http.js'

describe('coord dev cluster -clients', () => {
  it('starts client agents that forward to the servers, and stops them all', async () => {
    const dir = tempDir('coord-devcluster-clients-')
    const child = spawn(process.execPath, [coordBin, 'dev', 'cluster', '-servers=1', '-clients=1', `-subnet=${randomSubnet()}`, `-dir=${dir.path}`], {
      stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, NO_COLOR: '1'},
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    try {
      const deadline = Date.now() + 60_000
      while (!output.includes('Cluster running') && Date.now() < deadline && child.exitCode === null) await sleep(100)
      assert.match(output, /Cluster running/, output)
      const clientAddr = /client-1\s+http:\/\/(\S+)/.exec(output)?.[1]
      assert.ok(clientAddr, output)
      const self = await http(clientAddr, 'GET', '/v1/agent/self')
      assert.equal(self.json<{Config: {Server: boolean}}>().Config.Server, false)
      assert.equal((await http(clientAddr, 'PUT', '/v1/kv/dev/k', 'v')).text, 'true')
      assert.equal((await http(clientAddr, 'GET', '/v1/kv/dev/k?raw')).text, 'v')
    } finally {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000)
      await exited
      clearTimeout(timer)
      dir.cleanup()
    }
    assert.match(output, /Stopping the cluster/)
  })
})
