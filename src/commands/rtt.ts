import {agentSelf} from '../lib/api/agent.js'
import {coordinateDatacenters, coordinateNodes} from '../lib/api/coordinate.js'
import {BaseCommand} from '../lib/cli/base-command.js'
import {CommandError, FlagError} from '../lib/cli/errors.js'
import {boolFlag} from '../lib/cli/flags.js'
import {clientFlags} from '../lib/cli/http-flags.js'
import {lanPair, rttLine, wanPair} from '../lib/cli/rtt.js'

export default class Rtt extends BaseCommand {
  static description = 'Estimates the round trip time between two nodes using the network coordinates of the cluster. With one node, the other is this agent\'s node. With -wan, node names are <node>.<datacenter> and WAN coordinates are used.'
  static usage = 'rtt [options] node1 [node2]'
  static examples = ['coord rtt node-b', 'coord rtt node-a node-b', 'coord rtt -wan server-1.dc1 server-2.dc2']
  static flags = {
    ...clientFlags,
    wan: boolFlag({description: 'Use WAN coordinates instead of LAN coordinates.'}),
  }

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(Rtt.flags)
    if (args.length < 1 || args.length > 2) throw new FlagError('One or two node names must be specified\n')
    const client = await this.api()
    const nodes = [...args]
    if (nodes.length < 2) {
      const self = await agentSelf(client).catch((error: Error) => {
        throw new CommandError(`Unable to look up agent info: ${error.message}`, {cause: error})
      })
      const name = String(self.Config.NodeName)
      nodes.push(flags.wan ? `${name}.${String(self.Config.Datacenter)}` : name)
    }
    const pair = nodes as [string, string]
    const fail = (error: Error): never => {
      throw new CommandError(`Error getting coordinates: ${error.message}`, {cause: error})
    }
    const [a, b] = flags.wan
      ? wanPair(await coordinateDatacenters(client).catch(fail), pair)
      : lanPair((await coordinateNodes(client).catch(fail)).entries, pair)
    this.io.out(rttLine(pair[0], pair[1], a, b, flags.wan ? 'WAN' : 'LAN'))
  }
}
