// One gossip pool's network coordinates (serf's coordinate client + coordinate cache): every
// direct probe whose ack carried the peer's coordinate (gossip ack payloads) moves our Vivaldi
// coordinate by the measured round trip, and the peer's coordinate is cached for the WAN views
// (/v1/coordinate/datacenters, datacenter order). Our acks then carry the new coordinate. The LAN
// and WAN pools each have one, so their coordinates never mix (they model different networks).
import {SeededRng} from '../rng.js'
import {VivaldiClient} from '../coordinate/client.js'
import type {Coordinate} from '../coordinate/coordinate.js'
import {decodeCoordinate, encodeCoordinate} from '../coordinate/wire.js'
import type {GossipNode} from '../gossip/node.js'
import type {Logger} from '../logger.js'

export class PoolCoordinates {
  readonly #client: VivaldiClient
  readonly #cache = new Map<string, Coordinate>()
  readonly #selfName: string
  /** Observations refused (a bad payload or RTT): counted, logged at debug. */
  rejected = 0
  /** Observations applied. */
  updates = 0

  constructor(node: GossipNode, log: Logger, seed = Math.floor(Math.random() * 2 ** 32)) {
    this.#client = new VivaldiClient(new SeededRng(seed))
    this.#selfName = node.name
    const dimensionality = this.#client.config.dimensionality
    node.setAckPayload(encodeCoordinate(this.#client.coordinate))
    node.on('pingComplete', (result) => {
      try {
        const other = decodeCoordinate(result.payload, dimensionality)
        const mine = this.#client.update(result.node, other, result.rttMs / 1000)
        this.#cache.set(result.node, other)
        this.updates++
        node.setAckPayload(encodeCoordinate(mine))
      } catch (error) {
        this.rejected++
        log.debug('serf: rejected coordinate', {from: result.node, rtt_ms: result.rttMs, error: (error as Error).message})
      }
    })
    // serf drops a member's cached coordinate when it leaves or is reaped.
    node.on('member', (event) => {
      if (event.type !== 'left' && event.type !== 'reaped') return
      this.#cache.delete(event.member.name)
      this.#client.forgetNode(event.member.name)
    })
  }

  /** This node's coordinate (a copy). */
  get own(): Coordinate {
    return this.#client.coordinate
  }

  /** The last coordinate a member's ack carried; ours for our own name; undefined if none yet. */
  cached(name: string): Coordinate | undefined {
    return name === this.#selfName ? this.own : this.#cache.get(name)
  }
}
