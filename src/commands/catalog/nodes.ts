import {catalogNodes, catalogService, type CatalogNode} from '../../lib/api/catalog.js'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {nodeMetaQuery, renderCatalogNodes} from '../../lib/cli/catalog-render.js'
import {CommandError} from '../../lib/cli/errors.js'
import {boolFlag, listFlag, stringFlag} from '../../lib/cli/flags.js'
import {clientFlags, serverFlags} from '../../lib/cli/http-flags.js'

export default class CatalogNodes extends BaseCommand {
  static description = 'Retrieves the list of nodes registered in a given datacenter. By default, the datacenter of the local agent is queried.'
  static usage = 'catalog nodes [options]'
  static examples = ['coord catalog nodes', 'coord catalog nodes -detailed', 'coord catalog nodes -service=web', 'coord catalog nodes -node-meta=rack=a', 'coord catalog nodes -near=_agent']
  static flags = {
    ...clientFlags, ...serverFlags,
    detailed: boolFlag({description: 'Output detailed information about the nodes including their addresses and metadata.'}),
    near: stringFlag({description: 'Node name to sort the node list in ascending order based on estimated round-trip time from that node. Passing "_agent" will use this agent\'s node for sorting.', helpValue: '<node>'}),
    'node-meta': listFlag({description: 'Metadata to filter nodes with the given `key=value` pairs. This flag may be specified multiple times to filter on multiple sources of metadata.', helpValue: '<key=value>'}),
    service: stringFlag({description: 'Service `id or name` to filter nodes. Only nodes which are providing the given service will be returned.', helpValue: '<id or name>'}),
    filter: stringFlag({description: 'Filter to use with the request', helpValue: '<expression>'}),
  }

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(CatalogNodes.flags)
    if (args.length > 0) throw new CommandError(`Too many arguments (expected 0, got ${args.length})`)
    const q = {stale: flags.stale, datacenter: flags.datacenter || undefined, near: flags.near, nodeMeta: nodeMetaQuery(flags['node-meta']), filter: flags.filter || undefined}
    const client = await this.api()
    let nodes: CatalogNode[]
    if (flags.service) {
      const {nodes: instances} = await catalogService(client, flags.service, q).catch((error: Error) => {
        throw new CommandError(`Error listing nodes for service: ${error.message}`, {cause: error})
      })
      nodes = instances.map((s) => ({
        ID: s.ID, Node: s.Node, Address: s.Address, Datacenter: s.Datacenter, TaggedAddresses: s.TaggedAddresses, Meta: s.NodeMeta,
        CreateIndex: 0, ModifyIndex: 0,
      }))
    } else {
      nodes = (await catalogNodes(client, q).catch((error: Error) => {
        throw new CommandError(`Error listing nodes: ${error.message}`, {cause: error})
      })).nodes
    }
    if (nodes.length === 0) {
      this.io.err('No nodes match the given query - try expanding your search.')
      return
    }
    for (const line of renderCatalogNodes(nodes, flags.detailed)) this.io.out(line)
  }
}
