// The data dir and the node ID kept in it. Created one level at a time rather than with
// mkdirSync({recursive}), which on some file systems (procfs answers ENOENT for any new name) never
// returns: here each level is tried once, so a data dir that cannot exist fails the start with its path.
import {existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {randomUUID} from 'node:crypto'
import {dirname, join, resolve} from 'node:path'

/** Creates `path` and any missing parents; throws an Error naming data_dir and the path. */
export function ensureDataDir(path: string): void {
  const missing: string[] = []
  let dir = resolve(path)
  // Bounded by the path's depth: dirname() of the root is the root.
  while (!existsSync(dir) && dirname(dir) !== dir) {
    missing.unshift(dir)
    dir = dirname(dir)
  }
  try {
    for (const level of missing) mkdirSync(level)
    if (!statSync(path).isDirectory()) throw new Error('not a directory')
  } catch (error) {
    throw new Error(`data_dir: cannot create ${JSON.stringify(path)}: ${(error as Error).message}`)
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** The node ID kept in `<data-dir>/node-id`, created on first start; a file that holds anything else is refused, by name. */
export function loadNodeId(dataDir: string): string {
  const path = join(dataDir, 'node-id')
  // A server's Raft state names it by this ID: a fresh one would leave it outside its own
  // configuration, never electing or joining (and silently serving nothing).
  if (!existsSync(path) && existsSync(join(dataDir, 'raft', 'hardstate.dat'))) {
    throw new Error(`${path}: missing, but ${join(dataDir, 'raft')} holds this server's Raft state under its old ID; restore the file (or start with -node-id=<old id>)`)
  }
  if (!existsSync(path)) {
    const id = randomUUID()
    writeFileSync(path, id)
    return id
  }
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    throw new Error(`${path}: cannot read the node ID: ${(error as Error).message}`)
  }
  const id = text.trim()
  if (UUID.test(id)) return id
  throw new Error(`${path}: does not hold a node ID (UUID); fix or remove the file`)
}
