/**
 * A small recursive-or-not mutex in a SharedArrayBuffer (a futex lock: compare-and-swap when free,
 * `Atomics.wait` / `Atomics.waitAsync` when contended), plus the host side that serves it, and
 * the cells next to it, to processes that cannot share the memory.
 *
 * This is the default lock of `SharedValue` until the project's `Lock` (its own issue) lands; the
 * minimal interface the values need is {@link LockLike}.
 *
 * Words (Int32): [state (0 free, 1 locked, 2 locked with waiters), owner token, recursion count].
 * @internal
 */
import { threadId } from "node:worker_threads"

export const LOCK_BYTES = 16
const STATE = 0
const OWNER = 1
const COUNT = 2

/** This thread's owner token (threads of one process have distinct ids). */
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
  if (Atomics.compareExchange(w, STATE, 0, 1) === 0) {
    Atomics.store(w, OWNER, token)
    Atomics.store(w, COUNT, 1)
    return true
  }
  if (l.recursive && Atomics.load(w, OWNER) === token) {
    Atomics.add(w, COUNT, 1)
    return true
  }
  return false
}

/** Marks the lock contended; true if it was in fact free and is now ours. */
const takeContended = (l: LockWords, token: number): boolean => {
  if (Atomics.exchange(l.words, STATE, 2) === 0) {
    Atomics.store(l.words, OWNER, token)
    Atomics.store(l.words, COUNT, 1)
    return true
  }
  return false
}

/** Blocking acquire (worker threads; on the main thread it blocks the event loop). `timeoutMs`
 * null = forever, 0 = do not wait. */
export const acquireSync = (l: LockWords, token: number, timeoutMs: number | null): boolean => {
  if (tryTake(l, token)) return true
  if (timeoutMs !== null && timeoutMs <= 0) return false
  const deadline = timeoutMs === null ? Infinity : Date.now() + timeoutMs
  for (;;) {
    if (takeContended(l, token)) return true
    const left = deadline - Date.now()
    if (left <= 0) return false
    Atomics.wait(l.words, STATE, 2, left === Infinity ? undefined : left)
  }
}

/** Non-blocking acquire for event loops: resolves true once held, false on timeout or abort. */
export const acquireAsync = async (l: LockWords, token: number, timeoutMs: number | null, signal?: AbortSignal): Promise<boolean> => {
  if (tryTake(l, token)) return true
  if (timeoutMs !== null && timeoutMs <= 0) return false
  const deadline = timeoutMs === null ? Infinity : Date.now() + timeoutMs
  for (;;) {
    if (signal?.aborted) return false
    if (takeContended(l, token)) return true
    const left = deadline - Date.now()
    if (left <= 0) return false
    // Wake at least every 50 ms to notice an abort.
    const r = Atomics.waitAsync(l.words, STATE, 2, Math.min(left, 50))
    if (r.async) await r.value
  }
}

export type ReleaseResult = "ok" | "unlocked" | "not-owner"

export const release = (l: LockWords, token: number): ReleaseResult => {
  const w = l.words
  if (Atomics.load(w, STATE) === 0) return "unlocked"
  if (l.recursive && Atomics.load(w, OWNER) !== token) return "not-owner"
  if (l.recursive && Atomics.sub(w, COUNT, 1) > 1) return "ok"
  forceRelease(l)
  return "ok"
}

/** Frees the lock whatever its count (a dead holder). */
export const forceRelease = (l: LockWords): void => {
  const w = l.words
  Atomics.store(w, COUNT, 0)
  Atomics.store(w, OWNER, 0)
  if (Atomics.exchange(w, STATE, 0) === 2) Atomics.notify(w, STATE, 1)
}

export const ownerOf = (l: LockWords): number => Atomics.load(l.words, OWNER)
export const isLocked = (l: LockWords): boolean => Atomics.load(l.words, STATE) !== 0
