import {BaseCommand} from '../lib/cli/base-command.js'
import {CommandError} from '../lib/cli/errors.js'
import {boolFlag, durationFlag, listFlag, stringFlag} from '../lib/cli/flags.js'
import {clientFlags} from '../lib/cli/http-flags.js'
import {agentSelf} from '../lib/api/agent.js'
import {DEBUG_TARGETS, captureDebug, validateDebug, type DebugTarget} from '../lib/cli/debug-capture.js'
import {formatDuration} from '../lib/duration.js'

export default class Debug extends BaseCommand {
  static description = 'Monitors a Consul agent for the specified period of time, recording information about the agent, cluster, and environment to an archive written to the current directory: agent self, members, host, metrics every interval, the log stream, and (with enable_debug on the agent) a CPU profile and heap profiles taken through Node\'s inspector. Secrets in the captured documents are redacted.'
  static usage = 'debug [options]'
  static examples = ['coord debug', 'coord debug -duration=1m -interval=10s', 'coord debug -capture=agent -capture=metrics -output=/tmp/incident']
  static flags = {
    ...clientFlags,
    capture: listFlag({description: `One or more types of information to capture. This can be used to capture a subset of information, and defaults to capturing everything available. Possible information for capture: ${DEBUG_TARGETS.join(', ')}. This can be repeated multiple times.`}),
    interval: durationFlag({description: 'The interval in which to capture dynamic information such as telemetry, and profiling. Defaults to 30s, or the duration when that is shorter.'}),
    duration: durationFlag({description: 'The total time to record information. Defaults to 2m0s.', default: 120_000}),
    archive: boolFlag({description: 'Boolean value for if the files should be archived and compressed. Setting this to false will skip the archive step and leave the directory of information on the current path.', default: true}),
    output: stringFlag({description: 'The path to the compressed archive that will be created with the information after collection.'}),
  }

  // Errors start with "==> ", as Consul's debug command prints them (its PrefixedUi).
  protected async run(): Promise<void> {
    const {flags, args, set} = this.parse(Debug.flags)
    if (args.length > 0) throw new CommandError('==> debug: Too many arguments provided, expected 0')
    const capture = (flags.capture.length > 0 ? flags.capture.flatMap((c) => c.split(',')).map((c) => c.trim()).filter(Boolean) : [...DEBUG_TARGETS]) as DebugTarget[]
    const output = flags.output || `consul-debug-${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}Z`
    // coord: without -interval, a duration shorter than Consul's 30 s interval is one interval.
    const intervalMs = set.has('interval') ? flags.interval : Math.min(30_000, flags.duration)
    const options = {durationMs: flags.duration, intervalMs, capture, output, archive: flags.archive}
    const invalid = validateDebug(options)
    if (invalid) throw new CommandError(`==> Capture validation failed: ${invalid}`)
    const client = await this.api()
    const self = await agentSelf(client).catch((error: Error) => {
      throw new CommandError(`==> Capture validation failed: error querying target agent: ${error.message}. verify connectivity and agent address`, {cause: error})
    })
    if (self.DebugConfig?.EnableDebug !== true && capture.includes('pprof')) {
      capture.splice(capture.indexOf('pprof'), 1)
      this.io.err('==> [WARN] Unable to capture pprof. Set enable_debug to true on target agent to enable profiling.')
    }
    const archiveName = flags.archive ? `${output}.tar.gz` : output
    this.io.out('==> Starting debugger and capturing static information...')
    this.io.out(`     Agent Version: '${String(self.Config?.Version ?? '')}'`)
    this.io.out(`          Interval: '${formatDuration(intervalMs)}'`)
    this.io.out(`          Duration: '${formatDuration(flags.duration)}'`)
    this.io.out(`            Output: '${archiveName}'`)
    this.io.out(`           Capture: '${capture.join(', ')}'`)
    const path = await captureDebug(client, {
      ...options, capture,
      say: (line) => this.io.out(`==> ${line}`),
      warn: (line) => this.io.err(`==> ${line}`),
    }).catch((error: Error) => {
      throw new CommandError(`==> Error encountered during collection: ${error.message}`, {cause: error})
    })
    this.io.out(`    Saved debug archive: ${path}`)
  }
}
