// The plug point for the check runners (contract 3). The `dns` branch builds them in
// src/lib/agent/checks; once merged, this becomes `export {startCheck as startCheckAdapter} from
// './checks/index.js'`. Until then non-TTL checks keep their initial status and the supervisor
// logs that no runner is available (TTL checks need none: their timers live in the supervisor).
import type {StartCheck} from './check-supervisor.js'

export const startCheckAdapter: StartCheck | undefined = undefined
