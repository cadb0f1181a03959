// Piggybacked dissemination with a retransmit limit (SWIM §4.4; memberlist's TransmitLimitedQueue).
// Each broadcast rides on outgoing packets until it has been sent `limit` times, where limit =
// retransmitMult × ceil(log10(N + 1)): enough for epidemic spread to reach everyone w.h.p. A newer
// broadcast about the same member replaces the older one (only the latest state matters). Selection
// prefers the least-sent, and among those the newest, within the packet's byte budget.
import type {Broadcast} from './types.js'
import {messageSizeBytes} from './wire-size.js'

interface Item {
  key: string
  message: Broadcast
  sizeBytes: number
  transmits: number
  dropped: boolean
}

/** Smallest message worth searching for when the budget is nearly used up. */
const MIN_MESSAGE_BYTES = 8

export class BroadcastQueue {
  /** buckets[t]: items sent t times, oldest first. */
  #buckets: Item[][] = []
  #byKey = new Map<string, Item>()

  get size(): number {
    return this.#byKey.size
  }

  static retransmitLimit(retransmitMult: number, members: number): number {
    return retransmitMult * Math.ceil(Math.log10(members + 1))
  }

  /** Queue `message` under `key`, replacing what was queued under the same key. */
  enqueue(key: string, message: Broadcast): void {
    const old = this.#byKey.get(key)
    if (old) old.dropped = true
    const item: Item = {key, message, sizeBytes: messageSizeBytes(message), transmits: 0, dropped: false}
    this.#byKey.set(key, item)
    this.#bucket(0).push(item)
  }

  /** Forget what is queued under `key` (e.g. a suspicion that a refutation made moot). */
  drop(key: string): void {
    const old = this.#byKey.get(key)
    if (!old) return
    old.dropped = true
    this.#byKey.delete(key)
  }

  /** Take broadcasts fitting `budgetBytes`, counting one transmit each; drops those past `limit`. */
  take(budgetBytes: number, limit: number): Broadcast[] {
    const out: Broadcast[] = []
    let left = budgetBytes
    const moved: Item[] = []
    for (let t = 0; t < this.#buckets.length && left >= MIN_MESSAGE_BYTES; t++) {
      const bucket = this.#buckets[t]
      if (bucket.length === 0) continue
      const keep: Item[] = []
      // Newest first: walk from the end; what stays keeps its oldest-first order.
      let i = bucket.length - 1
      for (; i >= 0 && left >= MIN_MESSAGE_BYTES; i--) {
        const item = bucket[i]
        if (item.dropped) continue
        if (t >= limit) {
          this.#remove(item)
          continue
        }
        if (item.sizeBytes <= left) {
          left -= item.sizeBytes
          out.push(item.message)
          item.transmits++
          if (item.transmits >= limit) this.#remove(item)
          else moved.push(item)
        } else {
          keep.push(item)
        }
      }
      const untouched = bucket.slice(0, i + 1).filter((item) => !item.dropped)
      this.#buckets[t] = untouched.concat(keep.reverse())
    }
    for (const item of moved) this.#bucket(item.transmits).push(item)
    return out
  }

  #remove(item: Item): void {
    item.dropped = true
    if (this.#byKey.get(item.key) === item) this.#byKey.delete(item.key)
  }

  #bucket(t: number): Item[] {
    while (this.#buckets.length <= t) this.#buckets.push([])
    return this.#buckets[t]
  }
}
