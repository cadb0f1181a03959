// H2PING and UDP checks registered through a real agent's /v1/agent/check/register: they run, go
// critical when the test's own server goes away and passing when it is back, and the catalog shows
// Consul's check Type. Docker and OSService checks are refused at registration with a one-line reason.
import {after, describe, it} from 'node:test'
import assert from 'node:assert/strict'
import {createServer as createH2Server} from 'node:http2'
import {createSocket} from 'node:dgram'
import type {AddressInfo} from 'node:net'
import {useAgent} from '../helpers/agent.js'
import {http} from '../helpers/http.js'
import {until} from '../helpers/wait.js'

/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers read field by field */

describe('H2PING and UDP checks through the agent', () => {
  const ctx = useAgent()
  const closers: Array<() => void> = []
  after(() => { for (const close of closers) close() })
  const status = async (id: string): Promise<string | undefined> => {
    const checks = (await http(ctx.agent.httpAddr, 'GET', '/v1/agent/checks')).json<Record<string, any>>()
    return checks[id]?.Status
  }

  it('an h2c H2PING check and a UDP check pass, fail when their servers go, and pass when they are back', async () => {
    let h2 = createH2Server()
    const h2Port = await new Promise<number>((resolve) => h2.listen(0, '127.0.0.1', () => resolve((h2.address() as AddressInfo).port)))
    const echo = (port: number) => new Promise<ReturnType<typeof createSocket>>((resolve) => {
      const socket = createSocket('udp4')
      socket.on('message', (_m, from) => socket.send('ok', from.port, from.address))
      socket.bind(port, '127.0.0.1', () => resolve(socket))
    })
    let udp = await echo(0)
    const udpPort = udp.address().port
    closers.push(() => h2.close(), () => udp.close())
    for (const body of [
      {ID: 'h2', Name: 'h2', H2PING: `127.0.0.1:${h2Port}`, H2PingUseTLS: false, Interval: '1s'},
      {ID: 'udp', Name: 'udp', UDP: `127.0.0.1:${udpPort}`, Interval: '1s', Timeout: '1s'},
    ]) {
      const res = await http(ctx.agent.httpAddr, 'PUT', '/v1/agent/check/register', JSON.stringify(body))
      assert.equal(res.status, 200, res.text)
    }
    await until('both checks passing', async () => (await status('h2')) === 'passing' && (await status('udp')) === 'passing', 10_000)
    const types = (await http(ctx.agent.httpAddr, 'GET', '/v1/agent/checks')).json<Record<string, any>>()
    assert.equal(types.h2.Type, 'h2ping')
    assert.equal(types.udp.Type, 'udp')
    const downAt = performance.now()
    h2.close()
    udp.close()
    await until('both checks critical', async () => (await status('h2')) === 'critical' && (await status('udp')) === 'critical', 10_000)
    console.log(`# check-kinds: H2PING and UDP critical ${Math.round(performance.now() - downAt)} ms after their servers closed (interval 1 s)`)
    h2 = createH2Server()
    await new Promise<void>((resolve) => h2.listen(h2Port, '127.0.0.1', () => resolve()))
    udp = await echo(udpPort)
    await until('both checks passing again', async () => (await status('h2')) === 'passing' && (await status('udp')) === 'passing', 10_000)
  })

  it('Docker and OSService checks are refused with a one-line reason', async () => {
    for (const [body, reason] of [
      [{Name: 'd', DockerContainerID: 'abc', Args: ['true'], Interval: '10s'}, /Docker checks are not supported: coord has no Docker client/],
      [{Name: 'o', OSService: 'sshd', Interval: '10s'}, /OS service checks are not supported/],
    ] as const) {
      const res = await http(ctx.agent.httpAddr, 'PUT', '/v1/agent/check/register', JSON.stringify(body))
      assert.equal(res.status, 400, res.text)
      assert.match(res.text, reason)
      assert.doesNotMatch(res.text.trim(), /\n/)
    }
  })
})
