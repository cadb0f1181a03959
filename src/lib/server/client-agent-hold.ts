// Which requests a server runs on behalf of a client agent, so that its leader hold waits less for
// them (leader-hold.ts explains why). The request's whole handler chain runs inside
// holdForClientAgent; the LeaderHold asks clientAgentWaitCapMs() when it starts waiting. Kept out of
// leader-hold.ts, a driver piece that imports no Node built-in (the driver simulation runs it).
import {AsyncLocalStorage} from 'node:async_hooks'

/** How long a server waits for a leader on behalf of a client agent's request. */
export const CLIENT_AGENT_HOLD_MS = 1_000

const waitCap = new AsyncLocalStorage<number>()

/** Runs `fn` (a client agent's forwarded request) so that any leader hold inside it waits at most CLIENT_AGENT_HOLD_MS for a leader. */
export function holdForClientAgent<T>(fn: () => Promise<T>): Promise<T> {
  return waitCap.run(CLIENT_AGENT_HOLD_MS, fn)
}

/** The wait cap of the client agent's request being run now; undefined for any other request. */
export function clientAgentWaitCapMs(): number | undefined {
  return waitCap.getStore()
}
