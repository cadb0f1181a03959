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

/**
 * A membership entry carries the change *and* the whole configuration it produces. A server that
 * joins later replays the log from an index where it knew no configuration at all (the initial
 * membership lives in each founding server's snapshot-0 meta, not in the log); reading the full
 * result from the entry gives it the same configuration as everyone else.
 */
export function encodeConfChange(change: ConfChange, result: ConfState): Uint8Array {
  return encoder.encode(JSON.stringify({type: change.type, nodeId: change.nodeId, result}))
}

export function decodeConfChange(data: Uint8Array): ConfChange & {result?: ConfState} {
  const parsed = JSON.parse(decoder.decode(data)) as ConfChange & {result?: ConfState}
  return {type: parsed.type, nodeId: parsed.nodeId, result: parsed.result}
}

/** The configuration a membership entry establishes, whatever this server knew before it. */
export function confAfterEntry(base: ConfState, data: Uint8Array): ConfState {
  const change = decodeConfChange(data)
  if (change.result) return {voters: change.result.voters.slice(), learners: change.result.learners.slice()}
  return applyConfChange(base, change)
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
