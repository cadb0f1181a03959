// gRPC health checks (Consul's CheckGRPC): one grpc.health.v1.Health/Check call over HTTP/2
// (node:http2; the message is small enough to encode by hand). Target "host:port" or
// "host:port/service". Passing when the server answers SERVING; critical otherwise, with
// gRPC's "rpc error: code = ... desc = ..." text for failed calls.
import {connect, constants} from 'node:http2'
import type {ProbeResult} from './types.js'
import {dialErrorText} from './errors.js'

const codeNames = ['OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists',
  'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal',
  'Unavailable', 'DataLoss', 'Unauthenticated']
const servingNames = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN']

/** HealthCheckRequest{service} framed for gRPC: flag 0, 4-byte length, protobuf field 1 (string). */
export function encodeHealthRequest(service: string): Buffer {
  const name = Buffer.from(service)
  if (name.length > 127) throw new Error('gRPC service name longer than 127 bytes')
  const message = name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, name.length]), name])
  const frame = Buffer.alloc(5)
  frame.writeUInt32BE(message.length, 1)
  return Buffer.concat([frame, message])
}

/** HealthCheckResponse.status from a framed reply; 0 (UNKNOWN) when absent. */
export function decodeHealthStatus(reply: Buffer): number {
  if (reply.length < 5) return 0
  const message = reply.subarray(5, 5 + reply.readUInt32BE(1))
  for (let i = 0; i + 1 < message.length;) {
    const tag = message[i]
    if (tag === 0x08) return message[i + 1] & 0x7f
    if ((tag & 7) === 2) i += 2 + message[i + 1]
    else if ((tag & 7) === 0) i += 2
    else break
  }
  return 0
}

export function grpcProbe(target: string, useTls: boolean, skipVerify: boolean, timeoutMs: number, signal: AbortSignal): Promise<ProbeResult> {
  const slash = target.indexOf('/')
  const address = slash >= 0 ? target.slice(0, slash) : target
  const service = slash >= 0 ? target.slice(slash + 1) : ''
  return new Promise((resolve) => {
    let settled = false
    const session = connect(`${useTls ? 'https' : 'http'}://${address}`, {rejectUnauthorized: !skipVerify})
    const finish = (result: ProbeResult) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      session.destroy()
      resolve(result)
    }
    const onAbort = () => finish({status: 'critical', output: 'check stopped'})
    signal.addEventListener('abort', onAbort)
    const timer = setTimeout(() => finish({status: 'critical', output: 'rpc error: code = DeadlineExceeded desc = context deadline exceeded'}), timeoutMs)
    const dialFailed = (error: NodeJS.ErrnoException) => finish({
      status: 'critical', output: `rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: ${dialErrorText(address, error)}"`,
    })
    session.on('error', dialFailed)
    let body: Buffer
    try {
      body = encodeHealthRequest(service)
    } catch (error) {
      finish({status: 'critical', output: (error as Error).message})
      return
    }
    const stream = session.request({
      [constants.HTTP2_HEADER_METHOD]: 'POST', [constants.HTTP2_HEADER_PATH]: '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc', te: 'trailers',
    })
    const chunks: Buffer[] = []
    let grpcStatus: string | undefined
    let grpcMessage = ''
    const noteStatus = (headers: Record<string, unknown>) => {
      if (headers['grpc-status'] !== undefined) grpcStatus = String(headers['grpc-status'])
      if (headers['grpc-message'] !== undefined) grpcMessage = decodeURIComponent(String(headers['grpc-message']))
    }
    stream.on('response', (headers) => noteStatus(headers))
    stream.on('trailers', (trailers) => noteStatus(trailers))
    stream.on('data', (chunk: Buffer) => { if (chunks.length < 64) chunks.push(chunk) })
    stream.on('error', (error: NodeJS.ErrnoException & {cause?: NodeJS.ErrnoException}) => {
      // A stream opened before the connection failed reports the dial error as its cause.
      if (error.cause?.code) dialFailed(error.cause)
      else finish({status: 'critical', output: `rpc error: code = Unavailable desc = ${error.message}`})
    })
    stream.on('end', () => {
      const code = Number(grpcStatus ?? 2)
      if (code !== 0) {
        finish({status: 'critical', output: `rpc error: code = ${codeNames[code] ?? `Code(${code})`} desc = ${grpcMessage}`})
        return
      }
      const serving = decodeHealthStatus(Buffer.concat(chunks))
      if (serving === 1) finish({status: 'passing', output: `gRPC check ${target}: success`})
      else finish({status: 'critical', output: `gRPC ${target} serving status: ${servingNames[serving] ?? String(serving)}`})
    })
    stream.end(body)
  })
}
