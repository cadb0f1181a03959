// Entry-point helpers for bin/run.js and bin/dev.js. Kept to node:fs and node:path so the fast path
// stays fast: running a command reads the build's command index (dist/src/bundle/index.json, a few
// KB, written by scripts/bundle-commands.js from oclif.manifest.json), loads only that command's
// module (its bundle where it has one) and never loads @oclif/core; help, topics, unknown commands,
// a checkout that was not built and dev mode go through oclif's execute(). bin/run.js is CommonJS
// and requires this module as the build's CommonJS bundle (dist/src/bundle/argv.cjs): see there.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
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

/** Loads a command's file: require() for a CommonJS bundle (`.cjs`), import() for an ES module. */
export type CommandLoader = (file: string) => unknown

/**
 * Runs the command named by the leading words of argv straight from the command index under the
 * package root `root` (a directory path). Returns false (the caller falls back to oclif) for help
 * requests, topics, unknown commands or no index.
 */
export async function runFromCommandIndex(argv: string[], root: string, load: CommandLoader): Promise<boolean> {
  if (argv.length === 0 || wantsHelp(argv)) return false
  let commands: Record<string, string[] | undefined>
  try {
    commands = JSON.parse(readFileSync(join(root, 'dist', 'src', 'bundle', 'index.json'), 'utf8')) as Record<string, string[]>
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
  const module = (await load(join(root, ...commands[id]!))) as {default?: RunnableCommand}
  const command = module.default
  if (!command || typeof command.run !== 'function') return false
  command.id = id
  await command.run(argv.slice(words))
  return true
}
