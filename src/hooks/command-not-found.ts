// oclif's command_not_found hook (package.json oclif.hooks): an unknown command answers as Consul's
// CLI does (mitchellh/cli: the list of commands on stdout, exit status 127) instead of oclif's
// "command … not found" error and exit 2.
import type {Hook} from '@oclif/core'
import {renderCommandList} from '../lib/cli/usage.js'

const hook: Hook<'command_not_found'> = async function (options) {
  const entries = [
    ...options.config.commands.filter((command) => !command.hidden && !command.id.includes(':'))
      .map((command) => ({name: command.id, synopsis: command.summary ?? command.description ?? ''})),
    ...options.config.topics.filter((topic) => !topic.hidden && !topic.name.includes(':'))
      .map((topic) => ({name: topic.name, synopsis: topic.description ?? ''})),
  ]
  process.stdout.write(`${renderCommandList('coord', entries)}\n`)
  process.exitCode = 127
  return true
}

export default hook
