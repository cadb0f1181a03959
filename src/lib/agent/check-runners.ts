// The check runners (src/lib/agent/checks) as the supervisor
// sees them. TTL checks are not runners: their timers live in check-supervisor.ts.
import {startCheck} from './checks/index.js'
import type {StartCheck} from './check-supervisor.js'

export const startCheckAdapter: StartCheck = startCheck
