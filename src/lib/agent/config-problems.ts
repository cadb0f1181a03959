// A config problem as a record: the file that set the key (when one did), the key, and the one-line
// message. Problems are made where the key is known (the field readers, the schema's key check, the
// cross-checks); the file is filled in from the key's sources once, when the problems are reported.

export interface ConfigProblem {
  /** The file(s) that set the key, comma-separated; '' for a flag, a default or a rule across keys. */
  readonly file: string
  /** The dotted key the problem is about (`ports.http`, `services`); '' when no one key is. */
  readonly key: string
  /** The whole line as the user reads it, key included ("ports.http: expected a port number ..."). */
  readonly message: string
}

/** Which file(s) set each key (config.ts keySources); '' stands for the command-line flags. */
export type KeySources = ReadonlyMap<string, readonly string[]>

/** Collects problems while a config is built. */
export class Problems {
  readonly #list: Array<{key: string; message: string}> = []

  add(key: string, message: string): void {
    this.#list.push({key, message})
  }

  /**
   * The problems a block's own parser reported as lines (dns-config.ts, tls/config.ts, ...), kept
   * under the block's key, or under `<block>.<inner>` when the line is about one of the block's keys.
   */
  adopt(block: string, innerKeys: Iterable<string>, messages: readonly string[]): void {
    const inner = [...innerKeys].sort((a, b) => b.length - a.length)
    for (const message of messages) {
      const match = inner.find((key) => message.startsWith(`${block}.${key}:`) || message.startsWith(`${block}.${key}.`) || message === `invalid config key ${block}.${key}`)
      this.add(match === undefined ? block : `${block}.${match}`, message)
    }
  }

  get length(): number {
    return this.#list.length
  }

  /** The records, each labelled with the file(s) that set its key (the nested key first, then its block). */
  records(sources?: KeySources): ConfigProblem[] {
    return this.#list.map(({key, message}) => {
      const top = key.split(/[.[]/)[0]
      const files = sources === undefined || key === '' ? [] : (sources.get(key) ?? sources.get(nestedKey(key)) ?? sources.get(top) ?? []).filter((path) => path !== '')
      return {file: files.join(', '), key, message}
    })
  }
}

/** `a.b.c` → `a.b` (sources are kept for a key and its block's keys, one level down). */
function nestedKey(key: string): string {
  return key.split('.').slice(0, 2).join('.')
}

/** One problem as printed: "/etc/coord/a.json: ports.http: expected ...". */
export function problemText(problem: ConfigProblem): string {
  return problem.file === '' ? problem.message : `${problem.file}: ${problem.message}`
}
