// The server RPC port, simulated: each server incarnation gets an endpoint with the transport's
// interface (PeerTransport: one-way messages and requests with timeouts), and every frame crosses
// the seeded SimNetwork (delay, loss, duplication, reordering, partitions). A node's address is its
// ID. A request to a node that is down is refused at once and reported unsent, as a refused TCP
// connect is; one lost on the way times out and is reported sent (its outcome is unknown). An answer
// reaches only the incarnation that asked (a real answer travels on the asker's connection, which
// died with it): a restarted node never takes an answer meant for its previous life.
import type {NodeId} from '../../src/lib/raft/types.js'
import {RpcRequestError} from '../../src/lib/rpc/transport.js'
import type {PeerTransport} from '../../src/lib/server/driver-ports.js'
import type {NodeClock} from './driver-clock.js'
import type {SimNetwork} from './network.js'

export type Frame =
  | {from: NodeId; to: NodeId; kind: 'msg'; body: unknown}
  | {from: NodeId; to: NodeId; kind: 'req'; id: number; asker: number; method: string; body: unknown}
  | {from: NodeId; to: NodeId; kind: 'res'; id: number; asker: number; ok: boolean; value?: unknown; message?: string; code?: string}

type Handler = (from: string, body: unknown) => Promise<unknown>

export class SimRpc {
  readonly #endpoints = new Map<NodeId, SimEndpoint>()
  #incarnations = 0

  constructor(readonly net: SimNetwork<Frame>, readonly now: () => number) {}

  /** A new incarnation of `id` starts listening (its previous endpoint, if any, is gone). */
  attach(id: NodeId, clock: NodeClock): SimEndpoint {
    const endpoint = new SimEndpoint(id, ++this.#incarnations, this, clock)
    this.#endpoints.set(id, endpoint)
    return endpoint
  }

  detach(id: NodeId): void {
    this.#endpoints.delete(id)
  }

  isUp(id: NodeId): boolean {
    return this.#endpoints.has(id)
  }

  /** Sends a frame, unless its sender's incarnation is gone (a killed process sends nothing). */
  post(sender: SimEndpoint, frame: Frame): void {
    if (this.#endpoints.get(sender.id) !== sender) return
    this.net.send(frame, this.now())
  }

  /** Hands every frame due now to its endpoint (held while the node is paused, dropped while it is down). */
  deliverDue(nowMs: number): void {
    for (const frame of this.net.deliverDue(nowMs)) {
      const endpoint = this.#endpoints.get(frame.to)
      if (frame.kind === 'res' && endpoint?.incarnation !== frame.asker) continue
      endpoint?.arrive(frame)
    }
  }
}

export class SimEndpoint implements PeerTransport {
  #onMessage: (from: string, body: unknown) => void = () => {}
  readonly #handlers = new Map<string, Handler>()
  readonly #pending = new Map<number, {resolve: (value: unknown) => void; reject: (error: Error) => void; cancel: () => void}>()
  #nextId = 1
  #inbox: Frame[] = []

  constructor(readonly id: NodeId, readonly incarnation: number, readonly rpc: SimRpc, readonly clock: NodeClock) {}

  onMessage(handler: (from: string, body: unknown) => void): void {
    this.#onMessage = handler
  }

  onRequest(method: string, handler: Handler): void {
    this.#handlers.set(method, handler)
  }

  send(address: string, body: unknown): void {
    this.rpc.post(this, {from: this.id, to: address, kind: 'msg', body})
  }

  request(address: string, method: string, body: unknown, timeoutMs: number): Promise<unknown> {
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      if (!this.rpc.isUp(address)) {
        this.clock.defer(() => reject(new RpcRequestError(`${method} to ${address}: connection refused`, {sent: false})))
        return
      }
      const timer = this.clock.after(timeoutMs, () => {
        this.#pending.delete(id)
        reject(new RpcRequestError(`${method} to ${address} timed out after ${timeoutMs} ms`, {sent: true}))
      })
      this.#pending.set(id, {resolve, reject, cancel: () => timer.cancel()})
      this.rpc.post(this, {from: this.id, to: address, kind: 'req', id, asker: this.incarnation, method, body})
    })
  }

  /** A frame reached this node: handled now, or when a pause ends. */
  arrive(frame: Frame): void {
    if (this.clock.paused) {
      if (this.#inbox.length === 0) this.clock.defer(() => this.#drain())
      this.#inbox.push(frame)
      return
    }
    this.#handle(frame)
  }

  #drain(): void {
    const inbox = this.#inbox
    this.#inbox = []
    for (const frame of inbox) this.#handle(frame)
  }

  #handle(frame: Frame): void {
    if (frame.kind === 'msg') {
      // The real port decodes a fresh copy per frame; the driver may change the message it gets.
      const body = frame.body as {raft?: object}
      this.#onMessage(frame.from, body?.raft ? {...body, raft: {...body.raft}} : body)
    } else if (frame.kind === 'req') {
      const handler = this.#handlers.get(frame.method)
      const answer = (ok: boolean, value: unknown, error?: Error) => this.rpc.post(this, {
        from: this.id, to: frame.from, kind: 'res', id: frame.id, asker: frame.asker, ok, value,
        message: error?.message, code: (error as {code?: string} | undefined)?.code,
      })
      if (!handler) return answer(false, undefined, new Error(`no handler for ${frame.method}`))
      handler(frame.from, frame.body).then((value) => answer(true, value), (error: Error) => answer(false, undefined, error))
    } else {
      const pending = this.#pending.get(frame.id)
      if (!pending) return
      this.#pending.delete(frame.id)
      pending.cancel()
      if (frame.ok) pending.resolve(frame.value)
      else pending.reject(new RpcRequestError(frame.message ?? 'request failed', {remote: true, code: frame.code}))
    }
  }
}
