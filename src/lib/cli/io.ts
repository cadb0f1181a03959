// One object that knows whether stdout/stderr are terminals and whether colour and spinners are on
// (after gh's iostreams; the rules are terminal.ts's). Commands write through it and never look at
// isTTY themselves; tests use fakeIO().
import {terminalState, type TerminalState} from './terminal.js'

export interface IO extends TerminalState {
  /** Writes text + "\n" to stdout (Consul's ui.Output). */
  out(line: string): void
  /** Writes text + "\n" to stderr (Consul's ui.Error). */
  err(line: string): void
  /** Raw bytes to stdout, no newline added. */
  write(data: string | Uint8Array): void
  /** Raw bytes to stderr, no newline added. */
  writeErr(data: string | Uint8Array): void
  /** All of stdin. */
  readStdin(): Promise<Buffer>
}

export function processIO(env: Record<string, string | undefined> = process.env): IO {
  // A closed pipe (`coord kv get -recurse | head`) ends the process quietly, as SIGPIPE ends Go's.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(141)
      throw error
    })
  }
  return {
    ...terminalState({stdoutIsTTY: process.stdout.isTTY === true, stderrIsTTY: process.stderr.isTTY === true, stderrColumns: process.stderr.columns}, env),
    out: (line) => void process.stdout.write(`${line}\n`),
    err: (line) => void process.stderr.write(`${line}\n`),
    write: (data) => void process.stdout.write(data),
    writeErr: (data) => void process.stderr.write(data),
    readStdin: async () => {
      const chunks: Buffer[] = []
      for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string))
      return Buffer.concat(chunks)
    },
  }
}

export interface FakeIO extends IO {
  stdout(): string
  stderr(): string
  stdoutBytes(): Buffer
}

/** Captures output; `tty` fakes terminal state (no spinner: it would draw on the real stderr), `stdin` is what readStdin returns. */
export function fakeIO(options: {tty?: boolean; color?: boolean; stdin?: string | Buffer} = {}): FakeIO {
  const out: Buffer[] = []
  const err: Buffer[] = []
  const push = (into: Buffer[], data: string | Uint8Array): void => void into.push(Buffer.from(data))
  return {
    stdoutIsTTY: options.tty === true,
    stderrIsTTY: options.tty === true,
    colorEnabled: options.color ?? false,
    spinnerEnabled: false,
    out: (line) => push(out, `${line}\n`),
    err: (line) => push(err, `${line}\n`),
    write: (data) => push(out, data),
    writeErr: (data) => push(err, data),
    readStdin: async () => Buffer.from(options.stdin ?? ''),
    stdout: () => Buffer.concat(out).toString('utf8'),
    stderr: () => Buffer.concat(err).toString('utf8'),
    stdoutBytes: () => Buffer.concat(out),
  }
}
