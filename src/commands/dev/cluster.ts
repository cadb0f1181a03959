import {BaseCommand} from '../../lib/cli/base-command.js'
import {CommandError} from '../../lib/cli/errors.js'
import {boolFlag, intFlag, stringFlag} from '../../lib/cli/flags.js'
import {boxTable, withSpinner} from '../../lib/cli/terminal.js'

export default class DevCluster extends BaseCommand {
  static description = 'Starts a local cluster of real agents, each on its own 127.x.y.z address with its data dir under one folder, and stops them all on Ctrl-C. (coord only; Consul has no equivalent.)'
  static usage = 'dev cluster [options]'
  static examples = ['coord dev cluster -servers=3', 'coord dev cluster -servers=3 -clients=2', 'coord dev cluster -servers=5 -dir=./cluster-data', 'coord dev cluster -servers=3 -clients=1 -tls']
  static flags = {
    servers: intFlag({description: 'Number of server agents (1, 3 or 5 are the usual sizes).', default: 3}),
    clients: intFlag({description: 'Number of client agents (no Raft; they find the servers through gossip and forward to them).', default: 0}),
    dir: stringFlag({description: 'Folder for the agents\' data dirs (default: a new temp folder).', helpValue: '<path>'}),
    subnet: stringFlag({description: 'First three octets of the agents\' loopback addresses (default 127.0.1).', helpValue: '<a.b.c>'}),
    tls: boolFlag({description: 'Make a CA and certificates (as `coord tls` does) under <dir>/tls and run every agent with HTTPS on 8501 and TLS between agents, every verification on.'}),
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
    const tls = flags.tls ? await writeTlsFiles(join(dir, 'tls')) : undefined
    const cluster = await withSpinner(this.io, `Starting ${flags.servers + flags.clients} agent(s)`, () => startCluster({
      servers: flags.servers, clients: flags.clients, dir, subnet: flags.subnet || '127.0.1',
      serverArgs: tls ? [`-config-file=${tls.serverConfig}`] : [], clientArgs: tls ? [`-config-file=${tls.clientConfig}`] : [],
    }))
    const agents = [...cluster.servers, ...cluster.clients]
    if (this.io.stdoutIsTTY) {
      // A person reads this summary: a table. Piped, the lines below stay as they always were.
      const head = ['Agent', 'HTTP', ...(tls ? ['HTTPS'] : []), 'PID']
      const rows = agents.map((agent) => [agent.name, `http://${agent.httpAddr}`, ...(tls ? [`https://${agent.httpsAddr}`] : []), String(agent.pid)])
      this.io.out(await boxTable(this.io, head, rows))
    } else {
      for (const agent of agents) {
        this.io.out(`    ${agent.name.padEnd(10)} http://${agent.httpAddr}${agent.httpsAddr ? `  https://${agent.httpsAddr}` : ''}  (pid ${agent.pid})`)
      }
    }
    this.io.out('')
    if (tls) {
      this.io.out(`    export CONSUL_HTTP_ADDR=https://${cluster.servers[0].httpsAddr} CONSUL_TLS_SERVER_NAME=localhost`)
      this.io.out(`    export CONSUL_CACERT=${tls.ca} CONSUL_CLIENT_CERT=${tls.cliCert} CONSUL_CLIENT_KEY=${tls.cliKey}`)
    } else {
      this.io.out(`    export CONSUL_HTTP_ADDR=${cluster.servers[0].httpAddr}`)
    }
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

/** A CA, one server, one client and one CLI certificate (Consul's names) and each role's TLS config. */
async function writeTlsFiles(dir: string): Promise<{serverConfig: string; clientConfig: string; ca: string; cliCert: string; cliKey: string}> {
  const [{mkdirSync, writeFileSync}, {join}, {createCa, createLeaf}] = await Promise.all([
    import('node:fs'), import('node:path'), import('../../lib/tls/generate.js'),
  ])
  mkdirSync(dir, {recursive: true})
  const ca = await createCa({days: 30, domain: 'consul'})
  const file = (name: string, text: string, mode = 0o644) => {
    const path = join(dir, name)
    writeFileSync(path, text, {mode})
    return path
  }
  const caFile = file('consul-agent-ca.pem', ca.cert)
  file('consul-agent-ca-key.pem', ca.key, 0o600)
  const config = async (kind: 'server' | 'client') => {
    const leaf = await createLeaf({kind, caCert: ca.cert, caKey: ca.key, datacenter: 'dc1', domain: 'consul', days: 30})
    return file(`${kind}.json`, JSON.stringify({
      tls: {
        defaults: {ca_file: caFile, cert_file: file(`dc1-${kind}-consul-0.pem`, leaf.cert), key_file: file(`dc1-${kind}-consul-0-key.pem`, leaf.key, 0o600), verify_incoming: true, verify_outgoing: true},
        internal_rpc: {verify_server_hostname: true},
      },
      ports: {https: 8501},
    }, null, 2))
  }
  const cli = await createLeaf({kind: 'cli', caCert: ca.cert, caKey: ca.key, datacenter: 'dc1', domain: 'consul', days: 30})
  return {
    serverConfig: await config('server'), clientConfig: await config('client'), ca: caFile,
    cliCert: file('dc1-cli-consul-0.pem', cli.cert), cliKey: file('dc1-cli-consul-0-key.pem', cli.key, 0o600),
  }
}
