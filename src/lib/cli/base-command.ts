// BaseCommand: every coord command extends it. It is duck-typed to oclif's Command interface
// (static run/flags/description/examples) without importing @oclif/core, so running a command
// never loads oclif: bin/run.js dispatches straight to the command module (cold start ≤150 ms),
// while oclif still does help, topics and the manifest from the same static fields.
//
// A command declares `static flags` (lib/cli/flags.ts builders, spread `clientFlags`/`serverFlags`
// for the shared HTTP options), calls `this.parse()` in run(), `await this.api()` for the /v1 client,
// writes through `this.io`, and throws: the catch below is the one place errors become exit codes.
import type {ApiClient} from '../api/client.js'
import {CoordError} from '../errors.js'
import {CommandError, EXIT, FlagError, HelpRequested} from './errors.js'
import {type FlagSet} from './flags.js'
import {parseGoFlags, type ParsedArgs} from './goflags.js'
import {type ClientFlagValues, type Env, resolveClientConfig} from './http-flags.js'
import {type IO, processIO} from './io.js'

export const BIN = 'coord'

type Constructor = new (argv: string[], io: IO, env: Env) => BaseCommand

/**
 * What a command class declares (all optional, none declared on BaseCommand, so subclasses need no
 * `override`): description, examples, flags (lib/cli/flags.ts builders), usage (Consul's usage line
 * after `coord `, e.g. `kv get [options] [KEY_OR_PREFIX]`), summary, hidden.
 */
export interface CommandStatics {
  id?: string
  description?: string
  summary?: string
  examples?: string[]
  flags?: FlagSet
  usage?: string
}

export abstract class BaseCommand {
  /** oclif must not parse: our Go-style parser does (parseGoFlags). */
  static strict = false
  static args = {}

  /** oclif's entry point (also the fast path's): runs the command and sets process.exitCode. */
  static async run(argv: string[] = process.argv.slice(2), _config?: unknown): Promise<void> {
    const code = await this.runWith(argv, processIO(), process.env)
    if (code !== EXIT.ok) process.exitCode = code
  }

  /** In-process runner for tests: fake IO and env, returns the exit code. */
  static async runWith(argv: string[], io: IO, env: Env): Promise<number> {
    const Command = this as unknown as Constructor
    return new Command(argv, io, env).execute()
  }

  readonly argv: string[]
  readonly io: IO
  readonly env: Env
  #parsed?: ParsedArgs<FlagSet>
  #client?: ApiClient

  constructor(argv: string[], io: IO, env: Env) {
    this.argv = argv
    this.io = io
    this.env = env
  }

  protected abstract run(): Promise<void>

  async execute(): Promise<number> {
    try {
      await this.run()
      return EXIT.ok
    } catch (error) {
      return await this.catch(error)
    } finally {
      await this.#client?.close()
    }
  }

  /** Parses argv with Go `flag` rules. Pass the class's flags (`this.parse(KvGet.flags)`) for exact
   * value types; without an argument it uses the static flags, loosely typed. */
  protected parse<F extends FlagSet = FlagSet>(defs?: F): ParsedArgs<F> {
    const parsed = parseGoFlags(defs ?? ((this.constructor as CommandStatics).flags ?? {}) as F, this.argv)
    this.#parsed = parsed as ParsedArgs<FlagSet>
    return parsed
  }

  /** The /v1 client from the shared HTTP flags (after parse()) and the environment; closed on exit. */
  protected async api(): Promise<ApiClient> {
    if (this.#client) return this.#client
    const parsed = this.#parsed ?? this.parse()
    const {config, warnings} = resolveClientConfig(parsed.flags as unknown as ClientFlagValues, parsed.set, this.env)
    for (const warning of warnings) this.io.err(warning)
    const {ApiClient} = await import('../api/client.js')
    try {
      this.#client = new ApiClient(config)
    } catch (error) {
      throw new CommandError(`Error connecting to Consul agent: ${(error as Error).message}`, {cause: error})
    }
    return this.#client
  }

  /**
   * api(), after asking the agent who it is (/v1/agent/self), as Consul's lock, watch and event
   * do first: an unreachable agent then fails at once with Consul's usual message.
   */
  protected async reachableApi(): Promise<ApiClient> {
    const client = await this.api()
    const {agentSelf} = await import('../api/agent.js')
    try {
      await agentSelf(client)
    } catch (error) {
      throw new CommandError(`Error querying Consul agent: ${(error as Error).message}`, {cause: error})
    }
    return client
  }

  /** `-format=json` output: 4-space indented JSON (Consul's MarshalIndent), bigints exact. */
  protected async printJson(value: unknown): Promise<void> {
    const {stringifyJson} = await import('../json.js')
    this.io.out(stringifyJson(value, 4))
  }

  /** Consul's usage text for this command (loaded only when an error or -h needs it). */
  async usageText(): Promise<string> {
    const {renderUsage} = await import('./usage.js')
    const ctor = this.constructor as CommandStatics
    return renderUsage(BIN, {id: ctor.id, usage: ctor.usage, description: ctor.description, flags: ctor.flags ?? {}})
  }

  /** The one mapping from errors to output and exit status. */
  protected async catch(error: unknown): Promise<number> {
    if (error instanceof HelpRequested) {
      this.io.out(await this.usageText())
      return EXIT.ok
    }
    if (error instanceof FlagError) {
      this.io.err(error.message)
      this.io.err(await this.usageText())
      return error.exitCode
    }
    if (error instanceof CoordError) {
      if (error.message) this.io.err(error.message)
      if (error.hint) this.io.err(error.hint)
      return error.exitCode
    }
    this.io.err(`Error: ${error instanceof Error ? error.message : String(error)}`)
    if (this.env.COORD_DEBUG && error instanceof Error && error.stack) this.io.err(error.stack)
    return EXIT.error
  }
}
