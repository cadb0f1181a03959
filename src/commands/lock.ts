import {BaseCommand} from '../lib/cli/base-command.js'
import {CommandError} from '../lib/cli/errors.js'
import {boolFlag, durationFlag, intFlag, stringFlag} from '../lib/cli/flags.js'
import {clientFlags, serverFlags} from '../lib/cli/http-flags.js'

export default class Lock extends BaseCommand {
  static description = `Acquires a lock or semaphore at a given path, and invokes a child process when successful. The child process can assume the lock is held while it executes. If the lock is lost or communication is disrupted the child process (its whole process group) will be sent a SIGTERM signal and given time to gracefully exit. After the grace period expires the process will be hard terminated.

When -n=1, only a single lock holder or leader exists providing mutual exclusion. Setting a higher value switches to a semaphore allowing multiple holders to coordinate.

The child's environment carries CONSUL_LOCK_HELD=true and a fencing token, COORD_LOCK_TOKEN: a Raft index taken while the lock is held, larger for every later holder; a job can refuse a write when it has seen a larger token. Also COORD_LOCK_INDEX (the key's LockIndex; restarts at 1 when the key is cleaned up), COORD_LOCK_MODIFY_INDEX (= COORD_LOCK_TOKEN), COORD_LOCK_SESSION and COORD_LOCK_KEY.

With -shell (the default) the child's arguments are joined with spaces and run by $SHELL -c (/bin/sh when unset), as Consul does: pass a script as ONE quoted argument, e.g. coord lock jobs/report 'test -f ready && ./report'. Written as separate arguments, coord lock jobs/report sh -c 'a; b' runs "sh -c a; b" (sh gets only "a"); with -shell=false the arguments are run as given, so coord lock -shell=false jobs/report sh -c 'a; b' is right.

When the child is stopped, the reason (lock lost, session invalidated, agent unreachable since when, a signal) is printed on stderr, with or without -verbose.

The prefix provided must have write privileges.`
  static usage = 'lock [options] prefix child...'
  static examples = [
    'coord lock service/web/leader ./run-leader.sh', 'coord lock -n=3 -timeout=30s jobs/batch ./worker.sh', 'coord lock -lock-delay=15s app/leader ./job.sh',
    'coord lock jobs/report \'test -f ready && ./report > out\'          # a script: one quoted argument (-shell)',
    'coord lock -shell=false jobs/report sh -c \'test -f ready && ./report > out\'   # argv as given',
  ]
  static flags = {
    ...clientFlags, ...serverFlags,
    'child-exit-code': boolFlag({description: 'Exit 2 if the child process exited with an error if this is true, otherwise this doesn\'t propagate an error from the child. The default value is false.'}),
    n: intFlag({description: 'Optional limit on the number of concurrent lock holders. The underlying implementation switches from a lock to a semaphore when the value is greater than 1. The default value is 1.', default: 1}),
    'monitor-retry': intFlag({description: 'Number of times to retry if Consul returns a 500 error while monitoring the lock. This allows riding out brief periods of unavailability without causing leader elections, but increases the amount of time required to detect a lost lock in some cases. The default value is 3, with a 1s wait between retries. Set this value to 0 to disable retires.', default: 3}),
    name: stringFlag({description: 'Optional name to associate with the lock session. It not provided, one is generated based on the provided child command.'}),
    'pass-stdin': boolFlag({description: 'Pass stdin to the child process.'}),
    shell: boolFlag({description: 'Use a shell to run the command (can set a custom shell via the SHELL environment variable). The arguments are joined with spaces and run with $SHELL -c: give a script as one quoted argument; -shell=false runs the arguments as given.', default: true}),
    timeout: durationFlag({description: 'Maximum amount of time to wait to acquire the lock, specified as a duration like "1s" or "3h". The default value is 0.'}),
    try: durationFlag({description: 'DEPRECATED. Use -timeout instead.', hidden: true}),
    verbose: boolFlag({description: 'Enable verbose (debugging) output.'}),
    'lock-delay': durationFlag({description: 'coord: lock-delay of the lock session: after the holder\'s session dies, nobody can acquire for this long. The child is stopped (SIGTERM, then SIGKILL after min(5s, lock-delay/3)) within it. Consul\'s default is 15s; coord\'s is 2s (faster takeover).', default: 2000}),
    'session-ttl': stringFlag({description: 'coord: TTL of the lock session (renewed every TTL/2). A holder that dies without releasing frees the lock after about twice this. The default value is 15s.', default: '15s'}),
  }

  protected async run(): Promise<void> {
    const {flags, args, set} = this.parse(Lock.flags)
    if (flags.n <= 0) throw new CommandError('Lock holder limit must be positive')
    if (args.length < 2) throw new CommandError('Key prefix and child command must be specified')
    const timeoutMs = set.has('timeout') || !set.has('try') ? flags.timeout : flags.try
    if (timeoutMs < 0) throw new CommandError('Timeout must be positive')
    if (flags['monitor-retry'] < 0) throw new CommandError('Number for \'monitor-retry\' must be >= 0')
    if (flags['lock-delay'] < 0 || flags['lock-delay'] > 60_000) throw new CommandError('Lock delay must be between 0s and 60s')
    const {parseDuration} = await import('../lib/duration.js')
    let ttlMs = Number.NaN
    try {
      ttlMs = parseDuration(flags['session-ttl'])
    } catch { /* reported below */ }
    if (!(ttlMs > 0)) throw new CommandError(`Invalid -session-ttl "${flags['session-ttl']}": expected a duration such as "15s"`)
    const prefix = args[0].replace(/^\//, '')
    const client = await this.reachableApi()
    const {runLock} = await import('../lib/cli/lock-runner.js')
    const code = await runLock(client, this.io, {
      prefix, child: args.slice(1), limit: flags.n, name: flags.name || `Consul lock for '${args.slice(1).join(' ')}' at '${prefix}'`,
      timeoutMs, monitorRetries: flags['monitor-retry'], childExitCode: flags['child-exit-code'], shell: flags.shell,
      passStdin: flags['pass-stdin'], verbose: flags.verbose, lockDelayMs: flags['lock-delay'], sessionTtl: flags['session-ttl'],
      env: this.env,
    })
    if (code !== 0) {
      const {SilentExit} = await import('../lib/cli/errors.js')
      throw new SilentExit(code)
    }
  }
}
