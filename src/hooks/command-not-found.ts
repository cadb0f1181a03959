// oclif's command_not_found hook (package.json oclif.hooks): an unknown command answers as Consul's
// CLI does (mitchellh/cli) instead of oclif's "command … not found" and exit 2: under a known topic
// (`coord kv frob`) the topic's usage and subcommands, exit 1, as Consul's `kv` command answers
// RunResultHelp; otherwise the list of commands, exit 127. Both on stdout (Consul's HelpWriter).
import type {Hook} from '@oclif/core'
import {renderCommandList, renderTopicHelp} from '../lib/cli/usage.js'

const hook: Hook<'command_not_found'> = async function (options) {
  const {config} = options
  const entry = (name: string, synopsis?: string) => ({name, synopsis: synopsis ?? ''})
  /** Direct children of `parent` ('' = top level): visible commands and topics one level down. */
  const children = (parent: string) => {
    const depth = parent === '' ? 0 : parent.split(':').length
    const under = (id: string) => (parent === '' || id.startsWith(`${parent}:`)) && id.split(':').length === depth + 1
    return [
      ...config.commands.filter((c) => !c.hidden && under(c.id)).map((c) => entry(c.id.split(':')[depth], c.summary ?? c.description)),
      ...config.topics.filter((t) => !t.hidden && under(t.name)).map((t) => entry(t.name.split(':')[depth], t.description)),
    ]
  }
  const words = options.id.split(':')
  for (let n = words.length - 1; n >= 1; n--) {
    const topic = config.findTopic(words.slice(0, n).join(':'))
    if (topic && !topic.hidden) {
      process.stdout.write(`${renderTopicHelp('coord', topic.name, topic.description ?? '', children(topic.name))}\n`)
      process.exitCode = 1
      return true
    }
  }
  process.stdout.write(`${renderCommandList('coord', children(''))}\n`)
  process.exitCode = 127
  return true
}

export default hook
