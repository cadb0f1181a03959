// The startup banner, laid out as Consul's (labels right-aligned on the colon).
import type {AgentConfig} from './config.js'

export function printBanner(write: (line: string) => void, config: AgentConfig, info: {nodeId: string; version: string; httpPort: number; httpsPort?: number; gossipEncrypted?: boolean; rpcTls?: boolean}): void {
  const {https, internalRpc: rpc} = config.tls.settings
  // What the listeners actually do: HTTPS only with its listener on, RPC only with TLS on that port.
  const httpsOn = (info.httpsPort ?? -1) >= 0
  const rpcOn = info.rpcTls === true
  const rows: Array<[string, string]> = [
    ['Version', `'${info.version}'`],
    ['Node ID', `'${info.nodeId}'`],
    ['Node name', `'${config.nodeName}'`],
    ['Datacenter', `'${config.datacenter}' (Segment: '${config.server ? '<all>' : ''}')`],
    ['Server', `${config.server} (Bootstrap: ${config.bootstrap})`],
    ['Client Addr', `[${config.clientAddrs.join(' ')}] (HTTP: ${info.httpPort}, HTTPS: ${info.httpsPort ?? -1}, gRPC: -1, gRPC-TLS: -1, DNS: ${config.ports.dns})`],
    ['Cluster Addr', `${config.advertiseAddr} (LAN: ${config.ports.serfLan}, WAN: ${config.ports.serfWan})`],
    ['Gossip Encryption', String(info.gossipEncrypted ?? false)],
    ['Auto-Encrypt-TLS', 'false'],
    ['ACL Enabled', String(config.acl.enabled)],
    ['ACL Default Policy', config.acl.defaultPolicy],
    ['HTTPS TLS', httpsOn ? `Verify Incoming: ${https.verifyIncoming}, Verify Outgoing: ${https.verifyOutgoing}, Min Version: ${https.minVersion}` : 'off (no HTTPS listener)'],
    ['gRPC TLS', 'off (coord serves no gRPC)'],
    ['Internal RPC TLS', rpcOn ? `Verify Incoming: ${rpc.verifyIncoming}, Verify Outgoing: ${rpc.verifyOutgoing} (Verify Hostname: ${rpc.verifyServerHostname}), Min Version: ${rpc.minVersion}` : 'off (plain RPC)'],
  ]
  const width = Math.max(...rows.map(([label]) => label.length)) + 3
  write('==> Starting Consul agent...')
  for (const [label, value] of rows) write(`${label.padStart(width)}: ${value}`)
  write('')
  write('==> Log data will now stream in as it occurs:')
  write('')
}
