/**
 * Keeps this thread's event loop alive while one of its fibers waits for another process: a
 * pending promise does not, `Atomics.waitAsync` does not, and a daemonic child is unref'd, so a
 * main program awaiting `q.get()` that only a daemonic child will satisfy would otherwise reach
 * 'beforeExit', close the facade's Scope and lose the wait (Python's main thread just blocks).
 * Only waits made by this process's own code hold it: the owner of a queue or pipe does not stay
 * alive because another process waits on it.
 * @internal
 */
import * as Effect from "effect/Effect"

let waiting = 0
let timer: ReturnType<typeof setInterval> | undefined

/** Holds the event loop open until the returned function is called (idempotent). */
export const hold = (): () => void => {
  if (waiting++ === 0) (timer ??= setInterval(() => {}, 1 << 30)).ref()
  let done = false
  return () => {
    if (done) return
    done = true
    if (--waiting === 0) timer!.unref()
  }
}

/** Runs `effect`, holding the event loop open until it ends (however it ends). */
export const whileWaiting = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.suspend(() => {
    const release = hold()
    return Effect.ensuring(effect, Effect.sync(release))
  })
