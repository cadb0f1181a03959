// Query names → what to look up, as Consul's DNS dispatch reads them (agent/dns.go). Pure.
//
//   [<tag>.]<service>.service[.<dc>[.dc]].<domain>      A, AAAA, SRV, ANY
//   _<service>._<tag|tcp>.service[.<dc>].<domain>       RFC 2782 (SRV); "_tcp" means no tag filter
//   _<service>._<tag>[.<dc>].<domain>                   SRV only: the "service" label may be left out
//   <node>.node[.<dc>].<domain>                         A, AAAA, TXT (node meta), ANY
//   <hex ip>.addr[.<dc>].<domain>                       the SRV target form for service addresses
//   <query name or ID>.query[.<dc>].<domain>            prepared queries: A, AAAA, SRV, ANY

export type Lookup =
  | {kind: 'service'; service: string; tag: string; datacenter: string}
  | {kind: 'node'; node: string; datacenter: string}
  | {kind: 'addr'; ip: string; family: 4 | 6}
  /** A prepared query by name or ID (dots allowed: the labels are joined, as Consul's). */
  | {kind: 'query'; query: string; datacenter: string}
  /** Inside the domain but not a name coord answers (prepared queries, connect, peers...). */
  | {kind: 'invalid'}

export interface ZoneMatch {
  /** The configured domain the question ended with ("consul." or the alt domain), lower case. */
  zone: string
  /** Labels before the zone, lower case. */
  labels: string[]
}

/** Which of our zones holds `qname`, and the labels before it; undefined when it's outside both. */
export function matchZone(qname: string, zones: readonly string[]): ZoneMatch | undefined {
  const name = qname.toLowerCase().replace(/\.?$/, '.')
  // Longest zone first, so "consul." does not capture a name under an alt domain "x.consul.".
  for (const zone of [...zones].filter(Boolean).sort((a, b) => b.length - a.length)) {
    if (name === zone) return {zone, labels: []}
    if (name.endsWith(`.${zone}`)) return {zone, labels: name.slice(0, -(zone.length + 1)).split('.')}
  }
  return undefined
}

const kinds = new Set(['service', 'connect', 'virtual', 'ingress', 'node', 'query', 'addr'])

/** Consul's locality suffix: none, "<dc>", or "<dc>.dc" (peers are not supported: invalid). */
function parseDatacenter(suffix: string[], local: string): string | undefined {
  if (suffix.length === 0) return local
  if (suffix.length === 1) return suffix[0]
  if (suffix.length === 2 && suffix[1] === 'dc') return suffix[0]
  return undefined
}

export function parseLookup(labels: string[], qtype: string, localDatacenter: string): Lookup {
  let kind = ''
  let parts: string[] = []
  let suffix: string[] = []
  for (let i = labels.length - 1; i >= 0; i--) {
    if (kinds.has(labels[i])) {
      kind = labels[i]
      parts = labels.slice(0, i)
      suffix = labels.slice(i + 1)
      break
    }
    // For SRV the "service" label is optional: _web._tcp.consul.
    if (qtype === 'SRV' && labels[i].startsWith('_')) {
      kind = 'service'
      parts = labels.slice(0, i + 1)
      suffix = labels.slice(i + 1)
      break
    }
  }
  const datacenter = parseDatacenter(suffix, localDatacenter)
  switch (kind) {
    case 'service': {
      if (parts.length < 1 || datacenter === undefined) return {kind: 'invalid'}
      if (parts.length === 2 && parts[0].startsWith('_') && parts[1].startsWith('_')) {
        const tag = parts[1].slice(1)
        return {kind: 'service', service: parts[0].slice(1), tag: tag === 'tcp' ? '' : tag, datacenter}
      }
      // Consul 0.3's form: everything before the service name is the tag (dots allowed).
      return {kind: 'service', service: parts[parts.length - 1], tag: parts.slice(0, -1).join('.'), datacenter}
    }
    case 'query':
      if (parts.length < 1 || datacenter === undefined) return {kind: 'invalid'}
      return {kind: 'query', query: parts.join('.'), datacenter}
    case 'node':
      if (parts.length < 1 || datacenter === undefined) return {kind: 'invalid'}
      return {kind: 'node', node: parts.join('.'), datacenter}
    case 'addr': {
      if (parts.length !== 1 || !/^[0-9a-f]+$/.test(parts[0])) return {kind: 'invalid'}
      const hex = parts[0]
      if (hex.length === 8) return {kind: 'addr', ip: hexToIPv4(hex), family: 4}
      if (hex.length === 32) return {kind: 'addr', ip: hexToIPv6(hex), family: 6}
      return {kind: 'invalid'}
    }
    default:
      return {kind: 'invalid'}
  }
}

function hexToIPv4(hex: string): string {
  return [0, 2, 4, 6].map((i) => Number.parseInt(hex.slice(i, i + 2), 16)).join('.')
}

function hexToIPv6(hex: string): string {
  const groups: string[] = []
  for (let i = 0; i < 32; i += 4) groups.push(hex.slice(i, i + 4))
  return groups.join(':')
}

/** "10.0.0.1" → "0a000001"; IPv6 → its 32 hex digits (the `.addr.` label of SRV targets). */
export function ipToHex(ip: string): string {
  if (ip.includes(':')) return expandIPv6(ip).map((g) => g.padStart(4, '0')).join('')
  return ip.split('.').map((o) => Number(o).toString(16).padStart(2, '0')).join('')
}

function expandIPv6(ip: string): string[] {
  const [head, tail] = ip.split('::')
  const left = head ? head.split(':') : []
  const right = tail === undefined ? [] : tail ? tail.split(':') : []
  // An embedded IPv4 tail (::ffff:1.2.3.4) counts as two groups.
  const fix = (groups: string[]) => groups.flatMap((g) => {
    if (!g.includes('.')) return [g]
    const [a, b, c, d] = g.split('.').map(Number)
    return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)]
  })
  const l = fix(left)
  const r = fix(right)
  const zeros = tail === undefined ? [] : new Array<string>(8 - l.length - r.length).fill('0')
  return [...l, ...zeros, ...r]
}

/** "1.2.3.4" → "4.3.2.1.in-addr.arpa." and IPv6 → its nibble form (reverse lookups). */
export function reverseName(ip: string): string {
  if (!ip.includes(':')) return `${ip.split('.').reverse().join('.')}.in-addr.arpa.`
  return `${ipToHex(ip).split('').reverse().join('.')}.ip6.arpa.`
}
