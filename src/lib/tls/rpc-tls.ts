// TLS on the server RPC port. One port carries both plain and TLS connections, told apart by the
// first byte the dialer sends, as Consul does (agent/pool/conn.go: RPCTLS = 3). coord's plain
// protocol opens with a length-prefixed `hello` frame whose first byte is 0 (the frame is far below
// 16 MiB), so a first byte of 3 means "TLS handshake follows" and nothing else can be mistaken for
// it. A server with TLS configured accepts both while `verify_incoming` is off (the rolling upgrade:
// turn on TLS everywhere, then verify_outgoing, then verify_incoming), and only TLS with a
// certificate its CA signed once it is on.
import {Server as TlsServer, type TLSSocket, connect as tlsConnect, type PeerCertificate, type SecureContext} from 'node:tls'
import type {Socket} from 'node:net'
import {isIP} from 'node:net'
import type {TlsSettings} from './config.js'
import {serverName} from './config.js'
import type {TlsMaterial} from './material.js'

export const RPC_TLS_BYTE = 3

/** Who is at the other end of an accepted connection. */
export interface PeerIdentity {
  tls: boolean
  /** TLS with a certificate the CA signed. */
  verified: boolean
  /** Verified, and the certificate names server.<datacenter>.<domain>: the peer may act as a server. */
  server: boolean
  /** The certificate's subject CN (for log lines), or ''. */
  name: string
}

export interface RpcTlsState {
  context: SecureContext
  /**
   * Never listens: accepted sockets are handed to it after their type byte, so Node's own server
   * code runs the handshake, checks the client certificate (rejectUnauthorized) and sets `authorized`.
   */
  server: TlsServer
  verifyIncoming: boolean
  verifyOutgoing: boolean
  verifyServerHostname: boolean
  /** server.<datacenter>.<domain> for this datacenter. */
  serverName: string
  domain: string
}

/**
 * The RPC port's TLS settings and current certificates; `update` swaps in renewed ones (reload).
 * New connections use the new context; established ones keep theirs until they close.
 */
export class RpcTls {
  #state: RpcTlsState
  #onSecure: (socket: TLSSocket, peer: string) => void = (socket) => socket.destroy()
  #onRefused: (error: Error, peer: string) => void = () => {}

  constructor(settings: TlsSettings, material: TlsMaterial, datacenter: string, domain: string) {
    this.#state = this.#build(settings, material, datacenter, domain)
  }

  /** Where accepted connections go once their handshake succeeded, or why it failed. */
  handle(onSecure: (socket: TLSSocket, peer: string) => void, onRefused: (error: Error, peer: string) => void): void {
    this.#onSecure = onSecure
    this.#onRefused = onRefused
  }

  #build(settings: TlsSettings, material: TlsMaterial, datacenter: string, domain: string): RpcTlsState {
    const rpc = settings.internalRpc
    const server = new TlsServer({
      ca: material.ca.length > 0 ? material.ca : undefined, cert: material.cert, key: material.key,
      minVersion: material.minVersion, ...(material.ciphers ? {ciphers: material.ciphers} : {}),
      // The client certificate is checked below rather than by rejectUnauthorized, which would drop
      // the connection without saying why (and so without a log line).
      requestCert: true, rejectUnauthorized: false,
      handshakeTimeout: 10_000,
    })
    server.on('secureConnection', (socket: TLSSocket) => {
      const peer = peerOf(socket)
      if (rpc.verifyIncoming && !socket.authorized) {
        const cert = socket.getPeerCertificate()
        const why = !cert || Object.keys(cert).length === 0 ? 'no client certificate (verify_incoming)'
          : `client certificate${cert.subject?.CN ? ` ${String(cert.subject.CN)}` : ''} not signed by the CA: ${String(socket.authorizationError ?? 'unverified')}`
        socket.destroy()
        this.#onRefused(new Error(why), peer)
        return
      }
      this.#onSecure(socket, peer)
    })
    server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
      const peer = peerOf(socket)
      socket.destroy()
      this.#onRefused(error, peer)
    })
    return {
      server, context: material.context, verifyIncoming: rpc.verifyIncoming, verifyOutgoing: rpc.verifyOutgoing,
      verifyServerHostname: rpc.verifyServerHostname, serverName: serverName(datacenter, domain), domain: domain.replace(/\.$/, ''),
    }
  }

  get state(): RpcTlsState {
    return this.#state
  }

  update(settings: TlsSettings, material: TlsMaterial, datacenter: string, domain: string): void {
    this.#state = this.#build(settings, material, datacenter, domain)
  }

  /** Whether a server-only message (Raft, server-info, ...) may come from this peer. */
  mayActAsServer(peer: PeerIdentity): boolean {
    return !this.#state.verifyServerHostname || peer.server
  }

  /**
   * Hands an accepted socket whose first byte was RPC_TLS_BYTE (already consumed; the rest stays
   * buffered and is fed to the handshake) to the TLS server: `handle`'s callbacks get the outcome.
   */
  accept(socket: Socket): void {
    acceptedPeers.set(socket, `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`)
    this.#state.server.emit('connection', socket)
  }

  identity(socket: TLSSocket): PeerIdentity {
    const cert = socket.getPeerCertificate()
    const verified = socket.authorized && cert !== null && Object.keys(cert).length > 0
    const names = verified ? certDnsNames(cert) : []
    return {tls: true, verified, server: verified && names.includes(this.#state.serverName), name: cert?.subject?.CN ? String(cert.subject.CN) : ''}
  }

  /**
   * Dials TLS over a connected socket (the type byte goes first). With verify_server_hostname the
   * peer must present server.<its datacenter>.<domain>; otherwise only the chain is checked.
   */
  connect(socket: Socket, host: string, datacenter?: string): TLSSocket {
    const s = this.#state
    socket.write(Buffer.from([RPC_TLS_BYTE]))
    const expected = datacenter ? serverName(datacenter, s.domain) : s.serverName
    return tlsConnect({
      socket, secureContext: s.context, rejectUnauthorized: true,
      servername: s.verifyServerHostname ? expected : (isIP(host) === 0 ? host : undefined),
      checkServerIdentity: (_host, cert) => {
        if (!s.verifyServerHostname) return undefined
        return certDnsNames(cert).includes(expected) ? undefined
          : Object.assign(new Error(`the server's certificate is not valid for ${expected} (verify_server_hostname)`), {code: 'ERR_TLS_CERT_ALTNAME_INVALID'})
      },
    })
  }
}

function certDnsNames(cert: PeerCertificate): string[] {
  return (cert.subjectaltname ?? '').split(/,\s*/).filter((entry) => entry.startsWith('DNS:')).map((entry) => entry.slice(4).toLowerCase())
}

/**
 * host:port of the peer. A TLS socket whose handshake failed has lost its handle, so the address
 * is read from the TCP socket underneath (Node keeps it as `_parent`), where accept() recorded it.
 */
function peerOf(socket: TLSSocket): string {
  if (socket.remoteAddress) return `${socket.remoteAddress}:${socket.remotePort ?? 0}`
  const parent = (socket as unknown as {_parent?: Socket})._parent
  return (parent && acceptedPeers.get(parent)) ?? '?'
}

const acceptedPeers = new WeakMap<Socket, string>()
