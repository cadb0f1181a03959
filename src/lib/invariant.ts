// Invariant checks for the pure cores (ARCHITECTURE.md, house rule 7). A failed assertion is a bug, not a client
// mistake: the driver must stop that node rather than go on with state it can no longer trust, so
// this throws. Each core gets its own checker with a stable code the driver can branch on
// (RAFT_INVARIANT, STATE_INVARIANT, GOSSIP_INVARIANT).

export class InvariantError extends Error {
  constructor(readonly code: string, subsystem: string, why: string) {
    super(`${subsystem} invariant violated: ${why}`)
    this.name = 'InvariantError'
  }
}

export type Assert = (cond: unknown, why: string) => asserts cond

export function invariantChecker(code: string, subsystem: string): Assert {
  return (cond, why) => {
    if (!cond) throw new InvariantError(code, subsystem, why)
  }
}
