import {eventFire} from '../lib/api/event.js'
import {BaseCommand} from '../lib/cli/base-command.js'
import {CommandError, FlagError} from '../lib/cli/errors.js'
import {stringFlag} from '../lib/cli/flags.js'
import {clientFlags} from '../lib/cli/http-flags.js'
import {validateFilterFlags} from '../lib/cli/event-filters.js'

export default class Event extends BaseCommand {
  static description = 'Dispatches a custom user event across a datacenter. An event must provide a name, but a payload is optional. Events support filtering using regular expressions on node name, service, and tag definitions.'
  static usage = 'event [options] [payload]'
  static examples = ['coord event -name=deploy v1.2.3', 'coord event -name=restart -service=web -tag=blue']
  static flags = {
    ...clientFlags,
    name: stringFlag({description: 'Name of the event.'}),
    node: stringFlag({description: 'Regular expression to filter on node names.'}),
    service: stringFlag({description: 'Regular expression to filter on service instances.'}),
    tag: stringFlag({description: 'Regular expression to filter on service tags. Must be used with -service.'}),
  }

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(Event.flags)
    if (flags.name === '') throw new FlagError('Event name must be specified\n')
    validateFilterFlags(flags)
    if (args.length > 1) throw new FlagError('Too many command line arguments.\n')
    // Consul asks the agent who it is first, so an unreachable agent gets its usual message.
    const client = await this.reachableApi()
    const event = await eventFire(client, flags.name, args.length === 1 ? args[0] : null, {node: flags.node, service: flags.service, tag: flags.tag})
      .catch((error: unknown) => { throw new CommandError(`Error firing event: ${(error as Error).message}`, {cause: error}) })
    this.io.out(`Event ID: ${event.ID}`)
  }
}
