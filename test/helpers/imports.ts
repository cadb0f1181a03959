// Reads the project's import graph for the layering test: every relative import of every .ts file
// under src/ (static, type-only, re-exports and dynamic import()), resolved to a file path, read with
// TypeScript's own pre-processor so comments and strings never count as imports.
import {readFileSync, readdirSync, statSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'
import ts from 'typescript'

export interface SourceFile {
  /** Repository-relative path, e.g. src/lib/raft/core.ts. */
  path: string
  text: string
  /** Repository-relative paths of the project files it imports. */
  imports: string[]
  /** Bare module names it imports (node:fs, @msgpack/msgpack, ...). */
  packages: string[]
}

export function readSources(root: string, dir = 'src'): SourceFile[] {
  const files: string[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(join(root, d)).sort()) {
      const path = join(d, name)
      if (statSync(join(root, path)).isDirectory()) walk(path)
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) files.push(path)
    }
  }
  walk(dir)
  return files.map((path) => {
    const text = readFileSync(join(root, path), 'utf8')
    const imports: string[] = []
    const packages: string[] = []
    for (const {fileName} of ts.preProcessFile(text, true, true).importedFiles) {
      if (fileName.startsWith('.')) imports.push(relative(root, resolve(root, dirname(path), fileName)).replace(/\.js$/, '.ts'))
      else packages.push(fileName)
    }
    return {path, text, imports, packages}
  })
}

/** Every cycle among `files` (Tarjan's strongly connected components of size > 1, or a self-import). */
export function importCycles(files: readonly SourceFile[]): string[][] {
  const graph = new Map(files.map((f) => [f.path, f.imports]))
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const cycles: string[][] = []
  let next = 0
  const visit = (v: string) => {
    index.set(v, next)
    low.set(v, next)
    next++
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!))
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        component.push(w)
      } while (w !== v)
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(component.sort())
    }
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return cycles
}

/**
 * Uses of the clock, timers and ambient randomness in a file's code (not its comments):
 * Date.now(), new Date(...), Math.random(), performance.now(), process.hrtime, setTimeout & co.
 */
export function clockAndRandomUses(file: SourceFile): string[] {
  const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.ES2022, true)
  const found: string[] = []
  const forbiddenMembers = new Set(['Date.now', 'Math.random', 'performance.now', 'process.hrtime', 'crypto.randomUUID', 'crypto.getRandomValues'])
  const forbiddenCalls = new Set(['setTimeout', 'setInterval', 'setImmediate', 'queueMicrotask'])
  const at = (node: ts.Node) => `${file.path}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`
  const visit = (node: ts.Node) => {
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
      const name = `${node.expression.text}.${node.name.text}`
      if (forbiddenMembers.has(name)) found.push(`${at(node)} ${name}`)
    }
    if (ts.isNewExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'Date') found.push(`${at(node)} new Date`)
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && forbiddenCalls.has(node.expression.text)) found.push(`${at(node)} ${node.expression.text}`)
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

/**
 * The layers as ARCHITECTURE.md states them: the fenced ```layers block, top line first; each line
 * names folders of src/lib (or top-level modules of src/lib without .ts, or `commands`).
 */
export function readLayers(architectureText: string): string[][] {
  const block = /```layers\n([\s\S]*?)```/.exec(architectureText)
  if (!block) throw new Error('ARCHITECTURE.md has no ```layers block')
  return block[1].split('\n').map((line) => line.replace(/#.*$/, '').trim()).filter(Boolean).map((line) => line.split(/\s+/))
}

/** The unit a file belongs to in the layer table: its folder under src/lib, its module name for top-level files, or `commands`. */
export function unitOf(path: string): string {
  // oclif hooks are entry points beside the commands (package.json oclif.hooks): same layer.
  if (path.startsWith('src/commands/') || path.startsWith('src/hooks/')) return 'commands'
  const rest = path.replace(/^src\/lib\//, '')
  const slash = rest.indexOf('/')
  return slash === -1 ? rest.replace(/\.ts$/, '') : rest.slice(0, slash)
}
