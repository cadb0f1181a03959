import {existsSync} from 'node:fs'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {intFlag, stringFlag} from '../../../lib/cli/flags.js'

export default class TlsCaCreate extends BaseCommand {
  static description = 'Creates a new certificate authority (an ECDSA P-256 key and a self-signed certificate) for the agents\' TLS: <domain>-agent-ca.pem and <domain>-agent-ca-key.pem in the current directory.'
  static usage = 'tls ca create [options]'
  static examples = ['coord tls ca create', 'coord tls ca create -days=3650 -domain=example']
  static flags = {
    days: intFlag({description: 'Provide number of days the CA is valid for from now on. Defaults to 5 years.', default: 1825}),
    domain: stringFlag({description: 'Domain of consul cluster. Only used as part of the file names.', default: 'consul'}),
    'common-name': stringFlag({description: 'Common Name of the CA. Defaults to "Consul Agent CA <serial>".', default: ''}),
  }

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(TlsCaCreate.flags)
    if (args.length > 0) throw new CommandError(`Unexpected extra arguments: ${args.join(' ')}`)
    if (flags.days <= 0) throw new CommandError('Error: -days must be a positive number of days')
    if (!/^[A-Za-z0-9.-]+$/.test(flags.domain)) throw new CommandError(`Error: -domain ${JSON.stringify(flags.domain)} is not a DNS name`)
    const certFile = `${flags.domain}-agent-ca.pem`
    const keyFile = `${flags.domain}-agent-ca-key.pem`
    for (const file of [certFile, keyFile]) if (existsSync(file)) throw new CommandError(`Error: ${file} already exists`)
    const [{createCa}, {writeNewFile}] = await Promise.all([import('../../../lib/tls/generate.js'), import('../../../lib/tls/files.js')])
    const ca = await createCa({days: flags.days, domain: flags.domain, commonName: flags['common-name']})
    writeNewFile(certFile, ca.cert, 0o644)
    this.io.out(`==> Saved ${certFile}`)
    writeNewFile(keyFile, ca.key, 0o600)
    this.io.out(`==> Saved ${keyFile}`)
  }
}
