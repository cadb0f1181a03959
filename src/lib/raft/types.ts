// The vocabulary of the Raft core: log entries, durable state, messages and the Ready hand-off.
// Everything here is plain data so the driver can encode it for the wire and the disk, and the
// simulation can copy, drop, duplicate and reorder it freely. Words follow the Raft paper (Ongaro &
// Ousterhout 2014, "§5.x") and dissertation (Ongaro 2014, "diss. §x").

/** A server's ID (the agent's server id); unique within the cluster. */
export type NodeId = string

/**
 * What an entry carries. `command`: an opaque state-machine command (the driver encodes it).
 * `noop`: appended by every new leader so it can commit an entry of its own term (§5.4.2, §8).
 * `conf`: a single-server membership change (diss. §4.1); data is `encodeConfChange`.
 */
export type EntryType = 'command' | 'noop' | 'conf'

export interface Entry {
  index: number
  term: number
  type: EntryType
  data: Uint8Array
}

/** State that must be durable before any message that depends on it is sent (§5.1, Figure 2). */
export interface HardState {
  term: number
  /** Candidate voted for in `term`, or null. */
  vote: NodeId | null
  /** Highest index known committed. Not required for safety; saves re-learning it after restart. */
  commit: number
}

/** The membership in effect: voters form quorums; learners (non-voters) only receive the log. */
export interface ConfState {
  voters: NodeId[]
  learners: NodeId[]
}

/** One-at-a-time membership change (diss. §4.1; §4.2.1 for adding as a learner first). */
export interface ConfChange {
  type: 'addLearner' | 'promote' | 'remove'
  nodeId: NodeId
}

/** Names a state-machine snapshot: it covers every entry up to and including `index`. */
export interface SnapshotMeta {
  index: number
  term: number
  /** Membership as of `index`, so a node restored from it knows its peers. */
  conf: ConfState
}

interface Envelope {
  from: NodeId
  to: NodeId
  /** Sender's current term; the receiver steps down or ignores by it first (§5.1). */
  term: number
}

/**
 * `seq` and `sentAtMs` are the leader's own bookkeeping (a counter and its monotonic clock when the
 * message was built). A follower echoes them unchanged in its response and never compares them with
 * its own clock. The leader uses them to confirm ReadIndex rounds (diss. §6.4) and to date its lease
 * from the *send* time of the round a quorum acknowledged (diss. §6.4.1).
 */
interface LeaderStamp {
  seq: number
  sentAtMs: number
}

/**
 * RequestVote (§5.2) and PreVote (diss. §9.6). For PreVote `term` is the term the sender *would*
 * campaign at; nobody changes term on it. `transfer` marks an election started by TimeoutNow
 * (diss. §3.10), which voters honour even while they have heard from a leader recently.
 */
export interface VoteRequest extends Envelope {
  type: 'preVote' | 'vote'
  lastLogIndex: number
  lastLogTerm: number
  transfer: boolean
}

export interface VoteResponse extends Envelope {
  type: 'preVoteResponse' | 'voteResponse'
  reject: boolean
}

/** AppendEntries (§5.3). Carries many entries (batching) and the leader's commit index. */
export interface AppendRequest extends Envelope, LeaderStamp {
  type: 'append'
  prevLogIndex: number
  prevLogTerm: number
  entries: Entry[]
  commit: number
}

/**
 * On success `index` is the last index now known to match the leader. On reject `index` is the
 * rejected prevLogIndex and (`rejectHint`, `hintTerm`) is the follower's guess at the last index
 * that might match: the largest index <= min(prevLogIndex, lastIndex) whose term <= prevLogTerm,
 * so the leader skips a whole conflicting term per round trip (§5.3, "fast backtracking").
 */
export interface AppendResponse extends Envelope, LeaderStamp {
  type: 'appendResponse'
  reject: boolean
  index: number
  rejectHint: number
  hintTerm: number
}

/** Empty AppendEntries (§5.2). `commit` is min(the follower's known match, leader commit). */
export interface Heartbeat extends Envelope, LeaderStamp {
  type: 'heartbeat'
  commit: number
}

export interface HeartbeatResponse extends Envelope, LeaderStamp {
  type: 'heartbeatResponse'
}

/**
 * InstallSnapshot (§7). The core only *names* the snapshot; the sending driver attaches `data`
 * (the state-machine snapshot whose meta equals `snapshot`, read from its snapshot store), and the
 * receiving driver keeps it to restore when the Ready names that snapshot. The core never reads it.
 */
export interface InstallSnapshot extends Envelope, LeaderStamp {
  type: 'installSnapshot'
  snapshot: SnapshotMeta
  data?: Uint8Array
}

/** `index`: the follower's log now matches the leader's up to here. */
export interface InstallSnapshotResponse extends Envelope, LeaderStamp {
  type: 'installSnapshotResponse'
  index: number
}

/** Leadership transfer (diss. §3.10): "start an election now, skipping PreVote". */
export interface TimeoutNow extends Envelope {
  type: 'timeoutNow'
}

export type Message =
  | VoteRequest
  | VoteResponse
  | AppendRequest
  | AppendResponse
  | Heartbeat
  | HeartbeatResponse
  | InstallSnapshot
  | InstallSnapshotResponse
  | TimeoutNow

/** A confirmed ReadIndex (diss. §6.4): serve `requestId` once the state machine applied `index`. */
export interface ReadState {
  requestId: string
  index: number
}

/**
 * What the core needs done, collected since the last `advance`. The driver MUST, in this order:
 *  1. if `snapshot`: restore the state machine from that snapshot's data (received with the
 *     InstallSnapshot message, or on a leader the operator's restore it staged:
 *     RaftCore.installLocalSnapshot), persist it, and reset its log to start after `snapshot.index`;
 *  2. truncate its log from `entries[0].index` on (a conflicting suffix) and append `entries`;
 *     save `hardState` if present; fsync if `mustSync` (a vote or term must be durable before any
 *     message that relies on it leaves, §5.1; acknowledged entries must survive a crash);
 *  3. send `messages` (only now: a response may promise that 2 happened);
 *  4. apply `committedEntries` in order (they are already durable here) and serve `readStates`
 *     once applied >= index; fail the requests in `abortedReads` (leadership lost);
 *  5. call `advance(ready)`.
 * tick/step/propose may be called between ready() and advance(); ready() again only after advance().
 */
export interface Ready {
  hardState?: HardState
  snapshot?: SnapshotMeta
  entries: Entry[]
  mustSync: boolean
  messages: Message[]
  committedEntries: Entry[]
  readStates: ReadState[]
  abortedReads: string[]
}

/** Stable codes for refused requests; callers branch on these, never on text (ARCHITECTURE.md, house rule 4). */
export type RefusalCode =
  | 'NOT_LEADER'
  | 'TRANSFER_IN_PROGRESS'
  | 'CONF_CHANGE_PENDING'
  | 'INVALID_CONF_CHANGE'
  | 'LEASE_NOT_HELD'
  /** A restore asked for while entries are still uncommitted, or whose index the log has since passed. */
  | 'LOG_NOT_SETTLED'

export interface Refusal {
  ok: false
  code: RefusalCode
  /** Best known leader, for redirecting the client; null when none is known. */
  leader: NodeId | null
}

export type ProposeResult = {ok: true; firstIndex: number; lastIndex: number; term: number} | Refusal
export type ReadResult = {ok: true; index: number} | Refusal

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader'

/** Per-peer replication view the leader exposes, e.g. to decide when a learner is caught up. */
export interface PeerStatus {
  id: NodeId
  match: number
  next: number
  state: 'probe' | 'replicate' | 'snapshot'
  learner: boolean
  recentActive: boolean
}

export interface Status {
  id: NodeId
  role: Role
  term: number
  leader: NodeId | null
  commit: number
  applied: number
  lastIndex: number
  conf: ConfState
  /** Only on the leader. */
  peers: PeerStatus[]
  lastLeaderContactMs: number
}

