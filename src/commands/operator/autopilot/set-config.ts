import {autopilotCASConfiguration, autopilotGetConfiguration} from '../../../lib/api/operator.js'
import {BaseCommand} from '../../../lib/cli/base-command.js'
import {CommandError} from '../../../lib/cli/errors.js'
import {boolFlag, durationFlag, stringFlag, uint64Flag} from '../../../lib/cli/flags.js'
import {clientFlags} from '../../../lib/cli/http-flags.js'
import {formatDuration} from '../../../lib/duration.js'

export default class OperatorAutopilotSetConfig extends BaseCommand {
  static description = 'Modifies the current Autopilot configuration: only the flags given change, and the change is a check-and-set on the configuration read first.'
  static usage = 'operator autopilot set-config [options]'
  static examples = ['coord operator autopilot set-config -cleanup-dead-servers=false', 'coord operator autopilot set-config -min-quorum=3 -server-stabilization-time=30s']
  static flags = {
    ...clientFlags,
    'cleanup-dead-servers': boolFlag({description: 'Controls whether Consul will automatically remove dead servers when new ones are successfully added. Must be one of `true|false`.'}),
    'max-trailing-logs': uint64Flag({description: 'Controls the maximum number of log entries that a server can trail the leader by before being considered unhealthy.'}),
    'min-quorum': uint64Flag({description: 'Sets the minimum number of servers required in a cluster before autopilot can prune dead servers.'}),
    'last-contact-threshold': durationFlag({description: 'Controls the threshold for how long a server can go without contact with the leader before being considered unhealthy. Must be a duration value such as `200ms`.'}),
    'server-stabilization-time': durationFlag({description: 'Controls the minimum amount of time a server must be stable in the \'healthy\' state before being added to the cluster. Only takes effect if all servers are running Raft protocol version 3 or higher. Must be a duration value such as `10s`.'}),
    'redundancy-zone-tag': stringFlag({description: '(Enterprise-only) Controls the node_meta tag name used for separating servers into different redundancy zones; stored, not acted on by coord.'}),
    'disable-upgrade-migration': boolFlag({description: '(Enterprise-only) Controls whether Consul will avoid promoting new servers until it can perform a migration; stored, not acted on by coord.'}),
    'upgrade-version-tag': stringFlag({description: '(Enterprise-only) The node_meta tag to use for version info when performing upgrade migrations; stored, not acted on by coord.'}),
  }

  protected async run(): Promise<void> {
    const {flags, set} = this.parse(OperatorAutopilotSetConfig.flags)
    const count = (name: string, value: string): number => {
      const n = Number(value)
      if (!Number.isSafeInteger(n)) throw new CommandError(`invalid value "${value}" for flag -${name}: value out of range`)
      return n
    }
    const client = await this.api()
    const config = await autopilotGetConfiguration(client).catch((error: Error) => {
      throw new CommandError(`Error querying Autopilot configuration: ${error.message}`, {cause: error})
    })
    if (set.has('cleanup-dead-servers')) config.CleanupDeadServers = flags['cleanup-dead-servers']
    if (set.has('max-trailing-logs')) config.MaxTrailingLogs = count('max-trailing-logs', flags['max-trailing-logs'])
    if (set.has('min-quorum')) config.MinQuorum = count('min-quorum', flags['min-quorum'])
    if (set.has('last-contact-threshold')) config.LastContactThreshold = formatDuration(flags['last-contact-threshold'])
    if (set.has('server-stabilization-time')) config.ServerStabilizationTime = formatDuration(flags['server-stabilization-time'])
    if (set.has('redundancy-zone-tag')) config.RedundancyZoneTag = flags['redundancy-zone-tag']
    if (set.has('disable-upgrade-migration')) config.DisableUpgradeMigration = flags['disable-upgrade-migration']
    if (set.has('upgrade-version-tag')) config.UpgradeVersionTag = flags['upgrade-version-tag']
    const stored = await autopilotCASConfiguration(client, config).catch((error: Error) => {
      throw new CommandError(`Error setting Autopilot configuration: ${error.message}`, {cause: error})
    })
    if (!stored) throw new CommandError('Configuration could not be atomically updated, please try again')
    this.io.out('Configuration updated!')
  }
}
