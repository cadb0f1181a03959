// Majority arithmetic over the voters (§5.2, §5.3). Pure and tiny so it is tested on its own.
import type {NodeId} from './types.js'

export function quorumSize(voters: number): number {
  return Math.floor(voters / 2) + 1
}

/**
 * The largest value v such that a majority of voters have value >= v: the commit index for match
 * indexes (§5.3), the confirmed ReadIndex round for acked sequence numbers, the lease start for
 * acked send times. -Infinity with no voters.
 */
export function quorumValue(voters: readonly NodeId[], valueOf: (id: NodeId) => number): number {
  if (voters.length === 0) return -Infinity
  const values = voters.map(valueOf).sort((a, b) => b - a)
  return values[quorumSize(voters.length) - 1]
}

export type VoteOutcome = 'won' | 'lost' | 'pending'

/** Tally of a (pre)vote among `voters`; votes from non-voters are ignored. */
export function voteOutcome(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteOutcome {
  let granted = 0
  let rejected = 0
  for (const id of voters) {
    const vote = votes.get(id)
    if (vote === true) granted++
    else if (vote === false) rejected++
  }
  const needed = quorumSize(voters.length)
  if (granted >= needed) return 'won'
  if (voters.length - rejected < needed) return 'lost'
  return 'pending'
}
