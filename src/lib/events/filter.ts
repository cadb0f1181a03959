// Whether this agent should take a user event: Consul applies the node/service/tag filters on
// the RECEIVING agent (agent/user_event.go shouldProcessUserEvent), so an event reaches every
// member by gossip and each decides for itself. Pure.
import {compileFilter, type UserEvent} from './user-event.js'

/** A service registered on this agent, as the filters see it (agent-local). */
export interface LocalService {
  ID: string
  Service: string
  Tags: string[]
}

export type FilterVerdict = {accept: true} | {accept: false; reason: string}

/**
 * Node filter against our node name; service filter against each local service (its ID, as
 * Consul keys services by ID, or its name); a tag filter then needs a matching tag on a service
 * that matched. A filter that does not compile rejects the event (the sender validated it, so
 * that means a newer or foreign sender).
 */
export function filterUserEvent(event: UserEvent, nodeName: string, services: readonly LocalService[]): FilterVerdict {
  let node: RegExp | undefined
  let service: RegExp | undefined
  let tag: RegExp | undefined
  try {
    node = event.NodeFilter ? compileFilter(event.NodeFilter) : undefined
    service = event.ServiceFilter ? compileFilter(event.ServiceFilter) : undefined
    tag = event.TagFilter ? compileFilter(event.TagFilter) : undefined
  } catch (error) {
    return {accept: false, reason: `bad filter: ${(error as Error).message}`}
  }
  if (node && !node.test(nodeName)) return {accept: false, reason: 'node filter does not match'}
  if (!service) return {accept: true}
  const serviceRe = service
  const tagRe = tag
  const matched = services.some((s) => (serviceRe.test(s.ID) || serviceRe.test(s.Service)) && (!tagRe || s.Tags.some((t) => tagRe.test(t))))
  return matched ? {accept: true} : {accept: false, reason: tag ? 'no local service with a matching tag' : 'no matching local service'}
}
