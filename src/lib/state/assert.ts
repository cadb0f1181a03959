// Invariant checks for the pure state machine (STYLE.md §7). A failed assertion is a bug, not a
// client mistake: the caller (the Raft driver) must stop applying rather than carry on with
// replicated state it can no longer trust, so this throws instead of returning an error value.

export class InvariantError extends Error {
  readonly code = 'STATE_INVARIANT'
  constructor(why: string) {
    super(`state machine invariant violated: ${why}`)
    this.name = 'InvariantError'
  }
}

export function assert(cond: unknown, why: string): asserts cond {
  if (!cond) throw new InvariantError(why)
}
