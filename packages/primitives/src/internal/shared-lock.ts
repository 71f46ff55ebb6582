/**
 * A small recursive-or-not mutex in a SharedArrayBuffer (a futex lock: compare-and-swap when free,
 * `Atomics.wait` / `Atomics.waitAsync` when contended), plus the host side that serves it, and
 * the cells next to it, to processes that cannot share the memory.
 *
 * This is the default lock of `SharedValue` (a value may instead be given the project's `Lock` /
 * `RLock`, which are actors and cost a message when contended).
 *
 * Words (Int32): [owner token (0 = free), waiters, recursion count (written by the owner only)].
 * Uncontended, an acquire is one compare-and-swap and a release one exchange plus one load; a
 * contended acquire spins briefly (critical sections over shared values are tens of nanoseconds,
 * far shorter than a futex sleep and wake-up) before it registers as a waiter and sleeps.
 * @internal
 */
import { threadId } from "node:worker_threads"

export const LOCK_BYTES = 16
/** Word indexes (exported for `SharedLock.withLockSync`, which inlines the free-lock paths). */
export const OWNER = 0
export const WAITERS = 1
export const COUNT = 2

/** This thread's owner token (threads of one process have distinct ids; never 0). */
export const localToken = threadId + 1

let nextRemote = 0
/** A token for a remote process served by this thread (never equal to a thread's token). */
export const remoteToken = (): number => -((localToken << 12) + (++nextRemote & 0xfff)) - 1

export interface LockWords {
  readonly words: Int32Array
  readonly recursive: boolean
}

const SPINS = 200

const tryTake = (l: LockWords, token: number): boolean => {
  const w = l.words
  const owner = Atomics.compareExchange(w, OWNER, 0, token)
  if (owner === 0) {
    w[COUNT] = 1
    return true
  }
  if (owner === token && l.recursive) {
    w[COUNT] = w[COUNT]! + 1
    return true
  }
  return false
}

/** Spins a little while the lock is held by someone else; true once taken. */
const spin = (l: LockWords, token: number): boolean => {
  const w = l.words
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.load(w, OWNER) === 0 && Atomics.compareExchange(w, OWNER, 0, token) === 0) {
      w[COUNT] = 1
      return true
    }
  }
  return false
}

/** Blocking acquire (worker threads; on the main thread it blocks the event loop). `timeoutMs`
 * null = forever, 0 = do not wait. */
export const acquireSync = (l: LockWords, token: number, timeoutMs: number | null): boolean => {
  if (tryTake(l, token)) return true
  if (timeoutMs !== null && timeoutMs <= 0) return false
  if (spin(l, token)) return true
  const w = l.words
  const deadline = timeoutMs === null ? Infinity : Date.now() + timeoutMs
  Atomics.add(w, WAITERS, 1)
  try {
    for (;;) {
      const owner = Atomics.compareExchange(w, OWNER, 0, token)
      if (owner === 0) {
        w[COUNT] = 1
        return true
      }
      const left = deadline - Date.now()
      if (left <= 0) return false
      Atomics.wait(w, OWNER, owner, left === Infinity ? undefined : left)
    }
  } finally {
    Atomics.sub(w, WAITERS, 1)
  }
}

/** Non-blocking acquire for event loops: resolves true once held, false on timeout or abort. */
export const acquireAsync = async (l: LockWords, token: number, timeoutMs: number | null, signal?: AbortSignal): Promise<boolean> => {
  if (tryTake(l, token)) return true
  if (timeoutMs !== null && timeoutMs <= 0) return false
  const w = l.words
  const deadline = timeoutMs === null ? Infinity : Date.now() + timeoutMs
  Atomics.add(w, WAITERS, 1)
  try {
    for (;;) {
      if (signal?.aborted) return false
      const owner = Atomics.compareExchange(w, OWNER, 0, token)
      if (owner === 0) {
        w[COUNT] = 1
        return true
      }
      const left = deadline - Date.now()
      if (left <= 0) return false
      // Wake at least every 50 ms to notice an abort.
      const r = Atomics.waitAsync(w, OWNER, owner, Math.min(left, 50))
      if (r.async) await r.value
    }
  } finally {
    Atomics.sub(w, WAITERS, 1)
  }
}

export type ReleaseResult = "ok" | "unlocked" | "not-owner"

export const release = (l: LockWords, token: number): ReleaseResult => {
  const w = l.words
  const owner = Atomics.load(w, OWNER)
  if (owner === 0) return "unlocked"
  if (l.recursive) {
    if (owner !== token) return "not-owner"
    const n = w[COUNT]! - 1
    if (n > 0) {
      w[COUNT] = n
      return "ok"
    }
  }
  forceRelease(l)
  return "ok"
}

/** Frees the lock whatever its count (a dead holder). */
export const forceRelease = (l: LockWords): void => {
  const w = l.words
  w[COUNT] = 0
  Atomics.store(w, OWNER, 0)
  if (Atomics.load(w, WAITERS) > 0) Atomics.notify(w, OWNER, 1)
}

export const ownerOf = (l: LockWords): number => Atomics.load(l.words, OWNER)
export const isLocked = (l: LockWords): boolean => Atomics.load(l.words, OWNER) !== 0
