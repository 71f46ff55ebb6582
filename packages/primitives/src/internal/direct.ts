/**
 * Effects that can also run without a fiber. A proxy call is one `Effect.callback`; the
 * async/await facade runs the same callback into a Promise instead of starting a fiber for it
 * (a fiber per call was most of the cost of many calls in flight at once).
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"

type Register<A, E> = (resume: (effect: Effect.Effect<A, E>) => void) => Effect.Effect<void> | void

const Direct = Symbol.for("@multiproc/primitives/Direct")

/** Whether a `register` runs for {@link runDirect} now (no fiber waits on it). */
let directDepth = 0
/** Whether the `register` running now was called by {@link runDirect} rather than a fiber. */
export const isDirect = (): boolean => directDepth > 0

/** `Effect.callback(register)`, marked so that {@link runDirect} can run `register` itself. */
export const callback = <A, E>(register: Register<A, E>): Effect.Effect<A, E> => {
  const effect = Effect.callback<A, E>(register)
  ;(effect as any)[Direct] = register
  return effect
}

/**
 * Runs an effect made by {@link callback} as a Promise, with no fiber; `undefined` for any other
 * effect. Failures reject with `onFailure` of the failed Exit.
 */
export const runDirect = <A, E>(
  effect: Effect.Effect<A, E, any>,
  onFailure: (exit: Exit.Failure<A, E>) => unknown,
  fallback: (effect: Effect.Effect<A, E>) => Promise<A>,
  map: (a: A) => unknown = identity
): Promise<unknown> | undefined => {
  const register = (effect as any)[Direct] as Register<A, E> | undefined
  if (register === undefined) return undefined
  return new Promise<unknown>((resolve, reject) => {
    directDepth++
    try {
      register(settle)
    } finally {
      directDepth--
    }
    function settle(result: Effect.Effect<A, E>): void {
      if (!Exit.isExit(result)) {
        fallback(result).then((a) => resolve(map(a)), reject)
        return
      }
      const exit = result as Exit.Exit<A, E>
      try {
        if (Exit.isSuccess(exit)) resolve(map(exit.value))
        else reject(onFailure(exit))
      } catch (e) {
        reject(e)
      }
    }
  })
}

const identity = <A>(a: A): unknown => a
