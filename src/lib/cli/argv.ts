// Entry-point helpers for bin/run.js and bin/dev.js. Kept to node:fs so the fast path stays fast:
// running a command reads the build's command index (dist/src/bundle/index.json, a few KB, written
// by scripts/bundle-commands.js from oclif.manifest.json), imports only that command's module (its
// bundle where it has one) and never loads @oclif/core; help, topics, unknown commands, a checkout
// that was not built and dev mode go through oclif's execute().
import {readFileSync} from 'node:fs'
import {wantsHelp} from './goflags.js'

/** `coord -v`, `-version`, `--version` behave as `coord version` (as consul's do). */
export function normalizeArgv(argv: string[]): string[] {
  if (argv.length > 0 && ['-v', '-version', '--version'].includes(argv[0])) return ['version', ...argv.slice(1)]
  return argv
}

interface RunnableCommand {
  id?: string
  run(argv: string[]): Promise<unknown>
}

/**
 * Runs the command named by the leading words of argv straight from the command index. Returns
 * false (the caller falls back to oclif) for help requests, topics, unknown commands or no index.
 */
export async function runFromCommandIndex(argv: string[], root: URL): Promise<boolean> {
  if (argv.length === 0 || wantsHelp(argv)) return false
  let commands: Record<string, string[] | undefined>
  try {
    commands = JSON.parse(readFileSync(new URL('dist/src/bundle/index.json', root), 'utf8')) as Record<string, string[]>
  } catch {
    return false
  }
  let id: string | undefined
  let words = 0
  for (let i = 1; i <= argv.length && !argv[i - 1].startsWith('-'); i++) {
    const candidate = argv.slice(0, i).join(':')
    if (Array.isArray(commands[candidate])) {
      id = candidate
      words = i
    }
  }
  if (id === undefined) return false
  const module = (await import(new URL(commands[id]!.join('/'), root).href)) as {default?: RunnableCommand}
  const command = module.default
  if (!command || typeof command.run !== 'function') return false
  command.id = id
  await command.run(argv.slice(words))
  return true
}
