// The startup banner, laid out as Consul's (labels right-aligned on the colon).
import type {AgentConfig} from './config.js'

export function printBanner(write: (line: string) => void, config: AgentConfig, info: {nodeId: string; version: string; httpPort: number; gossipEncrypted?: boolean}): void {
  const rows: Array<[string, string]> = [
    ['Version', `'${info.version}'`],
    ['Node ID', `'${info.nodeId}'`],
    ['Node name', `'${config.nodeName}'`],
    ['Datacenter', `'${config.datacenter}' (Segment: '${config.server ? '<all>' : ''}')`],
    ['Server', `${config.server} (Bootstrap: ${config.bootstrap})`],
    ['Client Addr', `[${config.clientAddrs.join(' ')}] (HTTP: ${info.httpPort}, HTTPS: -1, gRPC: -1, gRPC-TLS: -1, DNS: ${config.ports.dns})`],
    ['Cluster Addr', `${config.advertiseAddr} (LAN: ${config.ports.serfLan}, WAN: ${config.ports.serfWan})`],
    ['Gossip Encryption', String(info.gossipEncrypted ?? false)],
    ['Auto-Encrypt-TLS', 'false'],
    ['ACL Enabled', 'false'],
    ['ACL Default Policy', 'allow'],
    ['HTTPS TLS', 'Verify Incoming: false, Verify Outgoing: false, Min Version: TLSv1_2'],
    ['gRPC TLS', 'Verify Incoming: false, Min Version: TLSv1_2'],
    ['Internal RPC TLS', 'Verify Incoming: false, Verify Outgoing: false (Verify Hostname: false), Min Version: TLSv1_2'],
  ]
  const width = Math.max(...rows.map(([label]) => label.length)) + 3
  write('==> Starting Consul agent...')
  for (const [label, value] of rows) write(`${label.padStart(width)}: ${value}`)
  write('')
  write('==> Log data will now stream in as it occurs:')
  write('')
}
