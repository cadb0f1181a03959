// What the Raft driver takes from outside, as interfaces: the replicated state machine, the codec
// for its commands, and the peer transport. The agent injects state/'s StateMachine, its msgpack
// codec and the RPC port (runtime/agent.ts → server-role.ts); the driver simulation injects a
// tiny KV, an in-memory network and simulated time (test/sim/driver-*.ts).
import type {RpcTransport} from '../rpc/transport.js'
import type {ByteSource, StepWait} from '../handed-bytes.js'

/** A deterministic state machine fed with committed commands in log order (ARCHITECTURE.md, house rule 5). */
export interface ReplicatedState<C, R> {
  /**
   * Applies the command committed at `index` and returns what the proposer gets back. `unread`:
   * nobody will read the answer (an entry replayed at start or proposed by another server), so
   * the state may skip building its result entries; the state itself ends up the same.
   */
  apply(index: number, command: C, unread?: boolean): R
  /**
   * The whole state at the last applied index, captured now and serialized lazily as chunks
   * (concatenated: the bytes `restore` takes). Applies may go on while the chunks are consumed:
   * they must not change what the chunks say. The driver writes them to disk in the background.
   */
  snapshotChunks(): Iterable<Uint8Array>
  /** Replaces the whole state with a snapshot's bytes. */
  restore(bytes: Uint8Array): void
  /**
   * A whole new state from a snapshot's bytes, prepared a step at a time (each `next()` a few ms
   * of work; the driver lets the event loop run between steps, so heartbeats go on) without
   * touching the live state. With `index` (an operator's restore taking that log index,
   * RaftDriver.restore) the state as it will stand at `index`; without (a snapshot received from
   * the leader) exactly the snapshot's. The result: `chunks` encodes it (the bytes `restore` takes;
   * the driver stages them for an operator's restore) and `install` swaps it in. Throws on bytes
   * it cannot use (state untouched). Bytes given as a ChunkReader are decoded as they arrive: a
   * step may then yield a promise, which the driver awaits before the next step.
   */
  prepareRestore(bytes: ByteSource, index?: number): Generator<StepWait, {chunks: () => Iterable<Uint8Array>; install: () => void}>
}

/** Turns commands into log-entry bytes and back; decode throws on bytes it did not write. */
export interface CommandCodec<C> {
  encode(command: C): Uint8Array
  decode(bytes: Uint8Array): C
}

/** The part of the server RPC port the Raft pieces use: one-way messages and requests. */
export type PeerTransport = Pick<RpcTransport, 'send' | 'onMessage' | 'request' | 'onRequest'>

/**
 * Where the driver reports Raft metrics (Consul's names without the prefix: ['raft', 'apply'],
 * timings in ms on the driver's clock). The agent passes one that writes to its metrics
 * (server-role.ts); the simulation passes none.
 */
export interface RaftMetricsSink {
  counter(key: readonly string[], value?: number): void
  sample(key: readonly string[], ms: number): void
  gauge(key: readonly string[], value: number): void
}
