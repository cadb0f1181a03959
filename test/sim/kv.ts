// The replicated state machine of the simulation: a tiny KV map where each value remembers the
// log index that wrote it, so a read can say exactly which write it observed.
const encoder = new TextEncoder()
const decoder = new TextDecoder()

export interface KvCommand {
  key: string
  value: string
}

export interface KvValue {
  value: string
  index: number
}

export function encodeKv(command: KvCommand): Uint8Array {
  return encoder.encode(`${command.key}=${command.value}`)
}

export function decodeKv(data: Uint8Array): KvCommand {
  const text = decoder.decode(data)
  const eq = text.indexOf('=')
  return {key: text.slice(0, eq), value: text.slice(eq + 1)}
}

export class Kv {
  #map = new Map<string, KvValue>()
  applied = 0

  apply(index: number, data: Uint8Array | undefined): void {
    if (index <= this.applied) throw new Error(`kv: apply ${index} after ${this.applied}`)
    this.applied = index
    if (!data) return
    const {key, value} = decodeKv(data)
    this.#map.set(key, {value, index})
  }

  get(key: string): KvValue | undefined {
    return this.#map.get(key)
  }

  serialize(): Uint8Array {
    return encoder.encode(JSON.stringify({applied: this.applied, map: [...this.#map]}))
  }

  static restore(data: Uint8Array): Kv {
    const parsed = JSON.parse(decoder.decode(data)) as {applied: number; map: Array<[string, KvValue]>}
    const kv = new Kv()
    kv.applied = parsed.applied
    kv.#map = new Map(parsed.map)
    return kv
  }
}
