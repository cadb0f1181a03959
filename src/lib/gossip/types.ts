// Types of the gossip core (SWIM with Lifeguard's refinements; memberlist's protocol, coord's own
// wire). The core is pure: packets and stream requests leave through `GossipCore.ready()` and the
// driver (the UDP/TCP transport, another module) sends them; see `GossipReady` for the contract.

/**
 * SWIM states plus serf's graceful-leave states. `leaving` is the local node's own state between
 * `leave()` and the end of the leave broadcast; peers go straight from alive/suspect/failed to `left`
 * when they hear the leave intent (a left member is never reported failed).
 */
export type MemberState = 'alive' | 'suspect' | 'failed' | 'leaving' | 'left'

export type Tags = Readonly<Record<string, string>>

/** Where a peer's gossip port is; `address` is whatever the transport resolves (IP or host). */
export interface PeerAddress {
  address: string
  port: number
}

export interface Member extends PeerAddress {
  name: string
  tags: Tags
  /** SWIM incarnation: only the member itself raises it, to refute suspicion or to publish new tags. */
  incarnation: number
  state: MemberState
  /** Driver's monotonic ms when `state` last changed (reaping and gossip-to-the-dead count from it). */
  stateChangeMs: number
}

// ---- messages (packet-borne unless noted) ----

/** Direct probe. `target` guards against a stale address now used by another node. */
export interface Ping {
  type: 'ping'
  seqNo: number
  target: string
}

/** Indirect probe request (SWIM §4.2): `from` asks the receiver to ping `target` on its behalf. */
export interface IndirectPing {
  type: 'indirectPing'
  seqNo: number
  target: string
  targetAddress: PeerAddress
  /** Lifeguard: ask the relay to answer with a nack if the target stays silent. */
  wantNack: boolean
}

export interface Ack {
  type: 'ack'
  seqNo: number
  /**
   * The acker's ping payload (memberlist's ack payload; serf puts its network coordinate here).
   * Only sent to a pinger whose tags carry ACK_PAYLOAD_TAG = '1': older coord members decode an
   * ack of exactly two fields and would drop the whole packet.
   */
  payload?: Uint8Array
}

/** Member tag saying "my acks may carry a payload, and I can decode one in yours". */
export const ACK_PAYLOAD_TAG = 'ack_payload'

/** A direct probe of ours that was acked with a payload: how long the round trip took (driver ms). */
export interface PingResult {
  node: string
  rttMs: number
  payload: Uint8Array
}

/**
 * One probe round of ours that ended, however it ended: memberlist times every probeNode call
 * (consul.memberlist.probeNode), acked or not. `ms` runs from the ping's send to the ack (direct or
 * relayed), to the end of the probe period when none came, or to the stall that abandoned it.
 */
export interface ProbeTiming {
  node: string
  ms: number
  outcome: 'acked' | 'failed' | 'abandoned'
}

/** Lifeguard: "I reached you but not the target"; a missing nack hints that *we* are the slow one. */
export interface Nack {
  type: 'nack'
  seqNo: number
}

export interface Suspect {
  type: 'suspect'
  node: string
  incarnation: number
  /** The accuser; distinct accusers are Lifeguard's independent confirmations. */
  from: string
}

export interface Alive extends PeerAddress {
  type: 'alive'
  node: string
  incarnation: number
  tags: Tags
}

/** Declares `node` failed (memberlist's "dead"). */
export interface Dead {
  type: 'dead'
  node: string
  incarnation: number
  from: string
}

/** Graceful leave intent, sent by the leaving node itself (serf's leave intent + memberlist's self-dead). */
export interface Leave {
  type: 'leave'
  node: string
  incarnation: number
  /** Lamport time of the intent, so a stale leave cannot override a later rejoin. */
  ltime: number
}

/** A user event (serf's `consul event`); ordered and deduplicated by Lamport time. Hook for later. */
export interface UserEvent {
  type: 'userEvent'
  ltime: number
  name: string
  payload: Uint8Array
}

/**
 * A question to every member (serf's query: keyring operations use it). Disseminated like a
 * broadcast; each member hands it to the driver once and answers the origin directly.
 */
export interface Query extends PeerAddress {
  type: 'query'
  /** Random per origin; (origin, id) deduplicates. */
  id: number
  /** The origin's member name; `address`/`port` are where answers go. */
  origin: string
  name: string
  payload: Uint8Array
  /** How long after receipt an answer is still worth sending (clocks differ between members). */
  timeoutMs: number
  /** Answer also through this many random members (serf's relay factor, 0..5), for lossy paths. */
  relayFactor: number
}

/** One member's answer to a query, sent straight to the origin. */
export interface QueryResponse {
  type: 'queryResponse'
  id: number
  /** The answering member (relayed answers keep the original responder here). */
  from: string
  payload: Uint8Array
}

/** An answer handed to a relay, which forwards it to the origin as a QueryResponse. */
export interface QueryRelay extends PeerAddress {
  type: 'queryRelay'
  response: QueryResponse
}

export type GossipMessage = Ping | IndirectPing | Ack | Nack | Suspect | Alive | Dead | Leave | UserEvent | Query | QueryResponse | QueryRelay

/** Messages that are disseminated by piggybacking (kept in the broadcast queue). */
export type Broadcast = Suspect | Alive | Dead | Leave | UserEvent | Query

/** One datagram: at most one probe message plus piggybacked broadcasts, within the byte budget. */
export interface Packet {
  /** Sender's member name (replies go to the datagram's source address under this name). */
  from: string
  messages: GossipMessage[]
}

/** A member's record as exchanged in push-pull (memberlist's pushNodeState). */
export interface MemberSnapshot extends PeerAddress {
  name: string
  tags: Tags
  incarnation: number
  state: MemberState
}

/** Full-state exchange over a stream (TCP): anti-entropy that repairs what piggybacking lost. */
export interface PushPullState {
  from: string
  /** True on a join: the receiver then treats unknown members as fresh, not as stale gossip. */
  join: boolean
  members: MemberSnapshot[]
  /** Highest Lamport time the sender has seen (user events and intents). */
  ltime: number
}

// ---- outputs ----

export interface OutboundPacket {
  to: PeerAddress
  /** The intended member's name, when known (the transport may check it; the sim routes by it). */
  toName: string | null
  packet: Packet
  /** Estimated encoded size (wire-size.ts); the budget the core filled the packet against. */
  sizeBytes: number
}

/**
 * A request for a push-pull exchange. The driver dials `to`, sends `state`, reads the peer's state
 * and hands it to `GossipCore.pushPullResult`; on failure it calls `pushPullFailed` (join uses it).
 */
export interface StreamRequest {
  id: number
  to: PeerAddress
  toName: string | null
  state: PushPullState
}

export type MemberEventType = 'joined' | 'updated' | 'failed' | 'left' | 'reaped'

export interface MemberEvent {
  type: MemberEventType
  member: Member
  atMs: number
}

export interface ReceivedUserEvent {
  ltime: number
  name: string
  payload: Uint8Array
}

/** A query delivered to this member (its own included): the driver answers with GossipCore.respond. */
export interface ReceivedQuery {
  id: number
  origin: string
  originAddress: PeerAddress
  name: string
  payload: Uint8Array
  /** Driver's monotonic ms after which answering is pointless. */
  deadlineMs: number
  relayFactor: number
}

/** The answers a query of ours collected, once every live member answered or its deadline passed. */
export interface QueryResult {
  id: number
  name: string
  /** One per member that answered, in arrival order. */
  responses: Array<{from: string; payload: Uint8Array}>
  /** Live members (alive or suspect, us included) when the query was sent: the answers expected. */
  expected: string[]
  /** False when the deadline cut the wait short. */
  complete: boolean
}

/**
 * What the core needs done since the last `ready()`. The driver, in any order within one ready:
 * sends every `packets` entry as one datagram (best effort: loss is expected and tolerated), starts
 * every `streams` exchange (with its own timeout, GossipConfig.streamTimeoutMs), and delivers
 * `events` and `userEvents` to listeners in order. Nothing here needs to be durable.
 */
export interface GossipReady {
  packets: OutboundPacket[]
  streams: StreamRequest[]
  events: MemberEvent[]
  userEvents: ReceivedUserEvent[]
  /** Queries to answer (GossipCore.respond) and our own queries' outcomes. */
  queries: ReceivedQuery[]
  queryResults: QueryResult[]
  /** Completed direct probes whose ack carried a payload (serf's NotifyPingComplete). */
  pingResults: PingResult[]
  /** Every probe round that ended since the last ready(), for its timing. */
  probes: ProbeTiming[]
}

export interface GossipStatus {
  name: string
  incarnation: number
  state: MemberState
  /** Lifeguard local health score, 0 (healthy) .. awarenessMaxMultiplier − 1. */
  health: number
  members: number
  alive: number
  suspect: number
  failed: number
  left: number
  pendingBroadcasts: number
  ltime: number
  /** Members that became suspect, and failed, in this member's view since start (metrics). */
  suspected: number
  declaredDead: number
}

/** A query this member sent and is still collecting answers for (core-query.ts). */
export interface PendingQuery {
  id: number
  name: string
  deadlineMs: number
  expected: Set<string>
  responses: Map<string, Uint8Array>
}
