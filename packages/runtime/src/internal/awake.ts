/**
 * Keeping this thread's event loop awake for a moment, so that an expected message is seen at
 * once instead of after an OS wake-up (10-20 µs on these VMs, about half of a round trip between
 * two threads). Awake means a `setImmediate` chain: the loop keeps polling for I/O without
 * blocking, and timers, I/O callbacks and microtasks run as usual. It costs CPU only while
 * nothing else runs, and ends at its deadline.
 *
 * Lean on purpose (no `effect`): workers load it at boot.
 * @internal
 */

let until = 0
let whileAwaitingUntil = 0
/** What callers await (one predicate per caller, e.g. per child with calls out). */
const awaiting = new Set<() => boolean>()
let running = false

const anyAwaiting = (): boolean => {
  for (const pending of awaiting) {
    if (pending()) return true
    awaiting.delete(pending)
  }
  return false
}

const tick = (): void => {
  const now = performance.now()
  if (now < until || (now < whileAwaitingUntil && anyAwaiting())) setImmediate(tick)
  else {
    running = false
    if (now >= whileAwaitingUntil) awaiting.clear()
  }
}

const start = (): void => {
  if (running) return
  running = true
  setImmediate(tick)
}

/** Stays awake for `ms` from now (a worker after a reply: the next call may follow at once). */
export const stayAwake = (ms: number): void => {
  until = Math.max(until, performance.now() + ms)
  start()
}

/** Stays awake for up to `ms` from now while `pending()` holds (a caller awaiting a reply). */
export const stayAwakeWhile = (ms: number, pending: () => boolean): void => {
  awaiting.add(pending)
  whileAwaitingUntil = Math.max(whileAwaitingUntil, performance.now() + ms)
  start()
}
