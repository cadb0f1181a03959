import {agentServiceRegister} from '../../lib/api/agent-local.js'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {CommandError, FlagError} from '../../lib/cli/errors.js'
import {intFlag, listFlag, stringFlag} from '../../lib/cli/flags.js'
import {clientFlags, serverFlags} from '../../lib/cli/http-flags.js'
import {defField, parseKeyValues, servicesFromFiles, type ServiceDef} from '../../lib/cli/service-files.js'

export default class ServicesRegister extends BaseCommand {
  static description = 'Register one or more services with the local agent, from service definition files (JSON) or from flags. The services stay until "coord services deregister".'
  static usage = 'services register [options] [FILE...]'
  static examples = ['coord services register web.json', 'coord services register -name=web -port=8080 -tag=v1 -meta=team=edge']
  static flags = {
    ...clientFlags,
    ...serverFlags,
    id: stringFlag({description: 'ID of the service to register for arg-based registration. If this isn\'t set, it will default to the -name value.'}),
    name: stringFlag({description: 'Name of the service to register for arg-based registration.'}),
    address: stringFlag({description: 'Address of the service to register for arg-based registration.'}),
    port: intFlag({description: 'Port of the service to register for arg-based registration.'}),
    tag: listFlag({description: 'Tag to add to the service. This flag can be specified multiple times to set multiple tags.'}),
    meta: listFlag({description: 'Metadata to set on the service, formatted as key=value. This flag may be specified multiple times to set multiple meta fields.'}),
    kind: stringFlag({description: "The services 'kind'"}),
  }

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(ServicesRegister.flags)
    if (args.length === 0 && flags.name === '') throw new CommandError('Service registration requires at least one argument or flags.')
    if (args.length > 0 && flags.name !== '') throw new CommandError('Service registration requires arguments or -id, not both.')
    let meta: Record<string, string>
    try {
      meta = parseKeyValues(flags.meta, 'meta')
    } catch (error) {
      throw new FlagError((error as Error).message)
    }
    const fromFlags: ServiceDef = {Name: flags.name, Tags: flags.tag, Meta: meta}
    if (flags.id) fromFlags.ID = flags.id
    if (flags.address) fromFlags.Address = flags.address
    if (flags.port) fromFlags.Port = flags.port
    if (flags.kind) fromFlags.Kind = flags.kind
    let services: ServiceDef[] = [fromFlags]
    if (args.length > 0) {
      try {
        services = servicesFromFiles(args).map((def) => combine(def, fromFlags))
      } catch (error) {
        throw new CommandError(`Error: ${(error as Error).message}`)
      }
    }
    const client = await this.api()
    for (const service of services) {
      const name = String(defField(service, 'name') ?? '')
      await agentServiceRegister(client, service).catch((error: Error) => {
        throw new CommandError(`Error registering service "${name}": ${error.message}`, {cause: error})
      })
      this.io.out(`Registered service: ${name}`)
    }
  }
}

/** Consul's CombineArgs: a flag fills a field the file leaves empty; tags and meta add up. */
function combine(file: ServiceDef, flags: ServiceDef): ServiceDef {
  const out = {...file}
  for (const key of ['ID', 'Name', 'Address', 'Port', 'Kind']) {
    if (flags[key] !== undefined && flags[key] !== '' && !defField(out, key)) out[key] = flags[key]
  }
  const metaKey = Object.keys(out).find((k) => k.toLowerCase() === 'meta') ?? 'Meta'
  out[metaKey] = {...(out[metaKey] as Record<string, string> | undefined), ...(flags.Meta as Record<string, string>)}
  const tagsKey = Object.keys(out).find((k) => k.toLowerCase() === 'tags') ?? 'Tags'
  out[tagsKey] = [...((out[tagsKey] as string[] | undefined) ?? []), ...(flags.Tags as string[])]
  return out
}
