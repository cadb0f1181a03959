// Network coordinates of one agent, wired together: each gossip pool's Vivaldi client
// (pool-coordinates.ts), the periodic send of the LAN coordinate (coordinate-sync.ts) and, on a
// server, the batcher that turns received updates into Raft entries (server/coordinate-batcher.ts).
// Absent (undefined) with `disable_coordinates`.
import type {AgentConfig} from '../agent/config.js'
import type {Logger} from '../logger.js'
import type {GossipNode} from '../gossip/node.js'
import type {Consensus} from '../consensus.js'
import type {ForwardedRequest, ForwardedResponse} from '../forward/forwarded.js'
import {PoolCoordinates} from '../agent/pool-coordinates.js'
import {CoordinateSync} from '../agent/coordinate-sync.js'
import {CoordinateBatcher} from '../server/coordinate-batcher.js'
import {defaultCoordinateConfig} from '../coordinate/coordinate.js'
import type {AgentCoordinates} from '../http/context.js'


export interface AgentCoordinatesOptions {
  config: AgentConfig
  lan?: GossipNode
  wan?: GossipNode
  consensus: Consensus
  /** Client agents: runs a request on a server (their sync goes through PUT /v1/coordinate/update). */
  forward?: (request: ForwardedRequest) => Promise<ForwardedResponse>
  now: () => number
  log: Logger
}

export function startAgentCoordinates(o: AgentCoordinatesOptions): AgentCoordinates | undefined {
  const settings = o.config.coordinates
  if (settings.disabled) return undefined
  const lan = o.lan && new PoolCoordinates(o.lan, o.log.named('serf.lan'))
  const wan = o.wan && new PoolCoordinates(o.wan, o.log.named('serf.wan'))
  const batcher = o.config.server
    ? new CoordinateBatcher({
      periodMs: settings.updatePeriodMs, batchSize: settings.updateBatchSize, maxBatches: settings.updateMaxBatches,
      dimensionality: defaultCoordinateConfig().dimensionality, propose: (command) => o.consensus.propose(command),
      now: o.now, log: o.log.named('coordinate'),
    })
    : undefined
  const lanNode = o.lan
  const forward = o.forward
  const sync = lan && lanNode && (batcher || forward)
    ? new CoordinateSync({
      settings, nodeName: o.config.nodeName, log: o.log.named('coordinate'),
      members: () => lanNode.members().filter((m) => m.state === 'alive').length,
      coordinate: () => lan.own,
      submit: batcher
        ? async (update) => batcher.enqueue(update)
        : async (update) => {
          const answer = await forward!({method: 'PUT', url: '/v1/coordinate/update', headers: {'content-type': 'application/json'}, body: new TextEncoder().encode(JSON.stringify(update))})
          if (answer.status !== 200) throw new Error(`${answer.status}: ${new TextDecoder().decode(answer.body)}`)
        },
    })
    : undefined
  return {
    lan, wan, batcher,
    stop: () => {
      sync?.stop()
      batcher?.stop()
    },
  }
}
