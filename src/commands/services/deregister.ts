import {agentServiceDeregister} from '../../lib/api/agent-local.js'
import {BaseCommand} from '../../lib/cli/base-command.js'
import {CommandError} from '../../lib/cli/errors.js'
import {stringFlag} from '../../lib/cli/flags.js'
import {clientFlags, serverFlags} from '../../lib/cli/http-flags.js'
import {defField, servicesFromFiles} from '../../lib/cli/service-files.js'

export default class ServicesDeregister extends BaseCommand {
  static description = 'Deregister one or more services that were previously registered with the local agent, by service definition file or by -id. Run it against the agent where the service was registered.'
  static usage = 'services deregister [options] [FILE...]'
  static examples = ['coord services deregister web.json db.json', 'coord services deregister -id=web']
  static flags = {
    ...clientFlags,
    ...serverFlags,
    id: stringFlag({description: 'ID to delete. This must not be set if arguments are given.'}),
  }

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(ServicesDeregister.flags)
    if (args.length === 0 && flags.id === '') throw new CommandError('Service deregistration requires at least one argument or -id.')
    if (args.length > 0 && flags.id !== '') throw new CommandError('Service deregistration requires arguments or -id, not both.')
    let ids = [flags.id]
    if (args.length > 0) {
      try {
        ids = servicesFromFiles(args).map((def) => String(defField(def, 'id') || defField(def, 'name') || ''))
      } catch (error) {
        throw new CommandError(`Error: ${(error as Error).message}`)
      }
    }
    const client = await this.api()
    for (const id of ids) {
      if (id === '') continue
      await agentServiceDeregister(client, id).catch((error: Error) => {
        throw new CommandError(`Error deregistering service "${id}": ${error.message}`, {cause: error})
      })
      this.io.out(`Deregistered service: ${id}`)
    }
  }
}
