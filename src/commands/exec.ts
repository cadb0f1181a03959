import {agentSelf} from '../lib/api/agent.js'
import {RExecSetupError, RemoteExecJob, type RExecResult} from '../lib/api/rexec-client.js'
import {REXEC_PREFIX, type RExecSpec} from '../lib/api/rexec.js'
import {BaseCommand} from '../lib/cli/base-command.js'
import {CommandError, FlagError, SilentExit} from '../lib/cli/errors.js'
import {validateFilterFlags} from '../lib/cli/event-filters.js'
import {waitForJob} from '../lib/cli/exec-wait.js'
import {withSpinner} from '../lib/cli/terminal.js'
import {boolFlag, durationFlag, stringFlag} from '../lib/cli/flags.js'
import {clientFlags, serverFlags} from '../lib/cli/http-flags.js'
import {TimedQueue} from '../lib/timed-queue.js'

export default class Exec extends BaseCommand {
  static description = 'Evaluates a command on remote nodes. The nodes responding can be filtered using regular expressions on node name, service, and tag definitions. If the command is \'-\', stdin is read until EOF and used as a script. Agents run jobs only with disable_remote_exec = false (the default is true).'
  static usage = 'exec [options] [-|command...]'
  static examples = ['coord exec uptime', 'coord exec -node=\'^web-\' -wait=5s systemctl restart app', 'coord exec -service=db -tag=primary -shell=false /usr/bin/pg_isready', 'coord exec - < check.sh']
  static flags = {
    ...clientFlags, ...serverFlags,
    node: stringFlag({description: 'Regular expression to filter on node names.'}),
    service: stringFlag({description: 'Regular expression to filter on service instances.'}),
    tag: stringFlag({description: 'Regular expression to filter on service tags. Must be used with -service.'}),
    prefix: stringFlag({description: 'Prefix in the KV store to use for request data.', default: REXEC_PREFIX}),
    shell: boolFlag({description: 'Use a shell to run the command.', default: true}),
    wait: durationFlag({description: 'Period to wait with no responses before terminating execution.', default: 2000}),
    'wait-repl': durationFlag({description: 'Period to wait for replication before firing event. This is an optimization to allow stale reads to be performed.', default: 200}),
    verbose: boolFlag({description: 'Enables verbose output.'}),
  }

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(Exec.flags)
    const command = args.join(' ')
    const spec: RExecSpec = {waitMs: flags.wait}
    if (command === '-') {
      if (!flags.shell) throw new CommandError('Cannot configure -shell=false when reading from stdin')
      spec.script = await this.io.readStdin()
    } else if (!flags.shell) {
      spec.args = args
    } else {
      spec.command = command
    }
    if (!spec.command && !(spec.script && spec.script.length > 0) && !(spec.args && spec.args.length > 0)) throw new FlagError('Must specify a command to execute\n')
    validateFilterFlags(flags)

    const client = await this.api()
    // Consul asks the agent who it is first, so an unreachable agent gets its usual message.
    const self = await agentSelf(client).catch((error: unknown) => { throw new CommandError(`Error querying Consul agent: ${(error as Error).message}`, {cause: error}) })
    // -datacenter naming another datacenter: the job runs there (every request carries ?dc=).
    const localDc = String(self.Config.Datacenter ?? '')
    const foreign = flags.datacenter !== '' && flags.datacenter !== localDc
      ? {datacenter: flags.datacenter, localDc, localNode: String(self.Config.NodeName ?? '')}
      : undefined
    if (foreign && flags.verbose) this.io.out('Remote exec in foreign datacenter, using Session TTL')
    const abort = new AbortController()
    const onSignal = () => abort.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    let job: RemoteExecJob | undefined
    try {
      try {
        job = await RemoteExecJob.start(client, {
          prefix: flags.prefix, spec, node: flags.node, foreign, service: flags.service, tag: flags.tag, replWaitMs: flags['wait-repl'], signal: abort.signal,
          progress: flags.verbose ? (line) => this.io.out(line) : undefined, warn: (line) => this.io.err(line),
        })
      } catch (error) {
        if (error instanceof RExecSetupError) throw error.message ? new CommandError(error.message) : new SilentExit(1)
        throw error
      }
      const results = new TimedQueue<RExecResult>()
      const streaming = new AbortController()
      const stream = job.stream(results, flags.wait, AbortSignal.any([streaming.signal, abort.signal]))
      // The spinner's line is wiped before each answer is written, so answers never interleave with it.
      const outcome = await withSpinner(this.io, 'Collecting answers', (spinner) => waitForJob(results, {
        waitMs: flags.wait, verbose: flags.verbose, signal: abort.signal,
        out: (l) => { spinner.clear(); this.io.out(l) }, err: (l) => { spinner.clear(); this.io.err(l) },
      }))
      streaming.abort()
      await stream
      if (outcome.acks === 0 && outcome.exitCode === 0) {
        this.io.err('No node acknowledged the job: agents run remote exec only with disable_remote_exec = false (coord\'s default is true), and only nodes matching -node/-service/-tag take it.')
      }
      if (outcome.exitCode !== 0) throw new SilentExit(outcome.exitCode)
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      for (const problem of await job?.cleanup() ?? []) this.io.err(problem)
    }
  }
}
