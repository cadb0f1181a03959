// Invariant checks for the Raft core: a failure stops the node (see lib/invariant.ts).
import {invariantChecker, type Assert} from '../invariant.js'

export const assert: Assert = invariantChecker('RAFT_INVARIANT', 'raft')
