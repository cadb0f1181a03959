// Resource records for catalog entries, shaped as Consul's DNS answers them (agent/dns.go):
// an instance answers with its service address, else its node address; SRV targets are
// "<node>.node.<dc>.<domain>" for node addresses and "<hex>.addr.<dc>.<domain>" for service
// addresses, each with its A/AAAA in the additional section; host names become CNAMEs.
import {isIP} from 'node:net'
import type {Answer} from 'dns-packet'
import type {DnsConfig} from '../agent/dns-config.js'
import type {NodeRecord, ServiceInstance} from './catalog.js'
import {ipToHex} from './names.js'

export interface RecordSet {
  answers: Answer[]
  additionals: Answer[]
}

/** An A or AAAA record for `ip` when the question type wants that family (SRV and ANY take both). */
export function addressRecord(qtype: string, name: string, ip: string, ttl: number): Answer | undefined {
  const family = isIP(ip)
  if (family === 4 && ['A', 'ANY', 'SRV', 'NS', 'SOA'].includes(qtype)) return {type: 'A', name, ttl, data: ip}
  if (family === 6 && ['AAAA', 'ANY', 'SRV', 'NS', 'SOA'].includes(qtype)) return {type: 'AAAA', name, ttl, data: ip}
  return undefined
}

export function nodeFqdn(node: string, datacenter: string, zone: string): string {
  return `${node}.node.${datacenter}.${zone}`.toLowerCase()
}

/** Records for a node name: its address (or a CNAME to a host-name address). */
export function nodeRecords(node: NodeRecord, qtype: string, qname: string, ttl: number): Answer[] {
  if (isIP(node.address) === 0) {
    return node.address === '' ? [] : [{type: 'CNAME', name: qname, ttl, data: node.address.replace(/\.$/, '')}]
  }
  const record = addressRecord(qtype, qname, node.address, ttl)
  return record ? [record] : []
}

/** RFC 1464 "key=value" with Consul's escaping; keys starting "rfc1035-" carry the raw value. */
export function metaTxt(name: string, meta: Readonly<Record<string, string>> | undefined, ttl: number): Answer[] {
  return Object.entries(meta ?? {}).map(([key, value]) => {
    let text = value
    if (!key.toLowerCase().startsWith('rfc1035-')) {
      let k = key.replace(/`/g, '``').replace(/=/g, '`=')
      k = k.replace(/^ +/, (m) => '` '.repeat(m.length)).replace(/ +$/, (m) => '` '.repeat(m.length))
      text = `${k}=${value.replace(/`/g, '``')}`
    }
    return {type: 'TXT', name, ttl, data: [text]}
  })
}

function weightOf(instance: ServiceInstance): number {
  const weights = instance.weights ?? {passing: 1, warning: 1}
  return instance.health === 'warning' ? weights.warning : weights.passing
}

/**
 * One instance's records for a service question. For SRV: the SRV answer plus its target's
 * address in `additionals`; for A/AAAA/ANY: the address (or a CNAME) named as the question.
 */
export function instanceRecords(
  instance: ServiceInstance, qtype: string, qname: string, ttl: number, zone: string, datacenter: string,
): RecordSet {
  const serviceAddr = instance.serviceAddress
  const nodeAddr = instance.nodeAddress
  const none: RecordSet = {answers: [], additionals: []}
  if (serviceAddr === '' && nodeAddr === '') return none
  const srv = (target: string): Answer => ({
    type: 'SRV', name: qname, ttl, data: {priority: 1, weight: weightOf(instance), port: instance.port, target},
  })
  const byAddress = (ip: string, target: string): RecordSet => {
    const record = addressRecord(qtype, qtype === 'SRV' ? target : qname, ip, ttl)
    if (!record) return none
    return qtype === 'SRV' ? {answers: [srv(target)], additionals: [record]} : {answers: [record], additionals: []}
  }
  const byHostName = (host: string): RecordSet => {
    const target = host.replace(/\.$/, '')
    return qtype === 'SRV'
      ? {answers: [srv(target)], additionals: []}
      : {answers: [{type: 'CNAME', name: qname, ttl, data: target}], additionals: []}
  }
  const nodeIsIp = isIP(nodeAddr) !== 0
  if (serviceAddr === '') {
    return nodeIsIp ? byAddress(nodeAddr, nodeFqdn(instance.node, datacenter, zone)) : byHostName(nodeAddr)
  }
  if (isIP(serviceAddr) !== 0) return byAddress(serviceAddr, `${ipToHex(serviceAddr)}.addr.${datacenter}.${zone}`)
  // A service address naming the very question (a CNAME to itself) falls back to the node.
  if (`${serviceAddr.replace(/\.$/, '')}.`.toLowerCase() === `${qname.replace(/\.$/, '')}.`.toLowerCase() && nodeIsIp) {
    return byAddress(nodeAddr, nodeFqdn(instance.node, datacenter, zone))
  }
  return byHostName(serviceAddr)
}

/** The zone's SOA: Consul's fixed names, serial = now in seconds, TTL = the SOA minimum. */
export function soaRecord(config: DnsConfig, zone: string, nowMs: number): Answer {
  return {
    type: 'SOA', name: zone.replace(/\.$/, ''), ttl: config.soa.minTtl,
    data: {
      mname: `ns.${zone}`.replace(/\.$/, ''), rname: `hostmaster.${zone}`.replace(/\.$/, ''),
      serial: Math.floor(nowMs / 1000) >>> 0, refresh: config.soa.refresh, retry: config.soa.retry,
      expire: config.soa.expire, minimum: config.soa.minTtl,
    },
  }
}
