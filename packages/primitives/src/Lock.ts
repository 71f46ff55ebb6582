/**
 * Lock and RLock: mutual exclusion across every process of the tree.
 *
 * Each lock is a FIFO ticket lock in a SharedArrayBuffer plus an actor in the process that created
 * it. Threads of the creator's OS process take, release and wait for the lock on the shared memory
 * (an uncontended pair is a few atomic operations; a waiter sleeps on its own cell and the
 * releaser hands the lock to it directly). The actor serves processes without that memory (other
 * OS processes; they wait in the same ticket order), releases by a non-holder, and recovers
 * locks held, and tickets waited with, by processes that died.
 *
 * Three ways in, from thinnest to most general: the synchronous {@link acquireUnsafe} /
 * {@link releaseUnsafe} (non-blocking, where the memory is shared), {@link withLockSync} (one
 * Effect step for a synchronous critical section when the lock is free), and the Effect API
 * ({@link acquire}, {@link release}, {@link withLock}).
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
import { timeoutProblem } from "./internal/args.ts"

/**
 * Misuse of a lock, or a lock whose owner died.
 *
 * - `NotLocked`: releasing a Lock that is not locked (Python: `ValueError`).
 * - `NotOwner`: releasing an RLock this fiber does not own (Python: `AssertionError`).
 * - `OwnerDied`: a process holding the lock died and the lock was made with `onOwnerDeath: "fail"`.
 * - `Gone`: the lock's actor is unreachable (its creating process ended or closed it).
 * - `NotShared`: a synchronous operation ({@link acquireUnsafe}) where the lock's memory is not
 *   shared (another OS process): use the Effect API there.
 * - `InvalidArgument`: a bad timeout (Python's ValueError / TypeError).
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
  reason: Schema.Literals(["NotLocked", "NotOwner", "OwnerDied", "Gone", "NotShared", "InvalidArgument"]),
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

/** RLock: the owner of the acquire (given, or the current fiber's id), then `f`. */
const withOwner = <A, E>(owner: number | undefined, f: (owner: number) => Effect.Effect<A, E>): Effect.Effect<A, E> =>
  owner !== undefined ? Effect.suspend(() => f(owner)) : Effect.withFiber((fiber) => f(fiber.id))

const TRUE = Effect.succeed(true)

const acquireRLock = (lock: RLock, owner: number, timeout: number): Effect.Effect<boolean, LockError> => {
  const local = P.localOf(lock)
  if (local.owner === owner && local.depth > 0) {
    local.depth++
    return TRUE
  }
  if (P.tryAcquireSync(lock) === true) {
    local.owner = owner
    local.depth = 1
    return TRUE
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
}

const releaseRLock = (lock: RLock, owner: number): Effect.Effect<void, LockError> => {
  const local = P.localOf(lock)
  if (local.owner !== owner || local.depth === 0) {
    return Effect.fail(new LockError({ reason: "NotOwner", message: "cannot release un-acquired lock" }))
  }
  local.depth--
  if (local.depth > 0) return Effect.void
  local.owner = undefined
  return P.release(lock, errors)
}

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
export const acquire = (lock: Lock | RLock, options?: AcquireOptions): Effect.Effect<boolean, LockError> => {
  const bad = timeoutProblem(options?.timeout)
  if (bad !== undefined) return Effect.fail(new LockError({ reason: "InvalidArgument", message: bad }))
  const timeout = options === undefined ? -1 : P.timeoutMillis(options.block, options.timeout)
  if (lock.kind !== "RLock") return P.acquire(lock, timeout, errors)
  return withOwner(options?.owner, (owner) => acquireRLock(lock as RLock, owner, timeout))
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
export const release = (lock: Lock | RLock, options?: { readonly owner?: number | undefined }): Effect.Effect<void, LockError> => {
  if (lock.kind !== "RLock") return P.release(lock, errors)
  return withOwner(options?.owner, (owner) => releaseRLock(lock as RLock, owner))
}

/**
 * Acquires the lock synchronously without waiting: `true` if it was free and is now held, `false`
 * otherwise (Python's non-blocking answer). Works where the lock's memory is shared (its creating
 * OS process and that process's worker threads); elsewhere it throws `LockError` `NotShared`
 * (see {@link isShared}). An RLock is owned by `owner` (default -1, "this process", as in the
 * async/await facade).
 *
 * Python equivalent: `lock.acquire(block=False)`.
 *
 * @example
 * ```ts
 * import { Lock } from "@multiproc/primitives"
 * declare const lock: Lock.Lock
 * if (Lock.acquireUnsafe(lock, { block: false })) {
 *   try {
 *     // critical section
 *   } finally {
 *     Lock.releaseUnsafe(lock)
 *   }
 * }
 * ```
 * @category unsafe
 * @since 0.2.0
 */
export const acquireUnsafe = (lock: Lock | RLock, options: { readonly block: false; readonly owner?: number | undefined }): boolean => {
  if (lock.kind === "RLock") {
    const owner = options.owner ?? PROCESS_OWNER
    const local = P.localOf(lock)
    if (local.owner === owner && local.depth > 0) {
      local.depth++
      return true
    }
    const ok = P.tryAcquireSync(lock)
    if (ok === undefined) throw notShared()
    if (ok) {
      local.owner = owner
      local.depth = 1
    }
    return ok
  }
  const ok = P.tryAcquireSync(lock)
  if (ok === undefined) throw notShared()
  return ok
}

/**
 * Releases synchronously a lock this process holds (for an RLock: that `owner` holds, default
 * -1, "this process"). Works on every backend; throws `LockError` `NotLocked` if this process
 * does not hold the lock (a Lock held by another process is released with {@link release}) and
 * `NotOwner` for an RLock owned by someone else.
 *
 * Python equivalent: `lock.release()`.
 *
 * @example
 * ```ts
 * import { Lock } from "@multiproc/primitives"
 * declare const lock: Lock.Lock
 * if (Lock.acquireUnsafe(lock, { block: false })) Lock.releaseUnsafe(lock)
 * ```
 * @category unsafe
 * @since 0.2.0
 */
export const releaseUnsafe = (lock: Lock | RLock, options?: { readonly owner?: number | undefined }): void => {
  if (lock.kind === "RLock") {
    const owner = options?.owner ?? PROCESS_OWNER
    const local = P.localOf(lock)
    if (local.owner !== owner || local.depth === 0) {
      throw new LockError({ reason: "NotOwner", message: "cannot release un-acquired lock" })
    }
    if (--local.depth > 0) return
    local.owner = undefined
  }
  if (!P.releaseOwnSync(lock)) {
    throw new LockError({ reason: "NotLocked", message: "this process does not hold the lock (Lock.release releases another process's)" })
  }
}

/**
 * Runs a synchronous function while holding the lock. When the lock is free this is one
 * Effect step (take, run, release); otherwise it waits like {@link withLock}. If `f` throws, the
 * lock is released and the effect dies with the exception.
 *
 * Python equivalent: `with lock: f()`.
 *
 * @example
 * ```ts
 * import { Lock } from "@multiproc/primitives"
 * declare const lock: Lock.Lock
 * declare const counter: { n: number }
 * const bump = Lock.withLockSync(lock, () => ++counter.n) // Effect<number, LockError>
 * ```
 * @category combinators
 * @since 0.2.0
 */
export const withLockSync = <A>(lock: Lock | RLock, f: () => A, options?: { readonly owner?: number | undefined }): Effect.Effect<A, LockError> => {
  if (lock.kind === "RLock") return withLock(lock, Effect.sync(f), options)
  return Effect.suspend(() => {
    if (P.tryAcquireSync(lock) === true) {
      try {
        return Effect.succeed(f())
      } finally {
        P.releaseOwnSync(lock)
      }
    }
    return withLock(lock, Effect.sync(f))
  })
}

/**
 * Whether this process shares the lock's memory, so {@link acquireUnsafe} can answer here (the
 * creating OS process and its worker threads; not a process-backend child).
 *
 * @example
 * ```ts
 * import { Lock } from "@multiproc/primitives"
 * declare const lock: Lock.Lock
 * const fast = Lock.isShared(lock)
 * ```
 * @category accessors
 * @since 0.2.0
 */
export const isShared = (lock: Lock | RLock): boolean => P.isShared(lock)

/**
 * The owner of an RLock in synchronous and async/await code: the process itself. @internal
 *
 * @example
 * ```ts
 * import { Lock } from "@multiproc/primitives"
 * Lock.PROCESS_OWNER // -1: the owner id meaning "this whole process"
 * ```
 */
export const PROCESS_OWNER = -1

const notShared = () =>
  new LockError({ reason: "NotShared", message: "the lock's memory is not shared with this process: use the Effect API (Lock.acquire)" })

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
    lock.kind !== "RLock"
      ? Effect.acquireUseRelease(acquire(lock), () => self, () => Effect.orDie(release(lock)))
      : Effect.flatMap(currentOwner(options.owner), (owner) =>
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
 * Whether the lock is held right now, by anyone in any process (a snapshot: it may change as soon
 * as it is read). Where the lock's memory is shared this reads it; elsewhere it asks the lock's
 * actor.
 *
 * Python equivalent: `lock.locked()` (Python 3.14).
 *
 * @example
 * ```ts
 * import { Lock } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const lock = yield* Lock.make()
 *   yield* Lock.acquire(lock)
 *   return yield* Lock.locked(lock) // true
 * }))
 * ```
 * @category accessors
 * @since 0.2.0
 */
export const locked = (lock: Lock | RLock): Effect.Effect<boolean, LockError> => Effect.map(P.value(lock, errors), (free) => free === 0)

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
