// Fitting an answer into its transport, as Consul's trimUDPResponse/trimTCPResponse do:
// UDP without EDNS keeps at most min(8, udp_answer_limit) answers and 512 bytes; with EDNS the
// client's advertised size (at most 65467); TCP keeps 64 KiB. Answers are dropped from the end
// (they were shuffled) and the additional section is rebuilt to cover only the SRV targets left.
// dns-packet writes names uncompressed, so the measured length is the real one.
import {encodingLength, type Answer, type Packet} from 'dns-packet'

const maxUdpAnswerLimit = 8
const defaultUdpSize = 512
const maxUdpDatagram = 65535 - 68
const maxTcpSize = 65523

const key = (name: string) => name.toLowerCase().replace(/\.$/, '')

/** Keeps the additional records that name an SRV or NS target still in the answers (and the OPT). */
function syncAdditionals(packet: Packet, pool: readonly Answer[]): void {
  const targets = new Set<string>()
  for (const a of packet.answers ?? []) {
    if (a.type === 'SRV') targets.add(key(a.data.target))
    if (a.type === 'NS') targets.add(key(a.data))
  }
  packet.additionals = pool.filter((r) => r.type === 'OPT' || targets.has(key(r.name)))
}

/** Keeps the largest answer prefix whose packet fits `maxSize` (binary search), at least one. */
function fit(packet: Packet, maxSize: number, pool: readonly Answer[], hasExtra: boolean): void {
  const all = packet.answers ?? []
  if (encodingLength(packet) <= maxSize) return
  const sizeWith = (n: number) => {
    packet.answers = all.slice(0, n)
    if (hasExtra) syncAdditionals(packet, pool)
    return encodingLength(packet)
  }
  // Consul drops the authority section first.
  packet.authorities = []
  let lo = 1
  let hi = all.length
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (sizeWith(mid) <= maxSize) lo = mid
    else hi = mid - 1
  }
  sizeWith(lo)
}

/** Trims `packet` in place; returns true when answers were dropped. `ednsSize` 0 = no EDNS. */
export function trimResponse(packet: Packet, transport: 'udp' | 'tcp', qtype: string, udpAnswerLimit: number, ednsSize: number): boolean {
  const before = packet.answers?.length ?? 0
  if (before === 0) return false
  const pool = [...(packet.additionals ?? [])]
  const hasExtra = pool.some((r) => r.type !== 'OPT')
  if (transport === 'tcp') {
    const cap = qtype === 'SRV' ? 1024 : 4096
    if (before > cap) packet.answers = packet.answers!.slice(0, cap)
    fit(packet, maxTcpSize, pool, hasExtra)
  } else {
    const maxSize = Math.min(Math.max(defaultUdpSize, ednsSize), maxUdpDatagram)
    const maxAnswers = Math.min(maxUdpAnswerLimit, udpAnswerLimit)
    if (maxSize === defaultUdpSize && before > maxAnswers) {
      packet.answers = packet.answers!.slice(0, maxAnswers)
      if (hasExtra) syncAdditionals(packet, pool)
    }
    // Consul keeps 8 bytes of room for the UDP header.
    fit(packet, maxSize - 8, pool, hasExtra)
  }
  return (packet.answers?.length ?? 0) < before
}
