// The plug point between anti-entropy and the catalog : how the agent proposes
// catalog-register / catalog-deregister and reads what the catalog holds for its node. On a
// server both go to the local Raft state; on a client agent `consensus` forwards the proposal to
// a server, and the read goes there too (`serverGet`: the node's catalog and health endpoints).
import type {Consensus} from '../consensus.js'
import {CoordError} from '../errors.js'
import type {StateMachine} from '../state/state-machine.js'
import type {CatalogCommand, CatalogView} from './catalog-requests.js'

/**
 * `serverWrite`: a client agent with ACLs on sends its registrations as /v1/catalog/register and
 * /v1/catalog/deregister requests carrying its agent token (the server checks them as Consul's
 * Catalog.Register does); without it, the command is proposed as is.
 */
export function catalogSyncAdapter(consensus: Consensus, state: StateMachine, serverGet?: (url: string) => Promise<unknown>, serverWrite?: (command: CatalogCommand) => Promise<void>): {propose: (command: CatalogCommand) => Promise<void>; catalog: CatalogView} {
  return {
    propose: async (command) => {
      if (serverWrite) return serverWrite(command)
      const {result} = await consensus.propose(command)
      // The state machine answers a rejected registration (e.g. a check for a missing service) in the result.
      if ('error' in result && typeof result.error === 'string') throw new CoordError(('code' in result && result.code) || 'CATALOG_REJECTED', result.error)
    },
    catalog: {
      nodeEntries: async (node) => {
        if (serverGet) return remoteNodeEntries(serverGet, node)
        await consensus.readBarrier('leader', 0)
        return {
          nodeExists: state.catalog.node(node) !== undefined,
          nodeMeta: state.catalog.node(node)?.meta,
          services: state.catalog.nodeServices(node).map((s) => ({
            ID: s.id, Service: s.service, Tags: s.tags, Address: s.address, TaggedAddresses: s.taggedAddresses, Meta: s.meta,
            Port: s.port, Weights: s.weights, EnableTagOverride: s.enableTagOverride, Kind: s.kind,
          })),
          checks: state.catalog.checks(node).map((c) => ({
            CheckID: c.checkId, Name: c.name, Status: c.status, Notes: c.notes, Output: c.output, ServiceID: c.serviceId,
          })),
        }
      },
    },
  }
}

type RemoteEntries = Awaited<ReturnType<CatalogView['nodeEntries']>>

/** A client agent's view of its node in the catalog, read from a server's /v1 API. */
async function remoteNodeEntries(serverGet: (url: string) => Promise<unknown>, node: string): Promise<RemoteEntries> {
  const name = encodeURIComponent(node)
  const entry = await serverGet(`/v1/catalog/node/${name}`) as {Node?: {Meta?: Record<string, string>}; Services?: Record<string, RemoteEntries['services'][number]>} | null | undefined
  if (!entry) return {nodeExists: false, services: [], checks: []}
  const checks = (await serverGet(`/v1/health/node/${name}`) ?? []) as RemoteEntries['checks']
  return {
    nodeExists: true,
    nodeMeta: entry.Node?.Meta,
    services: Object.values(entry.Services ?? {}),
    checks: checks.map((c) => ({CheckID: c.CheckID, Name: c.Name, Status: c.Status, Notes: c.Notes, Output: c.Output, ServiceID: c.ServiceID})),
  }
}
