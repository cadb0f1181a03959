import {agentSelf} from '../lib/api/agent.js'
import {agentChecks, agentNodeMaintenance, agentServiceMaintenance} from '../lib/api/agent-local.js'
import {BaseCommand} from '../lib/cli/base-command.js'
import {CommandError} from '../lib/cli/errors.js'
import {boolFlag, stringFlag} from '../lib/cli/flags.js'
import {clientFlags} from '../lib/cli/http-flags.js'

export default class Maint extends BaseCommand {
  static description = 'Places a node or service into maintenance mode: a critical check that takes it out of DNS and health answers until disabled (it survives agent restarts). With no flags, shows what is in maintenance.'
  static usage = 'maint [options]'
  static examples = ['coord maint', 'coord maint -enable -reason="kernel upgrade"', 'coord maint -disable -service=web']
  static flags = {
    ...clientFlags,
    enable: boolFlag({description: 'Enable maintenance mode.'}),
    disable: boolFlag({description: 'Disable maintenance mode.'}),
    reason: stringFlag({description: 'Text describing the maintenance reason.'}),
    service: stringFlag({description: 'Control maintenance mode for a specific service ID.'}),
  }

  protected async run(): Promise<void> {
    const {flags} = this.parse(Maint.flags)
    if (flags.enable && flags.disable) throw new CommandError('Only one of -enable or -disable may be provided')
    if (!flags.enable && flags.reason !== '') throw new CommandError('Reason may only be provided with -enable')
    if (!flags.enable && !flags.disable && flags.service !== '') throw new CommandError('Service requires either -enable or -disable')
    const client = await this.api()
    const self = await agentSelf(client).catch((error: Error) => {
      throw new CommandError(`Error querying Consul agent: ${error.message}`, {cause: error})
    })
    if (!flags.enable && !flags.disable) {
      const checks = await agentChecks(client).catch((error: Error) => {
        throw new CommandError(`Error getting checks: ${error.message}`, {cause: error})
      })
      for (const check of Object.values(checks).sort((a, b) => (a.CheckID < b.CheckID ? -1 : 1))) {
        if (check.CheckID === '_node_maintenance') {
          this.io.out('Node:')
          this.io.out(`  Name:   ${String(self.Config.NodeName ?? '')}`)
          this.io.out(`  Reason: ${check.Notes}`)
          this.io.out('')
        } else if (check.CheckID.startsWith('_service_maintenance:')) {
          this.io.out('Service:')
          this.io.out(`  ID:     ${check.ServiceID}`)
          this.io.out(`  Reason: ${check.Notes}`)
          this.io.out('')
        }
      }
      return
    }
    const verb = flags.enable ? 'enabling' : 'disabling'
    const state = flags.enable ? 'enabled' : 'disabled'
    if (flags.service === '') {
      await agentNodeMaintenance(client, flags.enable, flags.reason).catch((error: Error) => {
        throw new CommandError(`Error ${verb} node maintenance: ${error.message}`, {cause: error})
      })
      this.io.out(`Node maintenance is now ${state}`)
      return
    }
    await agentServiceMaintenance(client, flags.service, flags.enable, flags.reason).catch((error: Error) => {
      throw new CommandError(`Error ${verb} service maintenance: ${error.message}`, {cause: error})
    })
    this.io.out(`Service maintenance is now ${state} for ${JSON.stringify(flags.service)}`)
  }
}
