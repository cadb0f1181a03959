import {BaseCommand} from '../lib/cli/base-command.js'
import {CommandError, FlagError} from '../lib/cli/errors.js'
import {boolFlag, listFlag, parseBool, stringFlag} from '../lib/cli/flags.js'
import {clientFlags, serverFlags} from '../lib/cli/http-flags.js'

export default class Watch extends BaseCommand {
  static description = `Watches for changes in a given data view from Consul. If a child process is specified, it will be invoked with the latest results on changes. Otherwise, the latest values are dumped to stdout and the watch terminates.

Providing the watch type is required, and other parameters may be required or supported depending on the watch type.

The handler runs once per real change (a wake-up whose data did not change does not run it), with the JSON on stdin and CONSUL_INDEX in its environment; runs never overlap, so a burst of changes is coalesced and the final state is always delivered.`
  static usage = 'watch [options] [child...]'
  static examples = ['coord watch -type=key -key=config/app', 'coord watch -type=keyprefix -prefix=config/ ./reload.sh', 'coord watch -type=service -service=web -passingonly=true ./update-lb.sh', 'coord watch -type=event -name=deploy ./deploy.sh']
  static flags = {
    ...clientFlags, ...serverFlags,
    type: stringFlag({description: 'Specifies the watch type. One of key, keyprefix, services, nodes, service, checks, event, or agent_service.'}),
    key: stringFlag({description: 'Specifies the key to watch. Only for \'key\' type.'}),
    prefix: stringFlag({description: 'Specifies the key prefix to watch. Only for \'keyprefix\' type.'}),
    service: stringFlag({description: 'Specifies the service to watch. Required for \'service\' type, optional for \'checks\' type; the local service ID for \'agent_service\'.'}),
    tag: listFlag({description: 'Specifies the service tag(s) to filter on. Optional for \'service\' type. May be specified multiple times.'}),
    passingonly: stringFlag({description: 'Specifies if only hosts passing all checks are displayed. Optional for \'service\' type, must be one of `[true|false]`. Defaults false.'}),
    state: stringFlag({description: 'Specifies the states to watch. Optional for \'checks\' type.'}),
    name: stringFlag({description: 'Specifies an event name to watch. Only for \'event\' type.'}),
    shell: boolFlag({description: 'Use a shell to run the command (can set a custom shell via the SHELL environment variable).', default: true}),
  }

  protected async run(): Promise<void> {
    const {flags, args} = this.parse(Watch.flags)
    if (flags.type === '') throw new FlagError('Watch type must be specified\n')
    let passingonly = false
    if (flags.passingonly !== '') {
      try {
        passingonly = parseBool(flags.passingonly)
      } catch (error) {
        throw new CommandError(`Failed to parse passingonly flag: ${(error as Error).message}`)
      }
    }
    const {buildPlan, watchTypeProblem} = await import('../lib/watch/plan.js')
    const typeProblem = watchTypeProblem(flags.type)
    if (typeProblem) throw new CommandError(typeProblem)
    let plan
    try {
      plan = buildPlan({
        type: flags.type as never, datacenter: flags.datacenter || undefined, stale: flags.stale,
        key: flags.key || undefined, prefix: flags.type === 'keyprefix' ? flags.prefix : undefined, service: flags.service || undefined,
        // Consul's CLI has no service_id flag; coord reads -service as the ID for agent_service.
        service_id: flags.type === 'agent_service' ? flags.service || undefined : undefined,
        tag: flags.tag, passingonly, state: flags.state || undefined, name: flags.name || undefined,
      })
    } catch (error) {
      throw new CommandError((error as Error).message)
    }
    const client = await this.reachableApi()
    const {runWatch, watchErroredLine} = await import('../lib/watch/watcher.js')
    // While the agent cannot answer, say so on every failed read (Consul's plan.go), then keep going.
    const onError = (error: unknown, retryMs: number): void => this.io.err(watchErroredLine(flags.type, error, retryMs))
    const stop = new AbortController()
    const onSignal = (): void => stop.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    try {
      if (args.length === 0) {
        // Consul's watch without a handler prints the first result and ends.
        const {stringifyJson} = await import('../lib/json.js')
        await runWatch(client, plan, async (event) => {
          this.io.out(stringifyJson(event.value, 4))
          stop.abort()
        }, {signal: stop.signal, onError})
        return
      }
      const {scriptHandler} = await import('../lib/watch/handlers.js')
      const handler = scriptHandler({args, shell: flags.shell, env: this.env, output: 'inherit'})
      try {
        await runWatch(client, plan, handler, {signal: stop.signal, onError})
      } catch (error) {
        if (stop.signal.aborted) return
        throw new CommandError((error as Error).message, {cause: error})
      }
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  }
}
