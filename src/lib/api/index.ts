// The /v1 client: the only way commands reach an agent. Import the modules you need directly for
// the fastest start; this index is for convenience (tests, agent-side tools).
export * from './address.js'
export * from './agent.js'
export * from './blocking.js'
export * from './client.js'
export * from './errors.js'
export * from './json.js'
export * from './kv.js'
export * from './operator.js'
export * from './session.js'
export * from './snapshot.js'
export * from './status.js'
export * from './txn.js'
