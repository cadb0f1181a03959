// A config problem as a record: the file that set the key (when one did), the key, and the one-line
// message. Problems are made where the key is known (the field readers, the blocks' own parsers, the
// schema's key check, the cross-checks); the file is filled in from the key's sources once, when the problems are reported.

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

/**
 * Where a reader reports a problem: the dotted key it is about (`dns_config.a_record_limit`, the key
 * the user wrote) and the whole line. Each block's parser (dns-config.ts, tls/config.ts, ...) takes
 * one, so its problems reach buildConfig as records without their text being read again.
 */
export interface ProblemSink {
  add(key: string, message: string): void
}

/** A sink that keeps the lines only, in `lines` (a caller that prints them, or counts them). */
export function lineSink(lines: string[]): ProblemSink {
  return {add: (_key, message) => void lines.push(message)}
}

/** Collects problems while a config is built. */
export class Problems implements ProblemSink {
  readonly #list: Array<{key: string; message: string}> = []

  add(key: string, message: string): void {
    this.#list.push({key, message})
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
