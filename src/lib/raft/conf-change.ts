// Single-server membership changes (diss. §4.1): adding or removing one voter at a time keeps
// every majority of the old configuration overlapping every majority of the new one, so no joint
// consensus is needed. A new server joins as a learner first (diss. §4.2.1) so it can catch up
// without counting towards (and stalling) the quorum; the caller promotes it once caught up.
//
// Effect on APPEND, not commit (diss. §4.1): a server uses the latest configuration in its log,
// committed or not, and falls back to the previous one if that entry is truncated away.
import type {ConfChange, ConfState, NodeId} from './types.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function encodeConfChange(change: ConfChange): Uint8Array {
  return encoder.encode(JSON.stringify({type: change.type, nodeId: change.nodeId}))
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  const parsed = JSON.parse(decoder.decode(data)) as ConfChange
  return {type: parsed.type, nodeId: parsed.nodeId}
}

/** Why `change` cannot apply to `conf`, or null when it can. */
export function confChangeProblem(conf: ConfState, change: ConfChange): string | null {
  const isVoter = conf.voters.includes(change.nodeId)
  const isLearner = conf.learners.includes(change.nodeId)
  switch (change.type) {
    case 'addLearner':
      return isVoter || isLearner ? `${change.nodeId} is already a member` : null
    case 'promote':
      return isLearner ? null : `${change.nodeId} is not a learner`
    case 'remove':
      if (!isVoter && !isLearner) return `${change.nodeId} is not a member`
      return isVoter && conf.voters.length === 1 ? 'cannot remove the last voter' : null
  }
}

/** The configuration after `change`; an inapplicable change leaves it as is (idempotent replay). */
export function applyConfChange(conf: ConfState, change: ConfChange): ConfState {
  const without = (ids: NodeId[]): NodeId[] => ids.filter((id) => id !== change.nodeId)
  if (confChangeProblem(conf, change) !== null) return conf
  switch (change.type) {
    case 'addLearner':
      return {voters: conf.voters.slice(), learners: [...conf.learners, change.nodeId]}
    case 'promote':
      return {voters: [...conf.voters, change.nodeId], learners: without(conf.learners)}
    case 'remove':
      return {voters: without(conf.voters), learners: without(conf.learners)}
  }
}
