// Alias checks (Consul's CheckAlias): mirror the health of a local service (AliasService) or node
// (AliasNode): evaluated at start and again whenever the local services or checks change, not on
// an interval. A service the agent does not know is critical, as in Consul.
import type {AliasCheck} from '../definitions.js'
import type {CheckEnv, CheckStatus, RunningCheck} from './types.js'

export function startAlias(def: AliasCheck, report: (status: CheckStatus, output: string) => void, env: CheckEnv): RunningCheck {
  const node = def.AliasNode || undefined
  const serviceId = def.AliasService || undefined
  let last = ''
  const update = () => {
    const result = env.aliasStatus(node, serviceId)
    let status: CheckStatus
    let output: string
    if (result === undefined) {
      status = 'critical'
      output = serviceId ? `Service ${serviceId} could not be found on node ${node ?? ''}`.trimEnd() : `Node ${node ?? ''} could not be found`
    } else if (typeof result === 'string') {
      status = result
      output = result === 'passing' ? 'All checks passing.' : `Aliased ${serviceId ? 'service' : 'node'} is ${result}`
    } else {
      status = result.status
      output = result.output
    }
    // Only changes are reported: every local change calls us, most of them about other checks.
    const key = `${status}\0${output}`
    if (key === last) return
    last = key
    report(status, output)
  }
  let stopped = false
  const unsubscribe = env.onLocalChange(() => {
    if (!stopped) update()
  })
  // The first evaluation waits a tick: the caller may still be registering what we alias.
  const first = setTimeout(() => { if (!stopped) update() }, 0)
  return {
    stop: () => {
      stopped = true
      clearTimeout(first)
      unsubscribe()
    },
  }
}
