/**
 * A small recursive-or-not mutex in a SharedArrayBuffer (a futex lock: compare-and-swap when free,
 * `Atomics.wait` / `Atomics.waitAsync` when contended), plus the host side that serves it, and
 * the cells next to it, to processes that cannot share the memory.
 *
 * This is the default lock of `SharedValue` (a value may instead be given the project's `Lock` /
 * `RLock`, which are actors and cost a message when contended).
 *
 * Words (Int32): [owner token (0 = free), waiters, recursion count (written by the owner only)].
 * Uncontended, an acquire is one compare-and-swap and a release one exchange plus one load. A
 * contended acquire sleeps at once, as Python's lock (a POSIX semaphore) does, and does not spin:
 * with two threads in tight loops over one lock, a spinning waiter takes the lock at nearly every
 * release, and each operation then moves the lock's cache line between cores. A sleeping waiter
 * leaves the holder to run on at full speed (2 x 100,000 increments from fresh workers: 19-20 ms
 * median against 25-31 ms spinning 200 times first).
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

/**
 * Registers as a waiter, then checks the lock once more (a release that ran before the
 * registration saw no waiter and woke no one): 0 if that took the lock (the registration is
 * withdrawn), else the owner to wait on. A waker takes the sleeper it woke off the count itself
 * (`wakeOne`), so the count is the threads asleep and not yet woken: a sleep costs the releases
 * one notify, not one per release until the woken thread gets to run.
 */
const register = (w: Int32Array, token: number): number => {
  Atomics.add(w, WAITERS, 1)
  const owner = Atomics.compareExchange(w, OWNER, 0, token)
  if (owner === 0) {
    Atomics.sub(w, WAITERS, 1)
    w[COUNT] = 1
  }
  return owner
}

/** Sleeps until the lock may be free or `timeoutMs` passes; true if the lock was taken. */
const sleepOnce = (w: Int32Array, token: number, timeoutMs: number): boolean => {
  const owner = register(w, token)
  if (owner === 0) return true
  if (Atomics.wait(w, OWNER, owner, timeoutMs === Infinity ? undefined : timeoutMs) !== "ok") Atomics.sub(w, WAITERS, 1)
  return false
}

/** Blocking acquire (worker threads; on the main thread it blocks the event loop). `timeoutMs`
 * null = forever, 0 = do not wait. */
export const acquireSync = (l: LockWords, token: number, timeoutMs: number | null): boolean => {
  if (tryTake(l, token)) return true
  if (timeoutMs !== null && timeoutMs <= 0) return false
  const w = l.words
  const deadline = timeoutMs === null ? Infinity : Date.now() + timeoutMs
  for (;;) {
    const left = deadline - Date.now()
    if (left <= 0) return false
    if (sleepOnce(w, token, left)) return true
  }
}

/** Non-blocking acquire for event loops: resolves true once held, false on timeout or abort. */
export const acquireAsync = async (l: LockWords, token: number, timeoutMs: number | null, signal?: AbortSignal): Promise<boolean> => {
  if (tryTake(l, token)) return true
  if (timeoutMs !== null && timeoutMs <= 0) return false
  const w = l.words
  const deadline = timeoutMs === null ? Infinity : Date.now() + timeoutMs
  for (;;) {
    if (signal?.aborted) return false
    const left = deadline - Date.now()
    if (left <= 0) return false
    // `sleepOnce`, asynchronously; waking at least every 50 ms notices an abort.
    const owner = register(w, token)
    if (owner === 0) return true
    const r = Atomics.waitAsync(w, OWNER, owner, Math.min(left, 50))
    const outcome = r.async ? await r.value : r.value
    if (outcome !== "ok") Atomics.sub(w, WAITERS, 1)
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
  if (Atomics.load(w, WAITERS) > 0) wakeOne(w)
}

/** Wakes one sleeping waiter, if one is asleep, and takes it off the waiter count (see
 * `register`). Call after storing 0 in the owner word and seeing a non-zero count. */
export const wakeOne = (w: Int32Array): void => {
  if (Atomics.notify(w, OWNER, 1) === 1) Atomics.sub(w, WAITERS, 1)
}

export const ownerOf = (l: LockWords): number => Atomics.load(l.words, OWNER)
export const isLocked = (l: LockWords): boolean => Atomics.load(l.words, OWNER) !== 0
