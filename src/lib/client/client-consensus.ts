// The Consensus seam on a client agent, which runs no Raft and holds no state: writes go over RPC to
// a server (whose Raft driver forwards them to the leader, as it does for its own followers'
// writes); leadership questions are answered from what the servers last said; everything that
// needs a local Raft log or state is a clear error (on a client those requests are forwarded whole,
// so only agent-local code could reach them).
import {encodeCommand} from '../state/codec.js'
import type {Command} from '../state/types.js'
import {RpcRequestError} from '../rpc/transport.js'
import {NoLeaderError, type Consensus, type Proposal, type RaftConfiguration, type ReadMode} from '../consensus.js'
import type {ForwardedResponse} from '../forward/forwarded.js'
import type {ServerRpc} from '../forward/server-rpc.js'
import type {HandedBytes} from '../handed-bytes.js'

/** A server's propose never waits more than its own 10 s commit timeout plus a leader election. */
const PROPOSE_TIMEOUT_MS = 20_000

/** A server's answer to 'propose' is the Proposal its Raft driver resolved with. */
function decodeProposal(answer: unknown): Proposal {
  const proposal = answer as Partial<Proposal> | null
  if (!proposal || typeof proposal.index !== 'number' || !proposal.result || typeof proposal.result !== 'object') {
    throw new Error('server answered a write with something that is not a proposal result')
  }
  return proposal as Proposal
}

export class ClientOnlyError extends Error {
  readonly code = 'CLIENT_AGENT'
  constructor(what: string) {
    super(`${what} runs on servers; this is a client agent (no Raft, no local state): send the request to a server's HTTP API`)
  }
}

export class ClientConsensus implements Consensus {
  #knownLeader = false
  #lastContactMs = 0

  constructor(private readonly rpc: ServerRpc) {}

  async propose(command: Command): Promise<Proposal> {
    try {
      // Not idempotent: a write that reached a server is never sent a second time.
      const answer = await this.rpc.call('propose', encodeCommand(command), {timeoutMs: PROPOSE_TIMEOUT_MS, idempotent: false})
      this.#knownLeader = true
      return decodeProposal(answer)
    } catch (error) {
      if (error instanceof RpcRequestError && error.remote && error.code === NoLeaderError.CODE) {
        this.#knownLeader = false
        throw new NoLeaderError()
      }
      throw error
    }
  }

  /** Remembers the leadership headers of a server's answer (X-Consul-KnownLeader, -LastContact). */
  noteAnswer(answer: ForwardedResponse): void {
    const header = (name: string) => {
      const entry = Object.entries(answer.headers).find(([key]) => key.toLowerCase() === name)?.[1]
      return Array.isArray(entry) ? entry[0] : entry
    }
    const known = header('x-consul-knownleader')
    if (known !== undefined) this.#knownLeader = known === 'true'
    const contact = Number(header('x-consul-lastcontact'))
    if (Number.isFinite(contact) && contact >= 0) this.#lastContactMs = contact
  }

  restore(_state: HandedBytes, _minIndex: number): Promise<number> {
    return Promise.reject(new ClientOnlyError('a snapshot restore'))
  }

  readBarrier(_mode: ReadMode, _maxStaleMs: number): Promise<void> {
    return Promise.reject(new ClientOnlyError('a read of the replicated state'))
  }

  isLeader(): boolean {
    return false
  }

  /** As the last server answer said (false until one came back). */
  knownLeader(): boolean {
    return this.#knownLeader
  }

  /** A client does not track the leader: GET /v1/status/leader is forwarded to a server. */
  leaderAddress(): string {
    return ''
  }

  /** The servers this client knows (alive in the gossip pool), as known_servers counts them. */
  peers(): string[] {
    return this.rpc.pool.known()
  }

  lastContactMs(): number {
    return this.#lastContactMs
  }

  stats(): Record<string, string> {
    return {}
  }

  configuration(): RaftConfiguration {
    return {servers: [], index: 0}
  }

  leaderConfiguration(): Promise<RaftConfiguration> {
    return Promise.reject(new ClientOnlyError('the Raft configuration'))
  }

  removePeer(): Promise<void> {
    return Promise.reject(new ClientOnlyError('removing a Raft peer'))
  }

  transferLeadership(): Promise<void> {
    return Promise.reject(new ClientOnlyError('transferring Raft leadership'))
  }

  async close(): Promise<void> {
    await this.rpc.transport.close()
  }
}
