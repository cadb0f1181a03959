// The metrics coord emits, announced to the Prometheus sink at start (as Consul's own definitions),
// so a scrape lists each one before its first event. Names and meanings: Consul docs
// (agent/monitor/telemetry). Keys are relative to telemetry.metrics_prefix.
import type {MetricKind} from './metrics.js'

export const METRIC_DEFINITIONS: ReadonlyArray<{key: readonly string[]; kind: MetricKind; help: string}> = [
  // Raft
  {key: ['raft', 'apply'], kind: 'counter', help: 'Raft transactions (log entries) proposed on the leader.'},
  {key: ['raft', 'commitTime'], kind: 'sample', help: 'Time (ms) from appending an entry on the leader to its commit.'},
  {key: ['raft', 'leader', 'lastContact'], kind: 'sample', help: 'Time (ms) since the leader last heard from each follower, measured on the leader.'},
  {key: ['raft', 'leader', 'dispatchLog'], kind: 'sample', help: 'Time (ms) the leader takes to write a batch of entries to disk.'},
  {key: ['raft', 'state', 'candidate'], kind: 'counter', help: 'Elections this server started.'},
  {key: ['raft', 'state', 'leader'], kind: 'counter', help: 'Times this server became leader.'},
  {key: ['raft', 'state', 'follower'], kind: 'counter', help: 'Times this server became a follower.'},
  {key: ['raft', 'fsm', 'apply'], kind: 'sample', help: 'Time (ms) to apply a batch of committed entries to the state machine.'},
  {key: ['raft', 'snapshot', 'create'], kind: 'sample', help: 'Time (ms) to take a snapshot of the state machine.'},
  {key: ['raft', 'snapshot', 'persist'], kind: 'sample', help: 'Time (ms) to write a snapshot to disk.'},
  {key: ['raft', 'snapshot', 'takeSnapshot'], kind: 'sample', help: 'Time (ms) for a whole snapshot and log compaction.'},
  {key: ['raft', 'rpc', 'appendEntries'], kind: 'sample', help: 'Time (ms) a follower takes to handle an AppendEntries message.'},
  {key: ['raft', 'rpc', 'requestVote'], kind: 'sample', help: 'Time (ms) to handle a vote request.'},
  {key: ['raft', 'last_index'], kind: 'gauge', help: 'The last index in this server\'s Raft log.'},
  {key: ['raft', 'commit_index'], kind: 'gauge', help: 'This server\'s commit index.'},
  // State changes at the edges
  {key: ['kvs', 'apply'], kind: 'sample', help: 'Time (ms) to complete a KV update.'},
  {key: ['txn', 'apply'], kind: 'sample', help: 'Time (ms) to apply a transaction.'},
  {key: ['txn', 'read'], kind: 'sample', help: 'Time (ms) to serve a read-only transaction.'},
  {key: ['session', 'apply'], kind: 'sample', help: 'Time (ms) to create or destroy a session.'},
  {key: ['catalog', 'register'], kind: 'sample', help: 'Time (ms) to complete a catalog register.'},
  {key: ['catalog', 'deregister'], kind: 'sample', help: 'Time (ms) to complete a catalog deregister.'},
  {key: ['session_ttl', 'active'], kind: 'gauge', help: 'Sessions with a TTL that the leader is timing (leases).'},
  {key: ['session_ttl', 'invalidate'], kind: 'sample', help: 'Time (ms) to invalidate a session whose TTL ran out.'},
  {key: ['sessions', 'count'], kind: 'gauge', help: 'Sessions in the state store.'},
  // RPC and blocking queries
  {key: ['rpc', 'request'], kind: 'counter', help: 'RPC requests a server received (forwarded HTTP, proposals, read indexes).'},
  {key: ['rpc', 'query'], kind: 'counter', help: 'Blocking queries a server started.'},
  {key: ['rpc', 'queries_blocking'], kind: 'gauge', help: 'Blocking queries parked on this agent now.'},
  {key: ['http', 'blocking_held'], kind: 'gauge', help: 'Parked blocking queries whose connection is held outside node:http now (coord; the rest wait inside it).'},
  {key: ['client', 'rpc'], kind: 'counter', help: 'RPC requests this agent sent to a server.'},
  {key: ['client', 'rpc', 'failed'], kind: 'counter', help: 'RPC requests to a server that failed.'},
  // HTTP and DNS
  {key: ['api', 'http'], kind: 'sample', help: 'Time (ms) to serve an HTTP request, by method and path.'},
  {key: ['dns', 'domain_query'], kind: 'sample', help: 'Time (ms) to answer a DNS query in the Consul domain.'},
  {key: ['dns', 'ptr_query'], kind: 'sample', help: 'Time (ms) to answer a reverse (PTR) DNS query.'},
  // Gossip
  {key: ['memberlist', 'gossip'], kind: 'sample', help: 'Time (ms) of one gossip round.'},
  {key: ['memberlist', 'probeNode'], kind: 'sample', help: 'Time (ms) of one failure-detector probe.'},
  {key: ['memberlist', 'msg', 'suspect'], kind: 'counter', help: 'Members this agent marked or heard of as suspect.'},
  {key: ['memberlist', 'msg', 'dead'], kind: 'counter', help: 'Members this agent marked or heard of as dead.'},
  {key: ['memberlist', 'health', 'score'], kind: 'gauge', help: 'Lifeguard\'s local health score (0 is healthy).'},
  {key: ['serf', 'member', 'join'], kind: 'counter', help: 'Members that joined a gossip pool.'},
  {key: ['serf', 'member', 'failed'], kind: 'counter', help: 'Members found failed.'},
  {key: ['serf', 'member', 'left'], kind: 'counter', help: 'Members that left.'},
  // Autopilot
  {key: ['autopilot', 'healthy'], kind: 'gauge', help: '1 when every voter is healthy, else 0 (leader only).'},
  {key: ['autopilot', 'failure_tolerance'], kind: 'gauge', help: 'Voters that may fail with quorum kept (leader only).'},
  // Runtime (runtime.ts)
  {key: ['runtime', 'alloc_bytes'], kind: 'gauge', help: 'V8 heap in use (bytes).'},
  {key: ['runtime', 'heap_total_bytes'], kind: 'gauge', help: 'V8 heap reserved (bytes).'},
  {key: ['runtime', 'sys_bytes'], kind: 'gauge', help: 'Resident set size of the agent process (bytes).'},
  {key: ['runtime', 'total_gc_runs'], kind: 'gauge', help: 'Garbage collections since start.'},
  {key: ['runtime', 'total_gc_pause_ns'], kind: 'gauge', help: 'Time spent in garbage collection since start (ns).'},
  {key: ['runtime', 'gc_pause_ns'], kind: 'sample', help: 'One garbage collection\'s pause (ns).'},
  {key: ['runtime', 'event_loop_lag_ms'], kind: 'gauge', help: 'The event loop\'s p99 delay over the last second (ms).'},
  {key: ['runtime', 'event_loop_delay_max_ms'], kind: 'gauge', help: 'The event loop\'s worst delay over the last second (ms).'},
  {key: ['runtime', 'event_loop_utilization'], kind: 'gauge', help: 'Share of the last second the event loop was busy (0 to 1).'},
]
