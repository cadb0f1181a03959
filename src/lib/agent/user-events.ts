// The agent's user events: fires them into the LAN gossip pool (or straight to itself when gossip
// is off), and takes every user event gossip delivers (its own included, as serf does): decode
// Consul's envelope, apply the filters here, hand `_rexec` to remote exec, and keep the rest in
// the 256-event ring that /v1/event/list reads.
import {randomUUID} from 'node:crypto'
import type {ReceivedUserEvent} from '../gossip/types.js'
import {EventBuffer} from '../events/event-buffer.js'
import {filterUserEvent, type LocalService} from '../events/filter.js'
import {
  REMOTE_EXEC_EVENT, SERF_EVENT_PREFIX, checkEventSize, decodeEnvelope, encodeEnvelope, newUserEvent, serfEventName,
  type UserEvent, type UserEventParams,
} from '../events/user-event.js'
import type {Logger} from '../logger.js'

export interface UserEventsOptions {
  nodeName: string
  log: Logger
  /** Broadcasts (serf name, payload) to the pool; undefined when gossip is disabled. */
  broadcast?: (serfName: string, payload: Uint8Array) => void
  /** Services registered on this agent, for service/tag filters. */
  localServices: () => readonly LocalService[]
  /** Called for an accepted `_rexec` event (the caller checks disable_remote_exec). */
  onRemoteExec?: (event: UserEvent) => void
}

export class UserEvents {
  readonly buffer = new EventBuffer()
  readonly #o: UserEventsOptions

  constructor(options: UserEventsOptions) {
    this.#o = options
  }

  /** Validates, stamps an ID and sends; returns the event as /v1/event/fire answers it (LTime 0). */
  fire(params: UserEventParams): UserEvent {
    const event = newUserEvent(params, randomUUID())
    const envelope = encodeEnvelope(event)
    const name = serfEventName(event.Name)
    checkEventSize(name, envelope)
    if (this.#o.broadcast) this.#o.broadcast(name, envelope)
    else this.receive({ltime: 0, name, payload: envelope})
    return event
  }

  /** One user event from gossip (each is delivered once: gossip dedups by ltime, name, payload). */
  receive(received: ReceivedUserEvent): void {
    if (!received.name.startsWith(SERF_EVENT_PREFIX)) return // a serf event that is not Consul's
    let event: UserEvent
    try {
      event = decodeEnvelope(received.payload, received.ltime)
    } catch (error) {
      this.#o.log.error('agent: Failed to decode event', {error: (error as Error).message})
      return
    }
    if (event.Version > 1) this.#o.log.warn('agent: Event version may have unsupported features', {version: event.Version, name: event.Name})
    const verdict = filterUserEvent(event, this.#o.nodeName, this.#o.localServices())
    if (!verdict.accept) {
      this.#o.log.debug('agent: event filtered out', {name: event.Name, id: event.ID, reason: verdict.reason})
      return
    }
    if (event.Name === REMOTE_EXEC_EVENT) {
      this.#o.onRemoteExec?.(event)
      return
    }
    this.#o.log.debug('agent: new event', {name: event.Name, id: event.ID})
    this.buffer.add(event)
  }
}
