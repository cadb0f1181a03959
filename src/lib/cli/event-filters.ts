// The -node/-service/-tag regular-expression flags `coord event` and `coord exec` share, checked
// before anything is sent, with Consul's messages (command/event/event.go, command/exec/exec.go).
import {CommandError} from './errors.js'

export function validateFilterFlags(flags: {node: string; service: string; tag: string}): void {
  for (const [what, source] of [['node', flags.node], ['service', flags.service], ['tag', flags.tag]] as const) {
    if (!source) continue
    try {
      new RegExp(source)
    } catch (error) {
      throw new CommandError(`Failed to compile ${what} filter regexp: ${(error as Error).message}`)
    }
  }
  if (flags.tag && !flags.service) throw new CommandError('Cannot provide tag filter without service filter.')
}
