import {catalogNode, catalogNodes, catalogServices} from '../../lib/api/catalog.js'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {nodeMetaQuery, renderCatalogServices} from '../../lib/cli/catalog-render.js'
import {CommandError} from '../../lib/cli/errors.js'
import {boolFlag, listFlag, stringFlag} from '../../lib/cli/flags.js'
import {clientFlags, serverFlags} from '../../lib/cli/http-flags.js'

export default class CatalogServices extends BaseCommand {
  static description = 'Retrieves the list of services registered in a given datacenter. By default, the datacenter of the local agent is queried.'
  static usage = 'catalog services [options]'
  static examples = ['coord catalog services', 'coord catalog services -tags', 'coord catalog services -node=web-01', 'coord catalog services -node-meta=rack=a']
  static flags = {
    ...clientFlags, ...serverFlags,
    node: stringFlag({description: 'Node `id or name` for which to list services.', helpValue: '<id or name>'}),
    'node-meta': listFlag({description: 'Metadata to filter nodes with the given `key=value` pairs. If specified, only services running on nodes matching the metadata will be returned. This flag may be specified multiple times to filter on multiple sources of metadata.', helpValue: '<key=value>'}),
    tags: boolFlag({description: 'Display each service\'s tags as a comma-separated list beside each service entry.'}),
  }

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(CatalogServices.flags)
    if (args.length > 0) throw new CommandError(`Too many arguments (expected 0, got ${args.length})`)
    const q = {stale: flags.stale, datacenter: flags.datacenter || undefined, nodeMeta: nodeMetaQuery(flags['node-meta'])}
    const client = await this.api()
    let services: Record<string, string[]> = {}
    if (flags.node) {
      const listing = (error: Error): CommandError => new CommandError(`Error listing services for node: ${error.message}`, {cause: error})
      let found = await catalogNode(client, flags.node, q).catch((e: Error) => { throw listing(e) })
      if (found === null) {
        // Not a name: maybe a node ID.
        const {nodes} = await catalogNodes(client, q).catch((e: Error) => { throw listing(e) })
        const byId = nodes.find((n) => n.ID === flags.node)
        if (byId) found = await catalogNode(client, byId.Node, q).catch((e: Error) => { throw listing(e) })
      }
      for (const service of Object.values(found?.Services ?? {})) {
        services[service.Service] = [...(services[service.Service] ?? []), ...(service.Tags ?? [])]
      }
    } else {
      services = (await catalogServices(client, q).catch((error: Error) => {
        throw new CommandError(`Error listing services: ${error.message}`, {cause: error})
      })).services
    }
    if (Object.keys(services).length === 0) {
      this.io.err('No services match the given query - try expanding your search.')
      return
    }
    for (const line of renderCatalogServices(services, flags.tags)) this.io.out(line)
  }
}
