// The lock and semaphore errors, worded as Consul's api package words them (the CLI prints them
// after "Lock acquisition failed: " / "Lock cleanup failed: ").
import {CoordError} from '../errors.js'

export class LockError extends CoordError {
  constructor(code: string, message: string, cause?: unknown) {
    super(code, message, {cause})
    this.name = 'LockError'
  }
}

export const lockErrors = {
  held: () => new LockError('LOCK_HELD', 'Lock already held'),
  notHeld: () => new LockError('LOCK_NOT_HELD', 'Lock not held'),
  conflict: () => new LockError('LOCK_CONFLICT', 'Existing key does not match lock use'),
  inUse: () => new LockError('LOCK_IN_USE', 'Lock in use'),
  semaphoreHeld: () => new LockError('SEMAPHORE_HELD', 'Semaphore already held'),
  semaphoreNotHeld: () => new LockError('SEMAPHORE_NOT_HELD', 'Semaphore not held'),
  semaphoreConflict: () => new LockError('SEMAPHORE_CONFLICT', 'Existing key does not match semaphore use'),
  semaphoreInUse: () => new LockError('SEMAPHORE_IN_USE', 'Semaphore in use'),
  limitConflict: (theirs: number, ours: number) => new LockError('SEMAPHORE_LIMIT', `semaphore limit conflict (lock: ${theirs}, local: ${ours})`),
  session: (cause: unknown) => new LockError('LOCK_SESSION', `failed to create session: ${(cause as Error).message}`, cause),
}
