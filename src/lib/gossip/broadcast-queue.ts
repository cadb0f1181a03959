// Piggybacked dissemination with a retransmit limit (SWIM §4.4; memberlist's TransmitLimitedQueue).
// Each broadcast rides on outgoing packets until it has been sent `limit` times, where limit =
// retransmitMult × ceil(log10(N + 1)): enough for epidemic spread to reach everyone w.h.p. A newer
// broadcast about the same member replaces the older one (only the latest state matters). Selection
// prefers the least-sent, and among those the newest, within the packet's byte budget.
import type {Broadcast} from './types.js'
import {messageSizeBytes, type WireSizes} from './wire-size.js'

interface Item {
  key: string
  message: Broadcast
  sizeBytes: number
  /** Also the index of the bucket the item sits in while it is queued. */
  transmits: number
  dropped: boolean
}

/**
 * Items sent the same number of times, oldest first. Dropped items are left in place and skipped
 * (compacted once they are half the bucket), so replacing news costs O(1) rather than O(queue);
 * `sizes` counts the live items by size, so a walk stops once nothing left in the bucket fits.
 */
interface Bucket {
  items: Item[]
  sizes: SizeCounts
  dead: number
}

/**
 * Live items counted by byte size in a flat array (a packet is sized in the hundreds of bytes, so
 * it stays small), with a lower bound under the smallest one: "does anything fit in `bytes`?" then
 * scans only sizes not ruled out before, and counting an item is an array increment, not a map update.
 */
class SizeCounts {
  #counts = new Int32Array(256)
  /** No live item is smaller than this. */
  #floor = Infinity

  add(size: number): void {
    if (size >= this.#counts.length) {
      let length = this.#counts.length
      while (length <= size) length *= 2
      const grown = new Int32Array(length)
      grown.set(this.#counts)
      this.#counts = grown
    }
    this.#counts[size]++
    if (size < this.#floor) this.#floor = size
  }

  remove(size: number): void {
    this.#counts[size]--
  }

  /** Whether some live item is at most `bytes` long. */
  anyAtMost(bytes: number): boolean {
    const counts = this.#counts
    const end = Math.min(bytes, counts.length - 1)
    for (let size = this.#floor; size <= end; size++) {
      if (counts[size] > 0) {
        this.#floor = size
        return true
      }
    }
    if (end + 1 > this.#floor) this.#floor = end + 1
    return false
  }
}

/** Smallest message worth searching for when the budget is nearly used up. */
const MIN_MESSAGE_BYTES = 8

export class BroadcastQueue {
  /** buckets[t]: items sent t times. */
  #buckets: Bucket[] = []
  #byKey = new Map<string, Item>()
  /** Estimated bytes of what the last take() returned (wire-size.ts), so a packet is not sized twice. */
  takenBytes = 0

  constructor(readonly sizeOf: WireSizes['message'] = messageSizeBytes) {}

  get size(): number {
    return this.#byKey.size
  }

  static retransmitLimit(retransmitMult: number, members: number): number {
    return retransmitMult * Math.ceil(Math.log10(members + 1))
  }

  /** Queue `message` under `key`, replacing what was queued under the same key. */
  enqueue(key: string, message: Broadcast): void {
    const old = this.#byKey.get(key)
    if (old) this.#kill(old)
    const item: Item = {key, message, sizeBytes: this.sizeOf(message), transmits: 0, dropped: false}
    this.#byKey.set(key, item)
    this.#add(item)
  }

  /** Forget what is queued under `key` (e.g. a suspicion that a refutation made moot). */
  drop(key: string): void {
    const old = this.#byKey.get(key)
    if (!old) return
    this.#kill(old)
    this.#byKey.delete(key)
  }

  /**
   * Take broadcasts fitting `budgetBytes`, counting one transmit each; drops those past `limit`.
   * Per bucket (least-sent first), walks newest to oldest taking whatever still fits; what stays
   * keeps its order. Cost: the items walked, not the queue's length.
   */
  take(budgetBytes: number, limit: number): Broadcast[] {
    const out: Broadcast[] = []
    let left = budgetBytes
    const moved: Item[] = []
    for (let t = 0; t < this.#buckets.length && left >= MIN_MESSAGE_BYTES; t++) {
      const bucket = this.#buckets[t]
      const items = bucket.items
      if (items.length === 0) continue
      if (t >= limit) {
        // Sent often enough under the current limit: forget them all.
        for (const item of items) {
          if (item.dropped) continue
          item.dropped = true
          if (this.#byKey.get(item.key) === item) this.#byKey.delete(item.key)
        }
        this.#buckets[t] = newBucket()
        continue
      }
      const keep: Item[] = []
      let fitsLeft = -1
      let anyFits = true
      let i = items.length - 1
      for (; i >= 0 && left >= MIN_MESSAGE_BYTES; i--) {
        const item = items[i]
        if (item.dropped) {
          bucket.dead--
          continue
        }
        if (item.sizeBytes <= left) {
          left -= item.sizeBytes
          out.push(item.message)
          bucket.sizes.remove(item.sizeBytes)
          item.transmits++
          if (item.transmits >= limit) this.#remove(item)
          else moved.push(item)
        } else {
          if (fitsLeft !== left) {
            fitsLeft = left
            anyFits = bucket.sizes.anyAtMost(left)
          }
          keep.push(item)
          // Nothing further down this bucket fits (what was kept is larger still): stop here.
          if (!anyFits) {
            i--
            break
          }
        }
      }
      items.length = i + 1
      for (let k = keep.length - 1; k >= 0; k--) items.push(keep[k])
    }
    this.takenBytes = budgetBytes - left
    for (const item of moved) {
      const b = this.#bucket(item.transmits)
      b.items.push(item)
      b.sizes.add(item.sizeBytes)
    }
    return out
  }

  /**
   * What take() would return for `budgetBytes`, without counting a transmit: for a packet whose
   * receiver is probably gone (gossip to a member declared failed or left), which must not use up
   * the sends that live members are owed.
   */
  peek(budgetBytes: number, limit: number): Broadcast[] {
    const out: Broadcast[] = []
    let left = budgetBytes
    for (let t = 0; t < Math.min(limit, this.#buckets.length) && left >= MIN_MESSAGE_BYTES; t++) {
      const items = this.#buckets[t].items
      for (let i = items.length - 1; i >= 0 && left >= MIN_MESSAGE_BYTES; i--) {
        const item = items[i]
        if (item.dropped || item.sizeBytes > left) continue
        left -= item.sizeBytes
        out.push(item.message)
      }
    }
    this.takenBytes = budgetBytes - left
    return out
  }

  #add(item: Item): void {
    const b = this.#bucket(item.transmits)
    b.items.push(item)
    b.sizes.add(item.sizeBytes)
  }

  /** Mark a queued item dropped where it sits. */
  #kill(item: Item): void {
    if (item.dropped) return
    item.dropped = true
    const b = this.#buckets[item.transmits]
    b.sizes.remove(item.sizeBytes)
    b.dead++
    if (b.dead > 32 && 2 * b.dead > b.items.length) {
      b.items = b.items.filter((x) => !x.dropped)
      b.dead = 0
    }
  }

  /** An item already out of its bucket (taken for the last time). */
  #remove(item: Item): void {
    item.dropped = true
    if (this.#byKey.get(item.key) === item) this.#byKey.delete(item.key)
  }

  #bucket(t: number): Bucket {
    while (this.#buckets.length <= t) this.#buckets.push(newBucket())
    return this.#buckets[t]
  }
}

function newBucket(): Bucket {
  return {items: [], sizes: new SizeCounts(), dead: 0}
}
