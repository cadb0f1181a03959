import {BaseCommand} from '../lib/cli/base-command.js'
import {CommandError} from '../lib/cli/errors.js'
import {boolFlag, stringFlag} from '../lib/cli/flags.js'

export default class Validate extends BaseCommand {
  static description = 'Performs a basic sanity test on the agent configuration files: each file or directory given is read and checked just as `coord agent` would (JSON and HCL, every key and value, the cross-checks), without starting an agent. Returns 0 if the configuration is valid, or 1 if there are problems. Also available as `configtest`.'
  static usage = 'validate [options] FILE_OR_DIRECTORY...'
  static examples = ['coord validate /etc/consul.d', 'coord validate -quiet consul.hcl services/']
  static flags = {
    quiet: boolFlag({description: 'When given, a successful run will produce no output.'}),
    'config-format': stringFlag({description: "Read every config file in this format, whatever its extension: 'hcl' or 'json'."}),
  }

  protected async run(): Promise<void> {
    const {flags, args, set} = this.parse(Validate.flags)
    if (args.length < 1) throw new CommandError('Must specify at least one config file or directory')
    const format = flags['config-format']
    if (set.has('config-format') && format !== 'hcl' && format !== 'json') throw new CommandError(`-config-format must be 'hcl' or 'json', got ${JSON.stringify(format)}`)
    const {ConfigError, loadConfig} = await import('../lib/agent/config.js')
    try {
      // As Consul's validate: the paths are config files (a directory is read as one), no -dev defaults.
      loadConfig({files: args, dirs: [], fromFlags: {}, dev: false, format: format === '' ? undefined : format as 'hcl' | 'json'})
    } catch (error) {
      if (error instanceof ConfigError) throw new CommandError(`Config validation failed: ${error.message}`)
      throw error
    }
    if (!flags.quiet) this.io.out('Configuration is valid!')
  }
}
