// Plain HTTP against an agent for tests that check status codes, headers and bodies byte for byte.
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
