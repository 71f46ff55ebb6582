/**
 * Lock and RLock: mutual exclusion across every process of the tree.
 *
 * Each lock is an actor in the process that created it (FIFO waiters, timeouts, recovery of locks
 * held by processes that died); worker threads of the creator's OS process take and release an
 * uncontended lock with one CAS on shared memory and only talk to the actor to wait.
 *
 * Better than Python: a lock held by a process that dies is released and handed to the next
 * waiter (or, with `onOwnerDeath: "fail"`, every waiter fails with `OwnerDied`); a waiter that is
 * interrupted or times out leaves the queue without ever owning the lock; hand-off is FIFO.
 *
 * Python equivalent: `multiprocessing.Lock`, `multiprocessing.RLock`.
 *
 * @since 0.1.0
 */
import * as Codec from "@multiproc/runtime/Codec"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as P from "./internal/permits.ts"

/**
 * Misuse of a lock, or a lock whose owner died.
 *
 * - `NotLocked`: releasing a Lock that is not locked (Python: `ValueError`).
 * - `NotOwner`: releasing an RLock this fiber does not own (Python: `AssertionError`).
 * - `OwnerDied`: a process holding the lock died and the lock was made with `onOwnerDeath: "fail"`.
 * - `Gone`: the lock's actor is unreachable (its creating process ended or closed it).
 *
 * @example
 * ```ts
 * import { Lock } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const safeRelease = (lock: Lock.Lock) =>
 *   Lock.release(lock).pipe(Effect.catchTag("LockError", (e) => Effect.log(e.reason)))
 * ```
 * @category errors
 * @since 0.1.0
 */
export class LockError extends Schema.TaggedError<LockError>()("LockError", {
  reason: Schema.Literals(["NotLocked", "NotOwner", "OwnerDied", "Gone"]),
  message: Schema.String
}) {}

Codec.registerError(LockError)

const errors: P.Errors<LockError> = {
  tooMany: (message) => new LockError({ reason: "NotLocked", message }),
  ownerDied: (message) => new LockError({ reason: "OwnerDied", message }),
  gone: (message) => new LockError({ reason: "Gone", message })
}

/**
 * A non-recursive lock; any process may release it (as in Python).
 *
 * Python equivalent: `multiprocessing.Lock`.
 *
 * @category models
 * @since 0.1.0
 */
export type Lock = P.Permits & { readonly kind: "Lock" }

/**
 * A recursive lock, owned by one fiber (one "thread") of one process.
 *
 * Python equivalent: `multiprocessing.RLock`.
 *
 * @category models
 * @since 0.1.0
 */
export type RLock = P.Permits & { readonly kind: "RLock" }

/** Options of {@link make} and {@link makeRLock}. */
export interface Options {
  /** When a process holding the lock dies: hand it to the next waiter (default) or fail every
   * waiter with `LockError` `OwnerDied`. */
  readonly onOwnerDeath?: P.OnOwnerDeath | undefined
}

/** Options of {@link acquire}. */
export interface AcquireOptions {
  /** `false`: do not wait (Python's `block=False`); the timeout is ignored. */
  readonly block?: boolean | undefined
  /** How long to wait; omitted = forever, negative = zero (as in Python's multiprocessing). */
  readonly timeout?: Duration.Input | undefined
  /** RLock only: who owns it; defaults to the current fiber. */
  readonly owner?: number | undefined
}

/**
 * Creates a lock owned by the current Scope.
 *
 * Python equivalent: `multiprocessing.Lock()`.
 *
 * @example
 * ```ts
 * import { Lock } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const lock = yield* Lock.make()
 *   return yield* Lock.withLock(lock, Effect.succeed("critical"))
 * }))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: Options = {}): Effect.Effect<Lock, never, Scope.Scope> =>
  P.make("Lock", 1, 1, options.onOwnerDeath ?? "release", errors) as Effect.Effect<Lock, never, Scope.Scope>

/**
 * Creates a recursive lock owned by the current Scope.
 *
 * Python equivalent: `multiprocessing.RLock()`.
 *
 * @example
 * ```ts
 * import { Lock } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const rlock = yield* Lock.makeRLock()
 *   yield* Lock.acquire(rlock)
 *   yield* Lock.acquire(rlock) // nested: fine
 *   yield* Lock.release(rlock)
 *   yield* Lock.release(rlock)
 * }))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const makeRLock = (options: Options = {}): Effect.Effect<RLock, never, Scope.Scope> =>
  P.make("RLock", 1, 1, options.onOwnerDeath ?? "release", errors) as Effect.Effect<RLock, never, Scope.Scope>

const currentOwner = (owner: number | undefined): Effect.Effect<number> =>
  owner !== undefined ? Effect.succeed(owner) : Effect.withFiber((fiber) => Effect.succeed(fiber.id))

/**
 * Acquires the lock: `true` once held, `false` if it was not free (`block: false`) or the timeout
 * passed first.
 *
 * Python equivalent: `lock.acquire(block=True, timeout=None)`.
 *
 * @example
 * ```ts
 * import { Lock } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const lock: Lock.Lock
 * const got = Lock.acquire(lock, { timeout: "100 millis" }) // Effect<boolean, LockError>
 * ```
 * @category operations
 * @since 0.1.0
 */
export const acquire = (lock: Lock | RLock, options: AcquireOptions = {}): Effect.Effect<boolean, LockError> => {
  const timeout = P.timeoutMillis(options.block, options.timeout)
  if (lock.kind !== "RLock") return P.acquire(lock, timeout, errors)
  return Effect.flatMap(currentOwner(options.owner), (owner) => {
    const local = P.localOf(lock)
    if (local.owner === owner && local.depth > 0) {
      local.depth++
      return Effect.succeed(true)
    }
    return Effect.uninterruptibleMask((restore) =>
      restore(P.acquire(lock, timeout, errors)).pipe(
        Effect.map((ok) => {
          if (ok) {
            local.owner = owner
            local.depth = 1
          }
          return ok
        })
      )
    )
  })
}

/**
 * Releases the lock. A Lock may be released by any process; releasing an unlocked Lock fails with
 * `NotLocked`. An RLock must be released by its owner (`NotOwner` otherwise), once per acquire.
 *
 * Python equivalent: `lock.release()`.
 *
 * @example
 * ```ts
 * import { Lock } from "@multiproc/primitives"
 * declare const lock: Lock.Lock
 * const done = Lock.release(lock)
 * ```
 * @category operations
 * @since 0.1.0
 */
export const release = (lock: Lock | RLock, options: { readonly owner?: number | undefined } = {}): Effect.Effect<void, LockError> => {
  if (lock.kind !== "RLock") return P.release(lock, errors)
  return Effect.flatMap(currentOwner(options.owner), (owner) => {
    const local = P.localOf(lock)
    if (local.owner !== owner || local.depth === 0) {
      return Effect.fail(new LockError({ reason: "NotOwner", message: "cannot release un-acquired lock" }))
    }
    local.depth--
    if (local.depth > 0) return Effect.void
    local.owner = undefined
    return P.release(lock, errors)
  })
}

/**
 * Runs an effect while holding the lock, releasing it however the effect ends.
 *
 * Python equivalent: `with lock: ...`.
 *
 * @example
 * ```ts
 * import { Lock } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const lock: Lock.Lock
 * const one = Lock.withLock(lock, Effect.log("alone"))
 * const two = Effect.log("alone").pipe(Lock.withLock(lock))
 * ```
 * @category combinators
 * @since 0.1.0
 */
export const withLock: {
  (lock: Lock | RLock, options?: { readonly owner?: number | undefined }): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | LockError, R>
  <A, E, R>(lock: Lock | RLock, self: Effect.Effect<A, E, R>, options?: { readonly owner?: number | undefined }): Effect.Effect<A, E | LockError, R>
} = dual(
  (args) => Effect.isEffect(args[1]),
  <A, E, R>(lock: Lock | RLock, self: Effect.Effect<A, E, R>, options: { readonly owner?: number | undefined } = {}): Effect.Effect<A, E | LockError, R> =>
    Effect.flatMap(currentOwner(options.owner), (owner) =>
      Effect.acquireUseRelease(
        acquire(lock, { owner }),
        () => self,
        () => Effect.orDie(release(lock, { owner }))
      ))
)

/**
 * Whether this process (for an RLock: this fiber) holds the lock.
 *
 * Python equivalent: `SemLock._is_mine()`.
 *
 * @example
 * ```ts
 * import { Lock } from "@multiproc/primitives"
 * declare const lock: Lock.Lock
 * const mine = Lock.isMine(lock)
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const isMine = (lock: Lock | RLock, options: { readonly owner?: number | undefined } = {}): Effect.Effect<boolean> =>
  lock.kind === "RLock"
    ? Effect.map(currentOwner(options.owner), (owner) => {
      const local = P.localOf(lock)
      return local.owner === owner && local.depth > 0
    })
    : Effect.sync(() => P.heldHere(lock) > 0)

/**
 * Whether a value is a Lock or an RLock handle.
 *
 * @example
 * ```ts
 * import { Lock } from "@multiproc/primitives"
 * Lock.isLock(42) // false
 * ```
 * @category guards
 * @since 0.1.0
 */
export const isLock = (u: unknown): u is Lock | RLock => u instanceof P.Permits && (u.kind === "Lock" || u.kind === "RLock")
