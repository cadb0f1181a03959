import {BaseCommand} from '../../lib/cli/base-command.js'
import {CommandError} from '../../lib/cli/errors.js'
import {intFlag, stringFlag} from '../../lib/cli/flags.js'

export default class DevCluster extends BaseCommand {
  static description = 'Starts a local cluster of real agents, each on its own 127.x.y.z address with its data dir under one folder, and stops them all on Ctrl-C. (coord only; Consul has no equivalent.)'
  static usage = 'dev cluster [options]'
  static examples = ['coord dev cluster -servers=3', 'coord dev cluster -servers=3 -clients=2', 'coord dev cluster -servers=5 -dir=./cluster-data']
  static flags = {
    servers: intFlag({description: 'Number of server agents (1, 3 or 5 are the usual sizes).', default: 3}),
    clients: intFlag({description: 'Number of client agents (no Raft; they find the servers through gossip and forward to them).', default: 0}),
    dir: stringFlag({description: 'Folder for the agents\' data dirs (default: a new temp folder).', helpValue: '<path>'}),
    subnet: stringFlag({description: 'First three octets of the agents\' loopback addresses (default 127.0.1).', helpValue: '<a.b.c>'}),
  }

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(DevCluster.flags)
    if (args.length > 0) throw new CommandError(`Too many arguments (expected 0, got ${args.length})`)
    if (flags.servers < 1 || flags.servers > 9) throw new CommandError('Error! -servers must be between 1 and 9')
    if (flags.clients < 0 || flags.clients > 20) throw new CommandError('Error! -clients must be between 0 and 20')
    if (flags.subnet && !/^127\.\d{1,3}\.\d{1,3}$/.test(flags.subnet)) throw new CommandError('Error! -subnet must look like 127.0.1 (loopback only)')
    const [{startCluster}, {mkdtempSync}, {tmpdir}, {join}] = await Promise.all([
      import('../../lib/devcluster/cluster.js'), import('node:fs'), import('node:os'), import('node:path'),
    ])
    const dir = flags.dir || mkdtempSync(join(tmpdir(), 'coord-dev-cluster-'))
    this.io.out(`==> Starting ${flags.servers} server(s) and ${flags.clients} client(s); data under ${dir}`)
    const cluster = await startCluster({servers: flags.servers, clients: flags.clients, dir, subnet: flags.subnet || '127.0.1'})
    for (const agent of [...cluster.servers, ...cluster.clients]) this.io.out(`    ${agent.name.padEnd(10)} http://${agent.httpAddr}  (pid ${agent.pid})`)
    this.io.out('')
    this.io.out(`    export CONSUL_HTTP_ADDR=${cluster.servers[0].httpAddr}`)
    this.io.out('')
    this.io.out('==> Cluster running; Ctrl-C stops every agent.')
    await new Promise<void>((resolve) => {
      const shutdown = () => {
        this.io.out('==> Stopping the cluster...')
        cluster.stop().then(resolve, resolve)
      }
      process.once('SIGINT', shutdown)
      process.once('SIGTERM', shutdown)
    })
  }
}
