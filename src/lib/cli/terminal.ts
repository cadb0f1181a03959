// The one place coord decides whether a person is reading: colour (chalk), spinners (ora) and
// boxed tables (cli-table3) only then. Anything piped or redirected gets Consul's plain bytes.
//
// - Colour: stdout is a terminal, NO_COLOR is unset or empty (no-color.org) and TERM is not
//   "dumb"; FORCE_COLOR overrides both ways as Node's own tty.getColorDepth reads it (set and
//   not "0"/"false" forces colour on, even into a pipe; "0"/"false" turns it off).
// - Spinner: stderr is a terminal with a width (it is drawn there, never on stdout; a pty of width 0
//   would make ora's line arithmetic divide by zero) and TERM is not "dumb". FORCE_COLOR does not
//   force a spinner: its redraws would garble a log file.
// - Tables for people: stdout is a terminal.

export interface TerminalState {
  readonly stdoutIsTTY: boolean
  readonly stderrIsTTY: boolean
  readonly colorEnabled: boolean
  readonly spinnerEnabled: boolean
}

type Env = Record<string, string | undefined>

export function terminalState(streams: {stdoutIsTTY: boolean; stderrIsTTY: boolean; stderrColumns?: number}, env: Env): TerminalState {
  const dumb = env.TERM === 'dumb'
  const force = env.FORCE_COLOR
  let colorEnabled: boolean
  if (force !== undefined && force !== '') colorEnabled = !['0', 'false'].includes(force.toLowerCase())
  else colorEnabled = streams.stdoutIsTTY && (env.NO_COLOR === undefined || env.NO_COLOR === '') && !dumb
  const spinnerEnabled = streams.stderrIsTTY && (streams.stderrColumns ?? 0) > 0 && !dumb
  return {stdoutIsTTY: streams.stdoutIsTTY, stderrIsTTY: streams.stderrIsTTY, colorEnabled, spinnerEnabled}
}

export type Style = (text: string) => string

const plain: Style = (text) => text

export interface Palette {
  bold: Style
  red: Style
  green: Style
  yellow: Style
  /** A status word in its colour: alive/passing green, failed/critical red, left/leaving/warning yellow. */
  status: Style
}

const STATUS_COLOR: Readonly<Record<string, 'green' | 'red' | 'yellow'>> = {
  alive: 'green', passing: 'green', leader: 'green',
  failed: 'red', critical: 'red',
  left: 'yellow', leaving: 'yellow', warning: 'yellow',
}

/** Identity styles when colour is off (chalk is then never loaded); chalk's basic 16 colours when on. */
export async function palette(io: Pick<TerminalState, 'colorEnabled'>): Promise<Palette> {
  if (!io.colorEnabled) return {bold: plain, red: plain, green: plain, yellow: plain, status: plain}
  const {Chalk} = await import('chalk')
  // Level 1 (16 colours) whatever chalk's own detection says: the decision above is the only one.
  const chalk = new Chalk({level: 1})
  const colors = {red: chalk.red, green: chalk.green, yellow: chalk.yellow}
  return {
    bold: chalk.bold, ...colors,
    status: (word) => {
      const color = STATUS_COLOR[word]
      return color ? colors[color](word) : word
    },
  }
}

/** Delay before a spinner appears: quick work never flickers one (ora itself would draw at once). */
export const SPINNER_DELAY_MS = 1000

export interface Spinner {
  /** Wipes the spinner's line so a line of output can be written; the next frame redraws it below. */
  clear(): void
  stop(): void
}

/**
 * An ora spinner on stderr with `text`, drawn only when io.spinnerEnabled and only once `work` has
 * run for SPINNER_DELAY_MS; always gone when `work` settles. `work` gets the spinner so it can
 * clear() before writing output of its own.
 */
export async function withSpinner<T>(io: Pick<TerminalState, 'spinnerEnabled' | 'colorEnabled'>, text: string, work: (spinner: Spinner) => Promise<T>): Promise<T> {
  if (!io.spinnerEnabled) return work({clear: () => {}, stop: () => {}})
  const {default: ora} = await import('ora')
  // discardStdin: false — stdin may belong to a child (`coord lock -pass-stdin`) or be a script (`coord exec -`).
  const spinner = ora({text, stream: process.stderr, isEnabled: true, discardStdin: false, color: io.colorEnabled ? 'cyan' : false})
  const timer = setTimeout(() => spinner.start(), SPINNER_DELAY_MS)
  timer.unref()
  const handle: Spinner = {
    clear: () => { if (spinner.isSpinning) spinner.clear() },
    stop: () => {
      clearTimeout(timer)
      if (spinner.isSpinning) spinner.stop()
    },
  }
  try {
    return await work(handle)
  } finally {
    handle.stop()
  }
}

/** A cli-table3 table for a person at a terminal (head in bold when colour is on). */
export async function boxTable(io: Pick<TerminalState, 'colorEnabled'>, head: string[], rows: string[][]): Promise<string> {
  const {default: Table} = await import('cli-table3')
  const table = new Table({head, style: {head: io.colorEnabled ? ['bold'] : [], border: []}})
  table.push(...rows)
  return table.toString()
}
