// The agent's CPU profile and heap profile, through Node's inspector, in place of Go's pprof
// (`coord debug -capture=pprof`). The CPU profile is V8's .cpuprofile JSON (Chrome DevTools and
// speedscope read it); the heap profile is V8's *sampling* heap profile (.heapprofile: allocation
// stacks and sizes, like pprof's heap profile), never a full heap snapshot, which would hold every
// string in memory, tokens and keys included. One profile at a time per agent.
import {Session} from 'node:inspector/promises'
import {HttpError} from '../errors.js'

let busy = false

async function withSession<T>(run: (session: Session) => Promise<T>): Promise<T> {
  if (busy) throw new HttpError(429, 'A profile is already being taken on this agent; try again when it is done', 'PROFILE_BUSY')
  busy = true
  const session = new Session()
  session.connect()
  try {
    return await run(session)
  } finally {
    session.disconnect()
    busy = false
  }
}

/** Waits `ms`, or less if `closed` settles first (then the caller left: resolves false). */
function wait(ms: number, closed: Promise<void>): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(true), ms)
    void closed.then(() => {
      clearTimeout(timer)
      resolve(false)
    })
  })
}

/** CPU profile over `ms`; undefined when the caller went away first. */
export function cpuProfile(ms: number, closed: Promise<void>): Promise<string | undefined> {
  return withSession(async (session) => {
    await session.post('Profiler.enable')
    await session.post('Profiler.start')
    const finished = await wait(ms, closed)
    const {profile} = await session.post('Profiler.stop')
    await session.post('Profiler.disable')
    return finished ? JSON.stringify(profile) : undefined
  })
}

/**
 * Sampling heap profile of every allocation during `ms`, including those collected since (pprof's
 * alloc_space: only the live ones left a quiet 2 s window empty whenever a GC ran); 0: what is live now.
 */
export function heapProfile(ms: number, closed: Promise<void>): Promise<string | undefined> {
  return withSession(async (session) => {
    await session.post('HeapProfiler.enable')
    const collectedToo = ms > 0
    await session.post('HeapProfiler.startSampling', {samplingInterval: 4096, includeObjectsCollectedByMajorGC: collectedToo, includeObjectsCollectedByMinorGC: collectedToo})
    const finished = ms === 0 ? true : await wait(ms, closed)
    const {profile} = await session.post('HeapProfiler.stopSampling')
    await session.post('HeapProfiler.disable')
    return finished ? JSON.stringify(profile) : undefined
  })
}
