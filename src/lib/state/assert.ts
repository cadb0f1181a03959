// Invariant checks for the pure state machine: a failure stops applying (see lib/invariant.ts).
import {invariantChecker, type Assert} from '../invariant.js'

export {InvariantError} from '../invariant.js'
export const assert: Assert = invariantChecker('STATE_INVARIANT', 'state machine')
