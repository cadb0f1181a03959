import {BaseCommand} from '../lib/cli/base-command.js'
import {CommandError} from '../lib/cli/errors.js'
import {boolFlag, intFlag, listFlag, stringFlag} from '../lib/cli/flags.js'
import {REFUSED_FLAGS} from '../lib/agent/flags-config.js'

/** How long the process may outlive a finished shutdown before it exits regardless (see run()). */
const SHUTDOWN_EXIT_BOUND_MS = 2000

export default class Agent extends BaseCommand {
  static description = 'Starts a coord agent: the HTTP API and (as a server) the replicated state. -dev runs a single in-memory server.'
  static usage = 'agent [options]'
  static examples = [
    'coord agent -dev',
    'coord agent -server -bootstrap -data-dir=/var/lib/coord -node=db1',
    'coord agent -server -bootstrap -data-dir=./data -config-file=coord.json -client="127.0.0.1 10.0.0.5"',
    'coord agent -data-dir=/var/lib/coord -node=web1 -retry-join=10.0.0.1',
  ]

  static flags = {
    dev: boolFlag({description: 'Development mode: a single in-memory server that elects itself, UI on, DEBUG logs. With -data-dir, state persists.'}),
    server: boolFlag({description: 'Run in server mode (holds and replicates state).'}),
    bootstrap: boolFlag({description: 'Let this server elect itself leader (single-server clusters).'}),
    'bootstrap-expect': intFlag({description: 'Number of servers to wait for before bootstrapping (1 = -bootstrap).'}),
    'data-dir': stringFlag({description: 'Directory for the log, snapshots and node ID. Required unless -dev.', helpValue: '<path>'}),
    node: stringFlag({description: 'Name of this node; must be unique in the cluster. Default: the hostname.'}),
    'node-id': stringFlag({description: 'UUID of this node; generated and kept in the data dir when omitted.'}),
    datacenter: stringFlag({description: 'Datacenter of this agent (default dc1).'}),
    bind: stringFlag({description: 'Address to bind cluster communication to.'}),
    advertise: stringFlag({description: 'Address to advertise to other agents (default: the bind address).'}),
    client: stringFlag({description: 'Space-separated addresses the HTTP and DNS servers bind to (default 127.0.0.1).'}),
    'http-port': stringFlag({description: 'HTTP API port (default 8500; 0 picks a free port; -1 turns plain HTTP off).', helpValue: '<port>'}),
    'https-port': stringFlag({description: 'HTTPS API port (default -1: off; 8501 by convention). Needs cert_file and key_file in a config file.', helpValue: '<port>'}),
    'dns-port': stringFlag({description: 'DNS port (default 8600).', helpValue: '<port>'}),
    'server-port': stringFlag({description: 'Server RPC port (default 8300).', helpValue: '<port>'}),
    'serf-lan-port': stringFlag({description: 'LAN gossip port (default 8301).', helpValue: '<port>'}),
    'serf-wan-port': stringFlag({description: 'WAN gossip port (default 8302).', helpValue: '<port>'}),
    'config-file': listFlag({description: 'A config file (JSON or HCL, by its extension) to load; may be repeated.'}),
    'config-dir': listFlag({description: 'A directory of *.json and *.hcl config files, loaded in name order; may be repeated.'}),
    'config-format': stringFlag({description: "Read every config file in this format, whatever its extension: 'hcl' or 'json'."}),
    hcl: listFlag({description: 'An HCL config fragment, applied after the files and flags; may be repeated.'}),
    'log-level': stringFlag({description: 'trace, debug, info, warn or error (default info; debug with -dev).'}),
    'log-json': boolFlag({description: 'Write log lines as JSON objects.'}),
    ui: boolFlag({description: 'Serve the web UI at /ui/ (on with -dev).'}),
    'ui-dir': stringFlag({description: 'Serve the web UI from this directory instead of the built-in one.', helpValue: '<path>'}),
    'ui-content-path': stringFlag({description: 'URL path the web UI is served under (default /ui/).', helpValue: '<path>'}),
    'enable-script-checks': boolFlag({description: 'Allow script health checks (off by default: they run arbitrary commands).'}),
    'disable-remote-exec': boolFlag({description: 'Refuse `coord exec` jobs (default true; -disable-remote-exec=false lets this agent run them).'}),
    'enable-local-script-checks': boolFlag({description: 'Allow script health checks from config files only (not from the HTTP API).'}),
    domain: stringFlag({description: 'DNS domain (default consul.).'}),
    'alt-domain': stringFlag({description: 'A second DNS domain answered like -domain.'}),
    recursor: listFlag({description: 'Upstream DNS server for names outside the domain; may be repeated.'}),
    encrypt: stringFlag({description: 'Gossip encryption key (coord keygen).'}),
    join: listFlag({description: 'Address of an agent to join at start; the agent fails to start if none answers. May be repeated.'}),
    'retry-join': listFlag({description: 'Address of an agent to join, retrying until it succeeds; may be repeated.'}),
    'retry-interval': stringFlag({description: 'Time between join attempts (default 1s; Consul: 30s).'}),
    'retry-max': stringFlag({description: 'Maximum failed join attempts before the agent exits with an error (default 0: no limit).'}),
    'join-wan': listFlag({description: 'Address of a server to join in the WAN pool at start (servers); may be repeated.'}),
    'retry-join-wan': listFlag({description: 'Address of a server to join in the WAN pool, retrying (servers); may be repeated.'}),
    'retry-interval-wan': stringFlag({description: 'Time between WAN join attempts (default 1s; Consul: 30s).'}),
    'retry-max-wan': stringFlag({description: 'Maximum failed WAN join attempts before the agent exits (default 0: no limit).'}),
    rejoin: boolFlag({description: 'On restart, rejoin the members in the data dir snapshot even after a graceful leave.'}),
    'advertise-wan': stringFlag({description: 'Address the WAN pool advertises (servers; default: -advertise).'}),
    'serf-lan-bind': stringFlag({description: 'Address the LAN gossip pool binds to (default: -bind).'}),
    'serf-wan-bind': stringFlag({description: 'Address the WAN gossip pool binds to (default: -bind).'}),
    'serf-lan-allowed-cidrs': listFlag({description: 'A network (CIDR) LAN gossip is accepted from; others are dropped. May be repeated.'}),
    'serf-wan-allowed-cidrs': listFlag({description: 'A network (CIDR) WAN gossip is accepted from; others are dropped. May be repeated.'}),
    'node-meta': listFlag({description: 'Node metadata as key:value, in the catalog and DNS TXT records; may be repeated.'}),
    'pid-file': stringFlag({description: "File to write the agent's PID to; removed at exit.", helpValue: '<path>'}),
    'log-file': stringFlag({description: 'Also write the log to this file (a path ending in / names a directory: consul.log in it).', helpValue: '<path>'}),
    'log-rotate-bytes': stringFlag({description: 'Rotate the log file once it holds this many bytes (default 0: no size limit).'}),
    'log-rotate-duration': stringFlag({description: 'Rotate the log file when it is this old (default 24h).'}),
    'log-rotate-max-files': stringFlag({description: 'Rotated log files to keep (default 0: all; -1: none).'}),
    syslog: boolFlag({description: 'Log to syslog: refused, coord has no way to reach /dev/log (use -log-file).'}),
    'disable-host-node-id': boolFlag({description: 'Never derive the node ID from the host (always so in coord: the ID is random, kept in the data dir).'}),
    'disable-keyring-file': boolFlag({description: 'Do not keep the gossip keyring in the data dir.'}),
    'auto-reload-config': boolFlag({description: 'Watch the config files and apply a change as `coord reload` does.'}),
    'primary-datacenter': stringFlag({description: 'The primary datacenter (default: this one).'}),
    'raft-protocol': stringFlag({description: 'Raft protocol version: 3, the only one coord speaks.'}),
    'allow-write-http-from': listFlag({description: 'A network (CIDR) HTTP writes are accepted from; may be repeated.'}),
    check_output_max_size: stringFlag({description: 'Bytes of check output kept (default 4096).'}),
    segment: stringFlag({description: 'Network segment (Consul Enterprise): ignored with a warning.'}),
    // Consul's flags coord does not take: accepted by the parser so the refusal can say why.
    ...Object.fromEntries(Object.keys(REFUSED_FLAGS).map((name) => [name, stringFlag({description: `Refused: ${REFUSED_FLAGS[name]}.`, hidden: true})])),
  }

  protected async run(): Promise<void> {
    const {flags, set, args} = this.parse()
    if (args.length > 0) throw new CommandError(`Unexpected extra arguments: ${args.join(' ')}`)
    const refused = Object.keys(REFUSED_FLAGS).find((name) => set.has(name))
    if (refused) throw new CommandError(`==> -${refused} is not supported by coord: ${REFUSED_FLAGS[refused]}`)
    const format = flags['config-format']
    if (set.has('config-format') && format !== 'hcl' && format !== 'json') throw new CommandError(`==> -config-format must be 'hcl' or 'json', got ${JSON.stringify(format)}`)
    // Loaded lazily: a client command never pays for the agent's modules.
    const [{ConfigError, loadConfig: load}, {rawConfigFromFlags}, {startAgent}, {packageInfo}] = await Promise.all([
      import('../lib/agent/config.js'), import('../lib/agent/flags-config.js'), import('../lib/runtime/agent.js'), import('../lib/cli/package-info.js'),
    ])
    let config
    const warnings: string[] = []
    // The same files and flags are read again on reload (SIGHUP, coord reload).
    let fromFlags
    try {
      fromFlags = rawConfigFromFlags(flags, set)
    } catch (error) {
      throw new CommandError(`==> ${(error as Error).message}`)
    }
    const loadConfig = (warn: (w: string) => void) =>
      load({files: flags['config-file'], dirs: flags['config-dir'], fromFlags, dev: flags.dev, warn, hcl: flags.hcl, format: format === '' ? undefined : format as 'hcl' | 'json'})
    try {
      config = loadConfig((w) => warnings.push(w))
    } catch (error) {
      if (error instanceof ConfigError) throw new CommandError(`==> ${error.message}`)
      throw error
    }
    const write = (line: string) => process.stdout.write(`${line}\n`)
    // Listen for SIGINT/SIGTERM before the agent says it is running: a signal landing between that
    // line and the listeners below would otherwise take Node's default action (die, no shutdown).
    let earlySignal: string | undefined
    const onEarlySignal = (signal: string) => { earlySignal ??= signal }
    process.on('SIGINT', onEarlySignal)
    process.on('SIGTERM', onEarlySignal)
    let agent
    try {
      agent = await startAgent(config, {stdout: write, version: packageInfo().version, reloadConfig: () => loadConfig(() => {}), configPaths: [...flags['config-file'], ...flags['config-dir']]})
    } catch (error) {
      // Consul's agent exits at once on a failed start. Each start step closes what it opened, and
      // this bound makes sure: a listener or timer some step leaked cannot keep the process alive.
      setTimeout(() => process.exit(1), 2000).unref()
      throw new CommandError(`==> ${(error as Error).message}`)
    }
    for (const warning of warnings) agent.context.log.warn(warning)
    await new Promise<void>((resolve) => {
      const shutdown = (signal: string) => {
        write(`==> Caught signal: ${signal === 'SIGINT' ? 'interrupt' : 'terminated'}`)
        write('==> Gracefully shutting down agent...')
        agent.stop().then(resolve, (error: Error) => {
          process.stderr.write(`==> Error during shutdown: ${error.message}\n`)
          resolve()
        })
      }
      // SIGHUP reloads the config files, as Consul's agent does; a bad file is logged and ignored.
      const onHangup = () => {
        write('==> Caught signal: hangup')
        write('==> Reloading configuration...')
        agent.context.reload().catch(() => {}) // logged with its reason by the agent
      }
      process.on('SIGHUP', onHangup)
      process.once('SIGINT', () => shutdown('SIGINT'))
      process.once('SIGTERM', () => shutdown('SIGTERM'))
      process.off('SIGINT', onEarlySignal)
      process.off('SIGTERM', onEarlySignal)
      if (earlySignal) shutdown(earlySignal)
      // retry_max exhausted: the agent has stopped; exit 1 as Consul does.
      agent.fatal.then((error) => {
        process.stderr.write(`==> ${error.message}\n`)
        process.exitCode = 1
        resolve()
      }, resolve)
      // A graceful leave (coord leave / PUT /v1/agent/leave) stops the agent as well.
      agent.left.then(() => {
        write('==> Graceful leave complete, agent stopped')
        resolve()
      }, resolve)
    })
    // Consul's process ends when its agent has shut down, whatever is still pending. Every handle
    // should be closed by now; if one lingers, say which kinds (to find the leak) and exit anyway,
    // so a supervisor waiting for the exit never hangs and a restart never meets a live process.
    setTimeout(() => {
      const pending = process.getActiveResourcesInfo().filter((kind) => kind !== 'TTYWrap')
      process.stderr.write(`==> Exiting with handles still open after shutdown: ${pending.join(', ') || 'none'}\n`)
      process.exit()
    }, SHUTDOWN_EXIT_BOUND_MS).unref()
  }
}
