import {agentMonitor} from '../lib/api/agent.js'
import {BaseCommand} from '../lib/cli/base-command.js'
import {CommandError} from '../lib/cli/errors.js'
import {boolFlag, stringFlag} from '../lib/cli/flags.js'
import {clientFlags} from '../lib/cli/http-flags.js'

export default class Monitor extends BaseCommand {
  static description = 'Shows recent log messages of a Consul agent, and attaches to the agent, outputting log messages as they occur in real time. The monitor lets you listen for log levels that may be filtered out of the Consul agent. For example your agent may only be logging at INFO level, but with the monitor you can see the DEBUG level logs.'
  static usage = 'monitor [options]'
  static examples = ['coord monitor', 'coord monitor -log-level=debug', 'coord monitor -log-json']
  static flags = {
    ...clientFlags,
    'log-level': stringFlag({description: 'Log level of the agent.', default: 'INFO'}),
    'log-json': boolFlag({description: 'Output logs in JSON format.'}),
  }

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(Monitor.flags)
    if (args.length > 0) throw new CommandError(`Too many arguments (expected 0, got ${args.length})`)
    const client = await this.api()
    const stop = new AbortController()
    // Ctrl-C ends the stream and the command exits 0, as Consul's monitor does.
    const onSignal = (): void => stop.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    try {
      let stream: NodeJS.ReadableStream
      try {
        stream = await agentMonitor(client, {logLevel: flags['log-level'], logJson: flags['log-json'], signal: stop.signal})
      } catch (error) {
        if (stop.signal.aborted) return
        throw new CommandError(`Error starting monitor: ${(error as Error).message}`, {cause: error})
      }
      try {
        for await (const chunk of stream) this.io.write(chunk as Buffer)
      } catch (error) {
        if (!stop.signal.aborted) throw new CommandError(`Error reading monitor: ${(error as Error).message}`, {cause: error})
      }
      if (!stop.signal.aborted) {
        this.io.err('')
        this.io.err('Remote side ended the monitor! This usually means that the')
        throw new CommandError('remote side has exited or crashed.')
      }
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}
