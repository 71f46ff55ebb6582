/**
 * Barrier for async/await code: a thin class over the Effect API (`Barrier`).
 *
 * Python equivalent: `multiprocessing.Barrier`.
 *
 * @since 0.1.0
 */
import * as Codec from "@multiproc/runtime/Codec"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as B from "../Barrier.ts"
import { run } from "../internal/facade.ts"
import { makeIn } from "./Lock.ts"

/**
 * A barrier shared by every process it is handed to.
 *
 * Python equivalent: `multiprocessing.Barrier(parties, action=None, timeout=None)`.
 *
 * @example
 * ```ts
 * import { Barrier } from "@multiproc/primitives/promise"
 * const b = new Barrier(1, () => console.log("pass"))
 * await b.wait() // 0
 * ```
 * @category models
 * @since 0.1.0
 */
export class Barrier {
  /** The Effect-API handle this object wraps. */
  readonly handle: B.Barrier
  constructor(parties: number | B.Barrier, action?: () => unknown, timeout?: Duration.Input) {
    this.handle = parties instanceof B.Barrier ? parties : makeIn(B.make({
      parties,
      // Not a function: handed on as is, so make refuses it (Python would fail only at the pass).
      // What it throws is the `cause` of the `ActionFailed` error its party's `wait` rejects with.
      action: typeof action === "function" ? Effect.tryPromise({ try: async () => await action(), catch: (e) => e }) : action as undefined,
      timeout
    }))
  }
  /** Python's `parties`. */
  get parties(): number {
    return this.handle.parties
  }
  /** Python's `wait(timeout=None)`: this party's index; rejects with `BarrierError` if broken
   * (`ActionFailed`, with the action's error as `cause`, for the party whose arrival ran a
   * failing action). */
  wait(timeout?: Duration.Input): Promise<number> {
    return run(B.wait(this.handle, timeout))
  }
  /** Python's `abort()`. */
  abort(): Promise<void> {
    return run(B.abort(this.handle))
  }
  /** Python's `reset()`. */
  reset(): Promise<void> {
    return run(B.reset(this.handle))
  }
  /** Python's `broken`. */
  broken(): Promise<boolean> {
    return run(B.broken(this.handle))
  }
  /** Python's `n_waiting`. */
  nWaiting(): Promise<number> {
    return run(B.nWaiting(this.handle))
  }
}

Codec.register<Barrier>({ tag: "multiproc/promise/Barrier", Class: Barrier, encode: (b) => b.handle, decode: (h: B.Barrier) => new Barrier(h) })
