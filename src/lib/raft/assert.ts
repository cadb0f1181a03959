// Invariant checks for the Raft core (STYLE.md rule 7). A failure is a bug: the driver must stop
// the node rather than go on with a log it can no longer trust, so this throws.

export class RaftInvariantError extends Error {
  readonly code = 'RAFT_INVARIANT'
  constructor(why: string) {
    super(`raft invariant violated: ${why}`)
    this.name = 'RaftInvariantError'
  }
}

export function assert(cond: unknown, why: string): asserts cond {
  if (!cond) throw new RaftInvariantError(why)
}
