// Answers one DNS question from the catalog, as Consul's DNS server does (agent/dns.go): names
// in our zones from the catalog, reverse names from the node list, anything else from the
// recursors (or REFUSED without them). Knows nothing of sockets: the server hands it a decoded
// request and the transport it came on, and sends back what it returns.
import {AUTHORITATIVE_ANSWER, RECURSION_AVAILABLE, RECURSION_DESIRED, type Answer, type DecodedPacket, type Packet} from 'dns-packet'
import {serviceTtl, type DnsConfig} from '../agent/dns-config.js'
import {UnknownDatacenterError, type CatalogReadOptions, type DnsCatalog, type ServiceInstance} from './catalog.js'
import {matchZone, parseLookup, reverseName, type Lookup} from './names.js'
import {addressRecord, instanceRecords, metaTxt, nodeFqdn, nodeRecords, soaRecord} from './records.js'
import {recurse} from './recursor.js'
import {trimResponse} from './trim.js'

export type Transport = 'udp' | 'tcp'

export const Rcode = {NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5} as const

/** A reply to send: a packet to encode, or a recursor's reply relayed as received. */
export type Reply = {packet: Packet} | {raw: Buffer}

export interface DnsLog {
  debug(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
}

export interface ResolverOptions {
  config: DnsConfig
  /** The agent's datacenter: names without one are looked up there. */
  datacenter: string
  catalog: DnsCatalog
  log?: DnsLog
  now?: () => number
  /** For the answer shuffle; tests may pin it. */
  random?: () => number
}

/** The question's outcome before it is dressed as a packet. */
interface Outcome {
  rcode: number
  answers: Answer[]
  authorities: Answer[]
  additionals: Answer[]
  /** NXDOMAIN and NODATA carry the zone's SOA in the authority section (RFC 2308). */
  soa?: boolean
  /** Records were left out before trimming (a UDP answer only needs its first few). */
  cut?: boolean
}

const empty = (rcode: number, soa = false): Outcome => ({rcode, answers: [], authorities: [], additionals: [], soa})

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[items[i], items[j]] = [items[j], items[i]]
  }
  return items
}

/** Identity of an answer record for de-duplication (the data of A/AAAA/CNAME is a string). */
const recordKey = (r: Answer) => `${r.type}|${'data' in r && typeof r.data === 'string' ? r.data : JSON.stringify('data' in r ? r.data : '')}`

export class DnsResolver {
  readonly #o: ResolverOptions
  readonly #zones: string[]

  constructor(options: ResolverOptions) {
    this.#o = options
    this.#zones = [options.config.domain, options.config.altDomain].filter(Boolean)
  }

  get #readOpts(): Omit<CatalogReadOptions, 'datacenter'> {
    return {allowStale: this.#o.config.allowStale, maxStaleMs: this.#o.config.maxStaleMs}
  }

  /** The reply to `request`, which has exactly one question (the server checks). Never throws. */
  async resolve(request: DecodedPacket, transport: Transport): Promise<Reply> {
    const question = request.questions![0]
    const config = this.#o.config
    const zone = matchZone(question.name, this.#zones)
    let outcome: Outcome
    const soaZone = zone?.zone ?? config.domain
    try {
      if (zone) {
        // A UDP answer without EDNS keeps at most 8 records (trim.ts): build no more than that.
        const answerCap = transport === 'udp' && ednsSize(request) === 0 ? Math.min(8, config.udpAnswerLimit) : Number.POSITIVE_INFINITY
        outcome = await this.#inZone(question.name, question.type, zone.zone, zone.labels, answerCap)
      } else if (/(^|\.)arpa\.?$/i.test(question.name)) {
        outcome = await this.#reverse(question.name)
        if (outcome.answers.length === 0 && config.recursors.length > 0) return await this.#recurse(request, transport)
      } else if (config.recursors.length > 0) {
        return await this.#recurse(request, transport)
      } else {
        // Nothing serves names outside our zones: Consul's DNS mux answers REFUSED.
        return {packet: this.#packet(request, empty(Rcode.REFUSED), false)}
      }
    } catch (error) {
      if (error instanceof UnknownDatacenterError) {
        outcome = empty(Rcode.NXDOMAIN, true)
      } else {
        this.#o.log?.warn('DNS lookup failed', {question: question.name, type: question.type, error: (error as Error).message})
        outcome = empty(Rcode.SERVFAIL)
      }
    }
    if (outcome.soa) outcome.authorities.push(soaRecord(config, soaZone, this.#now()))
    const packet = this.#packet(request, outcome, true)
    const trimmed = trimResponse(packet, transport, question.type, config.udpAnswerLimit, ednsSize(request)) || outcome.cut === true
    if (trimmed) {
      if (config.enableTruncate) packet.flags! |= 1 << 9
      this.#o.log?.debug('DNS response too large, truncated', {protocol: transport, question: question.name, records: packet.answers?.length})
    }
    return {packet}
  }

  #now(): number {
    return (this.#o.now ?? Date.now)()
  }

  #packet(request: DecodedPacket, outcome: Outcome, authoritative: boolean): Packet {
    const opcode = 0 // only QUERY reaches the resolver
    let flags = (opcode << 11) | outcome.rcode
    if (authoritative) flags |= AUTHORITATIVE_ANSWER
    if (request.flag_rd) flags |= RECURSION_DESIRED
    if (this.#o.config.recursors.length > 0) flags |= RECURSION_AVAILABLE
    const additionals = [...outcome.additionals]
    const size = ednsSize(request)
    // EDNS: answer with an OPT carrying the size the client advertised (Consul's setEDNS).
    if (size > 0) additionals.push({type: 'OPT', name: '.', udpPayloadSize: size, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: []})
    return {
      type: 'response', id: request.id, flags, questions: request.questions,
      answers: outcome.answers, authorities: outcome.authorities, additionals,
    }
  }

  async #recurse(request: DecodedPacket, transport: Transport): Promise<Reply> {
    const config = this.#o.config
    const result = await recurse(request, config.recursors, transport, config.recursorTimeoutMs)
    if (result.reply) return {raw: result.reply}
    this.#o.log?.warn('all resolvers failed for question', {question: request.questions![0].name, failures: result.failures.join('; ')})
    return {packet: this.#packet(request, empty(Rcode.SERVFAIL), false)}
  }

  async #inZone(qname: string, qtype: string, zone: string, labels: string[], answerCap: number): Promise<Outcome> {
    if (qtype === 'AXFR' || qtype === 'IXFR') return empty(Rcode.NOTIMP)
    if (labels.length === 0 && (qtype === 'SOA' || qtype === 'NS')) return this.#apex(qtype, zone)
    if (qtype === 'SOA') {
      const outcome = await this.#apex('NS', zone)
      return {...outcome, answers: [soaRecord(this.#o.config, zone, this.#now())], authorities: outcome.answers}
    }
    const lookup = parseLookup(labels, qtype, this.#o.datacenter)
    return this.#dispatch(lookup, qname, qtype, zone, answerCap)
  }

  async #dispatch(lookup: Lookup, qname: string, qtype: string, zone: string, answerCap: number): Promise<Outcome> {
    switch (lookup.kind) {
      case 'service':
        return this.#service(lookup, qname, qtype, zone, answerCap)
      case 'node':
        return this.#node(lookup, qname, qtype)
      case 'query':
        return this.#query(lookup, qname, qtype, zone, answerCap)
      case 'addr': {
        const record = addressRecord(lookup.family === 4 ? 'A' : 'AAAA', qname, lookup.ip, this.#o.config.nodeTtlSec)!
        const wanted = qtype === 'ANY' || (lookup.family === 4 ? qtype === 'A' : qtype === 'AAAA')
        return wanted ? {rcode: Rcode.NOERROR, answers: [record], authorities: [], additionals: []} : empty(Rcode.NOERROR, true)
      }
      default:
        this.#o.log?.debug('QName invalid', {qname})
        return empty(Rcode.NXDOMAIN, true)
    }
  }

  /** The zone apex: SOA, or NS naming up to three healthy servers (the `consul` service). */
  async #apex(qtype: 'SOA' | 'NS', zone: string): Promise<Outcome> {
    const config = this.#o.config
    const servers = this.#healthy(await this.#o.catalog.serviceInstances('consul', {datacenter: this.#o.datacenter, ...this.#readOpts}))
    const ns: Answer[] = []
    const glue: Answer[] = []
    for (const server of shuffle(servers, this.#o.random ?? Math.random).slice(0, 3)) {
      const target = nodeFqdn(server.node, server.datacenter, zone)
      ns.push({type: 'NS', name: zone.replace(/\.$/, ''), ttl: config.nodeTtlSec, data: target.replace(/\.$/, '')})
      glue.push(...nodeRecords({node: server.node, address: server.nodeAddress, datacenter: server.datacenter}, 'ANY', target, config.nodeTtlSec))
    }
    if (qtype === 'NS') return {rcode: Rcode.NOERROR, answers: ns, authorities: [], additionals: glue}
    return {rcode: Rcode.NOERROR, answers: [soaRecord(config, zone, this.#now())], authorities: ns, additionals: glue}
  }

  /** Consul's health filter: critical never answers; warning only without only_passing. */
  #healthy(instances: ServiceInstance[]): ServiceInstance[] {
    const onlyPassing = this.#o.config.onlyPassing
    return instances.filter((i) => i.health === 'passing' || (i.health === 'warning' && !onlyPassing))
  }

  /** `answerCap`: stop after that many answers (the rest could not be sent); `cut` then says so. */
  async #service(lookup: Extract<Lookup, {kind: 'service'}>, qname: string, qtype: string, zone: string, answerCap: number): Promise<Outcome> {
    const all = await this.#o.catalog.serviceInstances(lookup.service, {datacenter: lookup.datacenter, ...this.#readOpts})
    const tagged = lookup.tag === '' ? all : all.filter((i) => i.tags.some((t) => t.toLowerCase() === lookup.tag))
    const instances = shuffle(this.#healthy(tagged), this.#o.random ?? Math.random)
    if (instances.length === 0) return empty(Rcode.NXDOMAIN, true)
    return this.#instanceAnswers(instances, qname, qtype, zone, answerCap, serviceTtl(this.#o.config, lookup.service), lookup.datacenter)
  }

  /**
   * Consul's preparedQueryLookup: the query runs on a server (failover included) and its
   * instances answer in the order it chose, with the query's DNS TTL, else the service's TTL; the
   * SRV targets name the datacenter the answer came from. No query or no instance: NXDOMAIN.
   */
  async #query(lookup: Extract<Lookup, {kind: 'query'}>, qname: string, qtype: string, zone: string, answerCap: number): Promise<Outcome> {
    const answer = await this.#o.catalog.executeQuery?.(lookup.query, {datacenter: lookup.datacenter, ...this.#readOpts})
    if (answer === undefined || answer.instances.length === 0) return empty(Rcode.NXDOMAIN, true)
    const ttl = answer.ttlSec ?? serviceTtl(this.#o.config, answer.service)
    return this.#instanceAnswers(answer.instances, qname, qtype, zone, answerCap, ttl, answer.datacenter)
  }

  #instanceAnswers(instances: ServiceInstance[], qname: string, qtype: string, zone: string, answerCap: number, ttl: number, datacenter: string): Outcome {
    const config = this.#o.config
    const outcome: Outcome = {rcode: Rcode.NOERROR, answers: [], authorities: [], additionals: []}
    const seen = new Set<string>()
    if (qtype === 'SRV') {
      for (const instance of instances) {
        if (outcome.answers.length >= answerCap) {
          outcome.cut = true
          break
        }
        // One SRV per node, address and port (a service registered twice on a node answers once).
        const tuple = `${instance.node}:${instance.serviceAddress}:${instance.port}`
        if (seen.has(tuple)) continue
        seen.add(tuple)
        const records = instanceRecords(instance, qtype, qname, ttl, zone, datacenter)
        outcome.answers.push(...records.answers)
        outcome.additionals.push(...records.additionals)
      }
    } else {
      let firstCname: Answer[] | undefined
      let count = 0
      for (const instance of instances) {
        if (outcome.answers.length >= answerCap) {
          outcome.cut = true
          break
        }
        const records = instanceRecords(instance, qtype, qname, ttl, zone, datacenter).answers
        if (records.length === 0 || seen.has(recordKey(records[0]))) continue
        seen.add(recordKey(records[0]))
        // CNAMEs answer only when no instance has an address (a CNAME may not sit beside an A).
        if (records[0].type === 'CNAME') {
          firstCname ??= records
          continue
        }
        outcome.answers.push(...records)
        if (++count === config.aRecordLimit) break
      }
      if (outcome.answers.length === 0 && firstCname) outcome.answers = firstCname
    }
    if (outcome.answers.length === 0) return empty(Rcode.NOERROR, true)
    return outcome
  }

  async #node(lookup: Extract<Lookup, {kind: 'node'}>, qname: string, qtype: string): Promise<Outcome> {
    const config = this.#o.config
    const node = await this.#o.catalog.node(lookup.node, {datacenter: lookup.datacenter, ...this.#readOpts})
    if (!node) return empty(Rcode.NXDOMAIN, true)
    if (!['ANY', 'A', 'AAAA', 'TXT'].includes(qtype)) return empty(Rcode.NOERROR, true)
    const outcome: Outcome = {rcode: Rcode.NOERROR, answers: [], authorities: [], additionals: []}
    if (qtype !== 'TXT') outcome.answers.push(...nodeRecords(node, qtype, qname, config.nodeTtlSec))
    const txt = metaTxt(qname, node.meta, config.nodeTtlSec)
    if (qtype === 'TXT' || qtype === 'ANY') outcome.answers.push(...txt)
    else if (config.nodeMetaTxt) outcome.additionals.push(...txt)
    if (outcome.answers.length === 0) return {...outcome, soa: true}
    return outcome
  }

  /** PTR for a node's address: "<node>.node.<dc>.<domain>". */
  async #reverse(qname: string): Promise<Outcome> {
    const config = this.#o.config
    const name = `${qname.toLowerCase().replace(/\.$/, '')}.`
    const nodes = await this.#o.catalog.nodes({datacenter: this.#o.datacenter, ...this.#readOpts})
    const node = nodes.find((n) => /^[\d.]+$|:/.test(n.address) && reverseName(n.address) === name)
    if (!node) return empty(Rcode.NXDOMAIN, true)
    const target = nodeFqdn(node.node, node.datacenter, config.domain).replace(/\.$/, '')
    return {rcode: Rcode.NOERROR, answers: [{type: 'PTR', name: qname, ttl: 0, data: target}], authorities: [], additionals: []}
  }
}

/** The UDP size a request advertises in its OPT record; 0 without EDNS. */
export function ednsSize(request: Packet): number {
  const opt = request.additionals?.find((r) => r.type === 'OPT') as {udpPayloadSize?: number} | undefined
  return opt ? opt.udpPayloadSize ?? 512 : 0
}
