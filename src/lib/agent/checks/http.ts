// HTTP checks (Consul's CheckHTTP): 2xx passing, 429 warning, anything else or no response
// critical. Output "HTTP <METHOD> <url>: <code> <reason> Output: <body>", the body capped at
// OutputMaxSize (its last bytes, as Consul's circular buffer). No keep-alive (a fresh connection
// each run, as Consul disables keep-alives); redirects followed up to 10 as Go's client does.
import {request as httpRequest, type IncomingMessage} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {dialErrorText, goMethod} from './errors.js'
import {OutputBuffer} from './output.js'
import type {HttpCheck} from '../definitions.js'
import type {ProbeResult} from './types.js'

export const userAgent = 'Consul Health Check'
const maxRedirects = 10

interface Exchange {
  res: IncomingMessage
  body: OutputBuffer
}

function once(url: URL, method: string, def: HttpCheck, body: string, deadline: number, signal: AbortSignal, outputMax: number): Promise<Exchange> {
  const headers: Record<string, string | string[]> = {}
  for (const [name, values] of Object.entries(def.Header)) headers[name] = values
  const has = (name: string) => Object.keys(headers).some((h) => h.toLowerCase() === name)
  if (!has('user-agent')) headers['User-Agent'] = userAgent
  if (!has('accept')) headers.Accept = 'text/plain, text/*, */*'
  if (body !== '' && !has('content-length')) headers['Content-Length'] = String(Buffer.byteLength(body))
  const tls = url.protocol === 'https:'
  const request = tls ? httpsRequest : httpRequest
  return new Promise((resolve, reject_) => {
    const timeout = Object.assign(new Error('timeout'), {code: 'CHECK_TIMEOUT'})
    let timedOut = false
    // After the deadline every failure is the timeout, whichever stream reports it.
    const reject = (error: Error) => reject_(timedOut ? timeout : error)
    const req = request(url, {
      method, headers, agent: false, signal,
      ...(tls ? {rejectUnauthorized: !def.TLSSkipVerify, servername: def.TLSServerName || undefined} : {}),
    }, (res) => {
      const buffer = new OutputBuffer(outputMax)
      res.on('data', (chunk: Buffer) => buffer.write(chunk))
      res.on('end', () => { clearTimeout(timer); resolve({res, body: buffer}) })
      res.on('error', (error) => { clearTimeout(timer); reject(error) })
    })
    // The whole exchange (connect, headers, body) shares one deadline, as Go's Client.Timeout.
    const timer = setTimeout(() => { timedOut = true; req.destroy(timeout) }, Math.max(1, deadline - Date.now()))
    req.on('error', (error) => { clearTimeout(timer); reject(error) })
    req.end(body === '' ? undefined : body)
  })
}

export async function httpProbe(def: HttpCheck, timeoutMs: number, outputMax: number, signal: AbortSignal): Promise<ProbeResult> {
  const method = (def.Method || 'GET').toUpperCase()
  const target = def.HTTP
  const fail = (text: string): ProbeResult => ({status: 'critical', output: `${goMethod(method)} "${target}": ${text}`})
  let url: URL
  try {
    url = new URL(target)
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return fail(`unsupported protocol scheme "${url.protocol.replace(/:$/, '')}"`)
  } catch {
    return {status: 'critical', output: `parse "${target}": invalid URL`}
  }
  const deadline = Date.now() + timeoutMs
  let currentMethod = method
  let body = def.Body
  let exchange: Exchange
  for (let hop = 0; ; hop++) {
    try {
      exchange = await once(url, currentMethod, def, body, deadline, signal, outputMax)
    } catch (error) {
      const e = error as NodeJS.ErrnoException
      if (e.code === 'CHECK_TIMEOUT') return fail('context deadline exceeded (Client.Timeout exceeded while awaiting headers)')
      if (e.code && e.code.startsWith('ERR_TLS') || e.code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || e.code === 'SELF_SIGNED_CERT_IN_CHAIN' || e.code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE') {
        return fail(`tls: failed to verify certificate: ${e.message}`)
      }
      return fail(dialErrorText(url.host, e))
    }
    const {res} = exchange
    const location = res.headers.location
    const code = res.statusCode ?? 0
    if (![301, 302, 303, 307, 308].includes(code) || !location) break
    if (hop + 1 >= maxRedirects) return fail('stopped after 10 redirects')
    url = new URL(location, url)
    // Go keeps method and body for 307/308 only; the others become a GET without body.
    if (code !== 307 && code !== 308) {
      currentMethod = currentMethod === 'HEAD' ? 'HEAD' : 'GET'
      body = ''
    }
  }
  const {res, body: captured} = exchange
  const code = res.statusCode ?? 0
  const output = `HTTP ${method} ${target}: ${code} ${res.statusMessage ?? ''} Output: ${captured.text()}`
  if (code >= 200 && code <= 299) return {status: 'passing', output}
  if (code === 429) return {status: 'warning', output}
  return {status: 'critical', output}
}
