// auto_reload_config (-auto-reload-config): the config files and directories are watched, and a
// change is applied as `coord reload` would apply it (Consul's agent/config FileWatcher). The parent
// directory of each file is watched rather than the file, so an editor that replaces the file (write
// a temporary, rename it over) is seen too. Changes within DEBOUNCE_MS make one reload.
import {watch, statSync, type FSWatcher} from 'node:fs'
import {basename, dirname, resolve} from 'node:path'
import type {Logger} from '../logger.js'

const DEBOUNCE_MS = 200

export interface ConfigWatch {
  stop(): void
}

export function watchConfigPaths(paths: readonly string[], reload: () => Promise<void>, log: Logger): ConfigWatch {
  // directory → the names in it that matter (undefined: every *.json and *.hcl, for a -config-dir)
  const targets = new Map<string, Set<string> | undefined>()
  for (const path of paths.map((p) => resolve(p))) {
    let isDir = false
    try { isDir = statSync(path).isDirectory() } catch { isDir = false }
    if (isDir) targets.set(path, undefined)
    else if (!targets.has(dirname(path)) || targets.get(dirname(path)) !== undefined) {
      targets.set(dirname(path), new Set([...(targets.get(dirname(path)) ?? []), basename(path)]))
    }
  }
  let timer: NodeJS.Timeout | undefined
  const changed = (dir: string, name: string | null) => {
    const names = targets.get(dir)
    if (name !== null && (names ? !names.has(name) : !(name.endsWith('.json') || name.endsWith('.hcl')))) return
    clearTimeout(timer)
    timer = setTimeout(() => {
      log.info('config file changed; reloading', {dir, file: name ?? ''})
      reload().catch(() => {}) // the agent logs a refused reload with its reason
    }, DEBOUNCE_MS)
  }
  const watchers: FSWatcher[] = []
  for (const dir of targets.keys()) {
    try {
      const watcher = watch(dir, {persistent: false}, (_event, name) => changed(dir, name === null ? null : String(name)))
      watcher.on('error', (error) => log.warn('cannot watch a config directory any more', {dir, error: error.message}))
      watchers.push(watcher)
    } catch (error) {
      log.warn('cannot watch a config directory; auto_reload_config will not see its changes', {dir, error: (error as Error).message})
    }
  }
  log.info('watching config files for changes (auto_reload_config)', {paths: [...targets.keys()].join(', ')})
  return {
    stop: () => {
      clearTimeout(timer)
      for (const watcher of watchers) watcher.close()
    },
  }
}
