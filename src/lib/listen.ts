// Binding a TCP server and learning its port (0 picks a free one): shared by the server RPC
// transport and the gossip transport.
import type {Server} from 'node:net'

export function listenTcp(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      const address = server.address()
      resolve(typeof address === 'object' && address ? address.port : port)
    })
  })
}
