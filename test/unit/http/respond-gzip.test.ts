// sendBody's gzip: small bodies compressed in place, large ones on the thread pool (the event loop
// keeps answering), strings, Buffers (cached answers hand out Buffers) and bodies in parts (kept list
// answers); every form decompresses to the body.
import {describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {createServer, request, type Server} from 'node:http'
import {gunzipSync} from 'node:zlib'
import type {AddressInfo} from 'node:net'
import {sendBody, type Chunks} from '../../../src/lib/http/respond.js'

function get(port: number, gzip: boolean): Promise<{body: Buffer; encoding: string | undefined}> {
  return new Promise((resolve, reject) => {
    const req = request({host: '127.0.0.1', port, path: '/', headers: gzip ? {'accept-encoding': 'gzip, deflate'} : {}}, (res) => {
      const parts: Buffer[] = []
      res.on('data', (c: Buffer) => parts.push(c))
      res.on('end', () => resolve({body: Buffer.concat(parts), encoding: res.headers['content-encoding']}))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('sendBody gzip', () => {
  it('small and large bodies, gzip asked or not, all read back as sent; a repeated large Buffer body gzips to the same bytes', async () => {
    const large = JSON.stringify(Array.from({length: 20_000}, (_, i) => ({Node: `node-${i}`, Address: `10.0.${i >> 8}.${i & 255}`})))
    let body: string | Buffer | Chunks = '{"small":true}'
    const server: Server = createServer((req, res) => sendBody(req, res, 200, body, 'application/json'))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as AddressInfo).port
    try {
      const small = await get(port, true)
      assert.equal(small.encoding, 'gzip')
      assert.equal(gunzipSync(small.body).toString(), body)
      assert.equal((await get(port, false)).body.toString(), body)
      body = Buffer.from(large)
      const first = await get(port, true)
      assert.equal(first.encoding, 'gzip')
      assert.equal(gunzipSync(first.body).toString(), large)
      const second = await get(port, true)
      assert.deepEqual(second.body, first.body)
      assert.equal((await get(port, false)).body.toString(), large)
      // A body in parts (a kept list's blocks): sent whole with its length, gzip'd whole, the gzip kept by the parts.
      const parts = [Buffer.from('['), Buffer.from(large.slice(1, 40_000)), Buffer.from(large.slice(40_000, -1)), Buffer.from(']')]
      body = parts
      const plain = await get(port, false)
      assert.equal(plain.encoding, undefined)
      assert.equal(plain.body.toString(), large)
      const zipped = await get(port, true)
      assert.equal(gunzipSync(zipped.body).toString(), large)
      assert.deepEqual((await get(port, true)).body, zipped.body)
      body = [Buffer.from('{"small":'), Buffer.from('true}')]
      assert.equal(gunzipSync((await get(port, true)).body).toString(), '{"small":true}')
      assert.equal((await get(port, false)).body.toString(), '{"small":true}')
    } finally {
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
