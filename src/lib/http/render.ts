// State records → Consul's JSON shapes, field order as Consul's Go structs serialize them.
import type {KVEntry, Session} from '../state/types.js'

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER)

export function renderKV(entry: KVEntry, withValue = true): Record<string, unknown> {
  const out: Record<string, unknown> = {
    LockIndex: entry.lockIndex,
    Key: entry.key,
    // A number when exact (almost always: JSON the same), so toJson stays on V8's fast path.
    Flags: entry.flags <= MAX_EXACT ? Number(entry.flags) : entry.flags,
    // A view on the stored bytes, not a copy of them.
    Value: withValue && entry.value.length > 0 ? Buffer.from(entry.value.buffer, entry.value.byteOffset, entry.value.byteLength).toString('base64') : null,
  }
  if (entry.session) out.Session = entry.session
  out.CreateIndex = entry.createIndex
  out.ModifyIndex = entry.modifyIndex
  return out
}

/** LockDelay is nanoseconds on the wire (Go's time.Duration); TTL stays the string the client sent. */
export function renderSession(session: Session): Record<string, unknown> {
  return {
    ID: session.id,
    Name: session.name,
    Node: session.node,
    LockDelay: session.lockDelayMs * 1_000_000,
    Behavior: session.behavior,
    TTL: session.ttl,
    NodeChecks: session.nodeChecks.length > 0 ? session.nodeChecks : null,
    ServiceChecks: session.serviceChecks.length > 0 ? session.serviceChecks.map((c) => ({ID: c.id, Namespace: c.namespace ?? ''})) : null,
    CreateIndex: session.createIndex,
    ModifyIndex: session.modifyIndex,
  }
}
