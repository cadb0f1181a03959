// Consul-style usage text (`-flag=<value>` forms), printed after a flag error and for -h when a
// command runs outside oclif's help (in-process tests).
import {type FlagSet} from './flags.js'
import {clientFlags, serverFlags} from './http-flags.js'

export interface UsageSource {
  id?: string
  usage?: string
  description?: string
  flags: FlagSet
}

export function renderUsage(bin: string, command: UsageSource): string {
  const shared = new Set<unknown>([...Object.values(clientFlags), ...Object.values(serverFlags)])
  const entries = Object.entries(command.flags).filter(([, def]) => !def.hidden).sort(([a], [b]) => a.localeCompare(b))
  const http = entries.filter(([, def]) => shared.has(def))
  const own = entries.filter(([, def]) => !shared.has(def))
  const usageLine = command.usage ?? `${(command.id ?? '').replaceAll(':', ' ')} [options]`
  const parts = [`Usage: ${bin} ${usageLine}`]
  if (command.description) parts.push('', ...command.description.split('\n').map((line) => line ? `  ${line}` : ''))
  const section = (title: string, list: typeof entries): void => {
    if (list.length === 0) return
    parts.push('', title)
    for (const [name, def] of list) {
      parts.push('', def.kind === 'bool' ? `  -${name}` : `  -${name}=${def.helpValue ?? '<value>'}`)
      parts.push(...wrap(def.description, 75).map((line) => `     ${line}`))
    }
  }
  section('HTTP API Options', http)
  section('Command Options', own)
  return parts.join('\n')
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else {
      line = line ? `${line} ${word}` : word
    }
  }
  if (line) lines.push(line)
  return lines
}

/**
 * The top-level command list Consul prints for an unknown command (mitchellh/cli BasicHelpFunc):
 * a usage line, then each name padded to the longest, four spaces, and its one-line synopsis (the
 * description's first sentence), sorted by name.
 */
export function renderCommandList(bin: string, entries: Array<{name: string; synopsis: string}>): string {
  const lines = [`Usage: ${bin} [--version] [--help] <command> [<args>]`, '', 'Available commands are:', ...alignedList(entries)]
  return `${lines.join('\n')}\n`
}

/**
 * A topic's help for an unknown subcommand (`coord kv frob`): as Consul's topic commands answer
 * (their usage, then mitchellh/cli's "Subcommands:" list of the direct children).
 */
export function renderTopicHelp(bin: string, topic: string, description: string, entries: Array<{name: string; synopsis: string}>): string {
  const lines = [`Usage: ${bin} ${topic.replaceAll(':', ' ')} <subcommand> [options] [args]`, '', `  ${synopsis(description)}`, '', 'Subcommands:', ...alignedList(entries)]
  return `${lines.join('\n')}\n`
}

/** Each name padded to the longest, four spaces, its one-line synopsis; sorted, indented by four. */
function alignedList(entries: Array<{name: string; synopsis: string}>): string[] {
  const unique = new Map(entries.map((entry) => [entry.name, synopsis(entry.synopsis)]))
  const names = [...unique.keys()].sort()
  const width = Math.max(0, ...names.map((name) => name.length))
  return names.map((name) => `    ${name.padEnd(width)}    ${unique.get(name)}`)
}

function synopsis(description: string): string {
  const firstLine = description.split('\n')[0].trim()
  const end = firstLine.search(/\.(\s|$)/)
  return end === -1 ? firstLine : firstLine.slice(0, end)
}
