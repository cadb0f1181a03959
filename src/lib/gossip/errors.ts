// Errors of the gossip core with stable codes (ARCHITECTURE.md, house rule 4); the invariant error is in core-state.ts.

export class GossipConfigError extends Error {
  readonly code = 'GOSSIP_CONFIG_INVALID'
  constructor(readonly problems: string[]) {
    super(`invalid gossip config: ${problems.join('; ')}`)
    this.name = 'GossipConfigError'
  }
}
