/**
 * Condition for async/await code: a thin class over the Effect API (`Condition`).
 *
 * Python equivalent: `multiprocessing.Condition`.
 *
 * @since 0.1.0
 */
import * as Codec from "@multiproc/runtime/Codec"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as C from "../Condition.ts"
import { type AcquireKeywords, acquireArgs, holding, run } from "../internal/facade.ts"
import { Lock, makeIn, PROCESS_OWNER, RLock } from "./Lock.ts"

const owner = { owner: PROCESS_OWNER }

/**
 * A condition variable shared by every process it is handed to.
 *
 * Python equivalent: `multiprocessing.Condition(lock=None)`.
 *
 * @example
 * ```ts
 * import { Condition } from "@multiproc/primitives/promise"
 * const cond = new Condition()
 * await cond.withLock(() => cond.notifyAll())
 * ```
 * @category models
 * @since 0.1.0
 */
export class Condition {
  /** The Effect-API handle this object wraps. */
  readonly handle: C.Condition
  constructor(lock?: Lock | RLock | C.Condition) {
    // A facade lock gives its handle; anything else goes to make as is, which refuses it.
    this.handle = lock instanceof C.Condition
      ? lock
      : makeIn(C.make(lock instanceof Lock || lock instanceof RLock ? lock.handle : lock as undefined))
  }
  /** Python's `acquire(block=True, timeout=None)`, positionally or as `{ block, timeout }`. */
  acquire(keywordsOrBlock: boolean | AcquireKeywords = true, positionalTimeout?: Duration.Input): Promise<boolean> {
    const args = acquireArgs(keywordsOrBlock, positionalTimeout)
    if (typeof args === "string") return Promise.reject(new C.ConditionError({ reason: "InvalidArgument", message: args }))
    return run(C.acquire(this.handle, { ...args, owner: PROCESS_OWNER }))
  }
  /** Python's `release()`. */
  release(): Promise<void> {
    return run(C.release(this.handle, owner))
  }
  /** Python's `with cond:` — runs `f` holding the lock. */
  withLock<A>(f: () => A | Promise<A>): Promise<Awaited<A>> {
    return holding(() => this.acquire(), () => this.release(), f)
  }
  /** Python's `wait(timeout=None)`: `false` on timeout. */
  wait(timeout?: Duration.Input): Promise<boolean> {
    return run(C.wait(this.handle, timeout, owner))
  }
  /** Python's `wait_for(predicate, timeout=None)`. */
  waitFor(predicate: () => boolean | Promise<boolean>, timeout?: Duration.Input): Promise<boolean> {
    if (typeof predicate !== "function") {
      return Promise.reject(new C.ConditionError({ reason: "InvalidArgument", message: `predicate must be a function, got ${predicate === null ? "null" : typeof predicate}` }))
    }
    return run(C.waitFor(this.handle, Effect.promise(async () => await predicate()), timeout, owner))
  }
  /** Python's `notify(n=1)`; resolves with how many waiters were woken. */
  notify(n = 1): Promise<number> {
    return run(C.notify(this.handle, n, owner))
  }
  /** Python's `notify_all()`. */
  notifyAll(): Promise<number> {
    return run(C.notifyAll(this.handle, owner))
  }
}

Codec.register<Condition>({ tag: "multiproc/promise/Condition", Class: Condition, encode: (c) => c.handle, decode: (h: C.Condition) => new Condition(h) })
