// Plain HTTP against an agent for tests that check status codes, headers and bodies byte for byte.
import Consul from 'consul'
import {request} from 'undici'

export interface HttpResult {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
  json<T = unknown>(): T
}

export async function http(base: string, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<HttpResult> {
  const res = await request(`http://${base}${path}`, {method: method as 'GET', body, headers})
  const text = await res.body.text()
  return {status: res.statusCode, headers: res.headers, text, json: <T>() => JSON.parse(text) as T}
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * The npm `consul` client, unchanged, pointed at an agent's `host:port`. Typed `any` on purpose:
 * its typings cover less than its runtime API, which is what the compatibility tests exercise.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function consulClient(httpAddr: string): any {
  const [host, port] = httpAddr.split(':')
  return new Consul({host, port: Number(port)})
}
