// The plug point between anti-entropy and the catalog (contract 2): how the agent proposes
// catalog-register / catalog-deregister and reads what the catalog holds for its node. Until the
// state machine applies those commands (the `catalog` branch), anti-entropy stays off: an
// unknown command type in the Raft log would stop every server that applies it.
import type {Consensus} from '../server/consensus.js'
import type {StateMachine} from '../state/state-machine.js'
import type {CatalogCommand, CatalogView} from './catalog-requests.js'

export function catalogSyncAdapter(_consensus: Consensus, _state: StateMachine): {propose?: (command: CatalogCommand) => Promise<void>; catalog?: CatalogView} {
  return {}
}
