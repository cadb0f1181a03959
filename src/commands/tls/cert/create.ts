import {readFileSync} from 'node:fs'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {boolFlag, intFlag, listFlag, stringFlag} from '../../../lib/cli/flags.js'

export default class TlsCertCreate extends BaseCommand {
  static description = 'Creates a certificate signed by the CA from `coord tls ca create`: -server (server.<dc>.<domain>), -client (client.<dc>.<domain>) or -cli (cli.<dc>.<domain>), written as <dc>-<kind>-<domain>-<n>.pem and <dc>-<kind>-<domain>-<n>-key.pem.'
  static usage = 'tls cert create [options]'
  static examples = [
    'coord tls cert create -server',
    'coord tls cert create -server -dc=dc2 -additional-ipaddress=10.0.0.5',
    'coord tls cert create -client',
    'coord tls cert create -cli',
  ]
  static flags = {
    server: boolFlag({description: 'Generate server certificate.'}),
    client: boolFlag({description: 'Generate client certificate.'}),
    cli: boolFlag({description: 'Generate cli certificate.'}),
    ca: stringFlag({description: 'Provide path to the ca. Defaults to #DOMAIN#-agent-ca.pem.', default: '#DOMAIN#-agent-ca.pem'}),
    key: stringFlag({description: 'Provide path to the key. Defaults to #DOMAIN#-agent-ca-key.pem.', default: '#DOMAIN#-agent-ca-key.pem'}),
    dc: stringFlag({description: 'Provide the datacenter. Matters only for -server certificates. Defaults to dc1.', default: 'dc1'}),
    domain: stringFlag({description: 'Provide the domain. Matters only for -server certificates.', default: 'consul'}),
    days: intFlag({description: 'Provide number of days the certificate is valid for from now on. Defaults to 1 year.', default: 365}),
    node: stringFlag({description: 'When generating a server cert and this is set an additional dns name is included of the form <node>.server.<datacenter>.<domain>.', default: ''}),
    'additional-dnsname': listFlag({description: 'Provide an additional dnsname for Subject Alternative Names. localhost is always included. This flag may be provided multiple times.'}),
    'additional-ipaddress': listFlag({description: 'Provide an additional ipaddress for Subject Alternative Names. 127.0.0.1 is always included. This flag may be provided multiple times.'}),
  }

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(TlsCertCreate.flags)
    if (args.length > 0) throw new CommandError(`Unexpected extra arguments: ${args.join(' ')}`)
    const kinds = (['server', 'client', 'cli'] as const).filter((kind) => flags[kind])
    if (kinds.length !== 1) throw new CommandError('Please provide either -server, -client, or -cli')
    const kind = kinds[0]
    if (flags.node !== '' && kind !== 'server') throw new CommandError('Error: -node requires -server')
    if (flags.ca === '') throw new CommandError('Please provide the ca')
    if (flags.key === '') throw new CommandError('Please provide the key')
    if (flags.days <= 0) throw new CommandError('Error: -days must be a positive number of days')
    if (!/^[a-z0-9_-]+$/.test(flags.dc)) throw new CommandError(`Error: -dc ${JSON.stringify(flags.dc)}: can only contain lowercase alphanumeric, - or _ characters`)
    if (!/^[A-Za-z0-9.-]+$/.test(flags.domain)) throw new CommandError(`Error: -domain ${JSON.stringify(flags.domain)} is not a DNS name`)
    const [{createLeaf}, {nextFreePair, writeNewFile}] = await Promise.all([import('../../../lib/tls/generate.js'), import('../../../lib/tls/files.js')])
    const pair = nextFreePair(`${flags.dc}-${kind}-${flags.domain}`)
    if (!pair) throw new CommandError("Error: could not find a filename that doesn't already exist")
    const caFile = flags.ca.replace('#DOMAIN#', flags.domain)
    const keyFile = flags.key.replace('#DOMAIN#', flags.domain)
    const read = (path: string, what: string) => {
      try {
        return readFileSync(path, 'utf8')
      } catch (error) {
        throw new CommandError(`Error reading ${what}: ${(error as Error).message}`)
      }
    }
    const caCert = read(caFile, 'CA')
    const caKey = read(keyFile, 'CA key')
    if (kind === 'server') {
      this.io.out('==> WARNING: Server Certificates grants authority to become a\n    server and access all state in the cluster including root keys\n    and all ACL tokens. Do not distribute them to production hosts\n    that are not server nodes. Store them as securely as CA keys.')
    }
    this.io.out(`==> Using ${caFile} and ${keyFile}`)
    let leaf
    try {
      leaf = await createLeaf({
        kind, caCert, caKey, datacenter: flags.dc, domain: flags.domain, days: flags.days, node: flags.node || undefined,
        dnsNames: flags['additional-dnsname'], ipAddresses: flags['additional-ipaddress'],
      })
    } catch (error) {
      throw new CommandError(`Error: ${(error as Error).message}`)
    }
    writeNewFile(pair.cert, leaf.cert, 0o644)
    this.io.out(`==> Saved ${pair.cert}`)
    writeNewFile(pair.key, leaf.key, 0o600)
    this.io.out(`==> Saved ${pair.key}`)
  }
}
