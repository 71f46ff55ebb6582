/**
 * Semaphore and BoundedSemaphore for async/await code: thin classes over the Effect API.
 *
 * Python equivalent: `multiprocessing.Semaphore`, `multiprocessing.BoundedSemaphore`.
 *
 * @since 0.1.0
 */
import * as Codec from "@multiproc/runtime/Codec"
import type * as Duration from "effect/Duration"
import { type AcquireKeywords, acquireArgs, held, type Held, holding, run } from "../internal/facade.ts"
import * as S from "../Semaphore.ts"
import { makeIn } from "./Lock.ts"

/** A held permit; gives it back when disposed (`using` / `await using`). */
export type { Held } from "../internal/facade.ts"

abstract class Base {
  /** The Effect-API handle this object wraps. */
  abstract readonly handle: S.Semaphore | S.BoundedSemaphore
  /** Python's `acquire(block=True, timeout=None)`, positionally or as `{ block, timeout }`. */
  acquire(keywordsOrBlock: boolean | AcquireKeywords = true, positionalTimeout?: Duration.Input): Promise<boolean> {
    const args = acquireArgs(keywordsOrBlock, positionalTimeout)
    if (typeof args === "string") return Promise.reject(new S.SemaphoreError({ reason: "InvalidArgument", message: args }))
    return run(S.acquire(this.handle, args))
  }
  /** Python's `release()`. */
  release(): Promise<void> {
    return run(S.release(this.handle))
  }
  /** Python's `get_value()`. */
  getValue(): Promise<number> {
    return run(S.getValue(this.handle))
  }
  /** Python's `with sem:` — runs `f` holding a permit. */
  withPermit<A>(f: () => A | Promise<A>): Promise<Awaited<A>> {
    return holding(() => this.acquire(), () => this.release(), f)
  }
  /** Takes a permit and returns a guard for `using` / `await using`, which gives it back. */
  async hold(): Promise<Held> {
    await this.acquire()
    return held(S.release(this.handle))
  }
  /** Python's repr: `<Semaphore(value=3)>`, `<BoundedSemaphore(value=3, maxvalue=3)>`. */
  toString(): string {
    return String(this.handle)
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString()
  }
}

/**
 * A counting semaphore shared by every process it is handed to.
 *
 * Python equivalent: `multiprocessing.Semaphore(value=1)`.
 *
 * @example
 * ```ts
 * import { Semaphore } from "@multiproc/primitives/promise"
 * const sem = new Semaphore(2)
 * await sem.withPermit(async () => "one of two")
 * ```
 * @category models
 * @since 0.1.0
 */
export class Semaphore extends Base {
  readonly handle: S.Semaphore
  constructor(value: number | S.Semaphore = 1, options: S.Options = {}) {
    super()
    // Anything but a handle goes to make, which refuses a value that is no count (a string was
    // taken for a handle and failed deep inside).
    this.handle = S.isSemaphore(value) ? value as S.Semaphore : makeIn(S.make(value as number, options))
  }
}

/**
 * A semaphore that cannot be released above its initial value.
 *
 * Python equivalent: `multiprocessing.BoundedSemaphore(value=1)`.
 *
 * @example
 * ```ts
 * import { BoundedSemaphore } from "@multiproc/primitives/promise"
 * const sem = new BoundedSemaphore(1)
 * await sem.release().catch((e) => e.reason) // "TooManyReleases"
 * ```
 * @category models
 * @since 0.1.0
 */
export class BoundedSemaphore extends Base {
  readonly handle: S.BoundedSemaphore
  constructor(value: number | S.BoundedSemaphore = 1, options: S.Options = {}) {
    super()
    this.handle = S.isSemaphore(value) ? value as S.BoundedSemaphore : makeIn(S.makeBounded(value as number, options))
  }
}

Codec.register<Semaphore>({ tag: "multiproc/promise/Semaphore", Class: Semaphore, encode: (s) => s.handle, decode: (h: S.Semaphore) => new Semaphore(h) })
Codec.register<BoundedSemaphore>({
  tag: "multiproc/promise/BoundedSemaphore",
  Class: BoundedSemaphore,
  encode: (s) => s.handle,
  decode: (h: S.BoundedSemaphore) => new BoundedSemaphore(h)
})
