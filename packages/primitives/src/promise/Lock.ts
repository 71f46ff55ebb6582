/**
 * Lock and RLock for async/await code: thin classes over the Effect API (`Lock`).
 *
 * An RLock here is owned by the process (JavaScript code in one process is one thread); the
 * Effect API can also make it per fiber.
 *
 * Python equivalent: `multiprocessing.Lock`, `multiprocessing.RLock`.
 *
 * @since 0.1.0
 */
import * as Codec from "@multiproc/runtime/Codec"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Scope from "effect/Scope"
import { type AcquireKeywords, acquireArgs, held, type Held, run, runSync, scope } from "../internal/facade.ts"
import * as P from "../internal/permits.ts"
import * as L from "../Lock.ts"
import { timeoutProblem } from "../internal/args.ts"

/**
 * The owner of an RLock in async/await code: the process itself. @internal
 *
 * @example
 * ```ts
 * import { PROCESS_OWNER } from "@multiproc/primitives/promise/Lock"
 * PROCESS_OWNER // -1: the facade's locks are owned by the whole process
 * ```
 */
export const PROCESS_OWNER = L.PROCESS_OWNER

const TRUE = Promise.resolve(true)
const FALSE = Promise.resolve(false)
const VOID = Promise.resolve()
const processOwner = { block: false, owner: PROCESS_OWNER } as const

export type { Held } from "../internal/facade.ts"

/**
 * @internal
 *
 * @example
 * ```ts
 * import { Lock } from "@multiproc/primitives"
 * import { makeIn } from "@multiproc/primitives/promise/Lock"
 * const lock = makeIn(Lock.make()) // created in the facade's process-wide Scope
 * ```
 */
export const makeIn = <A, E = never>(effect: Effect.Effect<A, E, Scope.Scope>): A => runSync(Scope.provide(scope())(effect))

abstract class Base {
  /** The Effect-API handle this object wraps. */
  abstract readonly handle: L.Lock | L.RLock
  /** Python's `acquire(block=True, timeout=None)`, positionally or as `{ block, timeout }`:
   * `true` once held, `false` otherwise. A free lock is taken without running an Effect. */
  acquire(keywordsOrBlock: boolean | AcquireKeywords = true, positionalTimeout?: Duration.Input): Promise<boolean> {
    const args = acquireArgs(keywordsOrBlock, positionalTimeout)
    if (typeof args === "string") return Promise.reject(new L.LockError({ reason: "InvalidArgument", message: args }))
    const { block, timeout } = args
    // A bad timeout is refused even when the lock is free, as Python parses it first.
    if (timeout != null && timeoutProblem(timeout) !== undefined) return run(L.acquire(this.handle, { block, timeout, owner: PROCESS_OWNER }))
    const now = this.trySync()
    if (now === true) return TRUE
    if (now === false && block === false) return FALSE
    return run(L.acquire(this.handle, { block, timeout, owner: PROCESS_OWNER }))
  }
  /**
   * Python's `acquire(block=False)`, answered synchronously: `true` if the lock was free and is
   * now held. Where the lock's memory is not shared (a process-backend child) it throws
   * `LockError` `NotShared`: use `await acquire(false)` there.
   */
  tryAcquire(): boolean {
    return L.acquireUnsafe(this.handle, processOwner)
  }
  /** Python's `release()`. A lock this process holds is released without running an Effect. */
  release(): Promise<void> {
    if (this.releaseOwnSync()) return VOID
    return run(L.release(this.handle, { owner: PROCESS_OWNER }))
  }
  /** Python's `release()`, synchronously, of a lock this process holds (`LockError` `NotLocked`
   * if it holds none, `NotOwner` for an RLock it does not own). */
  releaseSync(): void {
    L.releaseUnsafe(this.handle, processOwner)
  }
  /** Python's `with lock:` — runs `f` holding the lock. */
  async withLock<A>(f: () => A | Promise<A>): Promise<Awaited<A>> {
    if (this.trySync() !== true) await run(L.acquire(this.handle, { owner: PROCESS_OWNER }))
    try {
      return await f()
    } finally {
      if (!this.releaseOwnSync()) await run(L.release(this.handle, { owner: PROCESS_OWNER }))
    }
  }
  /** A synchronous non-blocking acquire; `undefined` where the memory is not shared. */
  private trySync(): boolean | undefined {
    return L.isShared(this.handle) ? L.acquireUnsafe(this.handle, processOwner) : undefined
  }
  /** Releases a hold of this process synchronously; false if that is not possible here. */
  private releaseOwnSync(): boolean {
    const h = this.handle
    if (h.kind === "RLock") {
      const local = P.localOf(h)
      if (local.owner !== PROCESS_OWNER || local.depth === 0) return false
    } else if (P.heldHere(h) === 0) return false
    L.releaseUnsafe(h, processOwner)
    return true
  }
  /** Acquires and returns a guard for `using` / `await using`, which releases it. */
  async hold(): Promise<Held> {
    await this.acquire()
    return held(L.release(this.handle, { owner: PROCESS_OWNER }))
  }
  /** Python's `locked()` (3.14): whether anyone, in any process, holds the lock now. */
  locked(): Promise<boolean> {
    return run(L.locked(this.handle))
  }
  /** Python's repr: `<Lock(owner=None)>`, `<Lock(owner=MainProcess)>`, `<RLock(MainProcess, 2)>`. */
  toString(): string {
    return String(this.handle)
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString()
  }
}

/**
 * A lock shared by every process it is handed to.
 *
 * Python equivalent: `multiprocessing.Lock()`.
 *
 * @example
 * ```ts
 * import { Lock } from "@multiproc/primitives/promise"
 * const lock = new Lock()
 * {
 *   await using _ = await lock.hold()
 *   // critical section
 * }
 * ```
 * @category models
 * @since 0.1.0
 */
export class Lock extends Base {
  readonly handle: L.Lock
  constructor(options: L.Options | L.Lock = {}) {
    super()
    this.handle = L.isLock(options) ? (options as L.Lock) : makeIn(L.make(options as L.Options))
  }
}

/**
 * A recursive lock, owned by the process that acquired it.
 *
 * Python equivalent: `multiprocessing.RLock()`.
 *
 * @example
 * ```ts
 * import { RLock } from "@multiproc/primitives/promise"
 * const rlock = new RLock()
 * await rlock.acquire()
 * await rlock.acquire()
 * await rlock.release()
 * await rlock.release()
 * ```
 * @category models
 * @since 0.1.0
 */
export class RLock extends Base {
  readonly handle: L.RLock
  constructor(options: L.Options | L.RLock = {}) {
    super()
    this.handle = L.isLock(options) ? (options as L.RLock) : makeIn(L.makeRLock(options as L.Options))
  }
}

Codec.register<Lock>({ tag: "multiproc/promise/Lock", Class: Lock, encode: (l) => l.handle, decode: (h: L.Lock) => new Lock(h) })
Codec.register<RLock>({ tag: "multiproc/promise/RLock", Class: RLock, encode: (l) => l.handle, decode: (h: L.RLock) => new RLock(h) })
