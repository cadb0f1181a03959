// Leader election (§5.2, §5.4.1) with PreVote (diss. §9.6) and leader stickiness (diss. §4.2.3).
// PreVote: a node first asks "would you vote for me at term+1?" without changing anyone's term; only
// with a pre-vote quorum does it bump its term. A node that was partitioned away therefore cannot
// force the cluster into a new term when it comes back (it fails PreVote: its log is stale or the
// others still hear from a leader).
import {bcastAppend} from './core-replication.js'
import type {RaftState} from './core-state.js'
import {Progress} from './progress.js'
import {voteOutcome} from './quorum.js'
import type {VoteRequest, VoteResponse} from './types.js'

/** Starts a (pre-)election. `transfer`: started by TimeoutNow, so voters skip the stickiness check. */
export function campaign(s: RaftState, kind: 'preVote' | 'vote', transfer: boolean): void {
  if (!s.isVoter()) return
  s.votes.clear()
  s.leader = null
  if (kind === 'preVote') {
    s.role = 'preCandidate'
  } else {
    s.term += 1
    s.vote = s.id
    s.role = 'candidate'
  }
  s.resetElectionDeadline()
  s.votes.set(s.id, true)
  if (tally(s, transfer)) return
  const term = kind === 'preVote' ? s.term + 1 : s.term
  for (const to of s.conf.voters) {
    if (to === s.id) continue
    s.send({type: kind, to, term, lastLogIndex: s.log.lastIndex(), lastLogTerm: s.log.lastTerm(), transfer})
  }
}

/** Resolves the election if decided; returns true when it was. */
function tally(s: RaftState, transfer: boolean): boolean {
  switch (voteOutcome(s.conf.voters, s.votes)) {
    case 'pending':
      return false
    case 'lost':
      s.becomeFollower(s.term, null)
      return true
    case 'won':
      if (s.role === 'preCandidate') campaign(s, 'vote', transfer)
      else becomeLeader(s)
      return true
  }
}

/**
 * Called once the common term checks in `step` passed (so m.term >= our term, or for PreVote the
 * proposed term is above ours). Grants at most one vote per term (§5.2) and only to a candidate
 * whose log is at least as up to date as ours (§5.4.1, election restriction).
 */
export function handleVoteRequest(s: RaftState, m: VoteRequest): void {
  const pre = m.type === 'preVote'
  const canVote =
    s.vote === m.from ||
    (s.vote === null && s.leader === null) ||
    (pre && m.term > s.term)
  const type = pre ? 'preVoteResponse' : 'voteResponse'
  if (canVote && s.log.isUpToDate(m.lastLogIndex, m.lastLogTerm)) {
    // A PreVote answer carries the proposed term so the pre-candidate counts it.
    s.send({type, to: m.from, term: m.term, reject: false})
    if (!pre) {
      s.vote = m.from
      s.resetElectionDeadline()
    }
  } else {
    s.send({type, to: m.from, reject: true})
  }
}

export function handleVoteResponse(s: RaftState, m: VoteResponse): void {
  const expected = m.type === 'preVoteResponse' ? 'preCandidate' : 'candidate'
  if (s.role !== expected) return
  s.votes.set(m.from, !m.reject)
  tally(s, false)
}

/**
 * A new leader starts every peer in probe at its own lastIndex+1 (§5.3 initializes nextIndex so) and
 * appends a no-op: it may only commit entries of its own term by counting replicas (§5.4.2), and the
 * no-op lets it commit, and so learn the true commit index, without waiting for a client (§8).
 */
export function becomeLeader(s: RaftState): void {
  s.role = 'leader'
  s.leader = s.id
  s.transferee = null
  s.leaseRevoked = false
  s.votes.clear()
  s.progress.clear()
  s.recomputeConf()
  const self = s.progress.get(s.id) ?? new Progress(s.log.lastIndex() + 1, false, s.cfg.maxInflightMsgs)
  s.progress.set(s.id, self)
  self.maybeUpdate(s.log.persistedLastIndex())
  self.recentActive = true
  s.heartbeatDueMs = s.nowMs + s.cfg.heartbeatIntervalMs
  s.checkQuorumDueMs = s.nowMs + s.cfg.electionTimeoutMs
  const noop = {index: s.log.lastIndex() + 1, term: s.term, type: 'noop' as const, data: new Uint8Array(0)}
  s.log.append([noop])
  bcastAppend(s)
}

/** Follower/candidate timer: campaign after a randomized election timeout without a leader. */
export function tickElection(s: RaftState): void {
  if (s.nowMs < s.electionDeadlineMs) return
  if (s.isVoter()) campaign(s, s.cfg.preVote ? 'preVote' : 'vote', false)
  else s.resetElectionDeadline()
}
