/**
 * Semaphore and BoundedSemaphore: counted permits across every process of the tree.
 *
 * The same engine as {@link Lock}: a FIFO ticket semaphore in shared memory for the threads of the
 * creator's OS process (they take, wait for and hand off permits without messages), and an actor
 * in the creating process for processes without that memory and for recovery.
 * Permits a process took and had not given back when it died are returned (or, with
 * `onOwnerDeath: "fail"`, the waiters fail with `OwnerDied`).
 *
 * Python equivalent: `multiprocessing.Semaphore`, `multiprocessing.BoundedSemaphore`.
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
import { intProblem, timeoutProblem } from "./internal/args.ts"

// Python's ValueError("semaphore initial value must be >= 0") / TypeError for a non-int, as a typed
// failure (it was a RangeError defect, or a TypeError deep inside for a string).
const badValue = (value: unknown, min: number): SemaphoreError | undefined => {
  const bad = intProblem(value, "value", min, P.MAX_INITIAL)
  return bad === undefined ? undefined : new SemaphoreError({ reason: "InvalidArgument", message: bad })
}

/**
 * Misuse of a semaphore, or one whose permit holder died.
 *
 * - `TooManyReleases`: a BoundedSemaphore released above its initial value (Python: `ValueError`).
 * - `OwnerDied`: a process holding permits died and the semaphore was made with `onOwnerDeath: "fail"`.
 * - `Gone`: the semaphore's actor is unreachable.
 * - `InvalidArgument`: a bad initial value or timeout (Python's ValueError / TypeError).
 *
 * @example
 * ```ts
 * import { Semaphore } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const give = (s: Semaphore.BoundedSemaphore) =>
 *   Semaphore.release(s).pipe(Effect.catchTag("SemaphoreError", (e) => Effect.log(e.reason)))
 * ```
 * @category errors
 * @since 0.1.0
 */
export class SemaphoreError extends Schema.TaggedError<SemaphoreError>()("SemaphoreError", {
  reason: Schema.Literals(["TooManyReleases", "OwnerDied", "Gone", "InvalidArgument"]),
  message: Schema.String
}) {}

Codec.registerError(SemaphoreError)

const errors: P.Errors<SemaphoreError> = {
  tooMany: (message) => new SemaphoreError({ reason: "TooManyReleases", message }),
  ownerDied: (message) => new SemaphoreError({ reason: "OwnerDied", message }),
  gone: (message) => new SemaphoreError({ reason: "Gone", message })
}

/**
 * A counting semaphore.
 *
 * Python equivalent: `multiprocessing.Semaphore`.
 *
 * @category models
 * @since 0.1.0
 */
export type Semaphore = P.Permits & { readonly kind: "Semaphore" }

/**
 * A semaphore that cannot be released above its initial value.
 *
 * Python equivalent: `multiprocessing.BoundedSemaphore`.
 *
 * @category models
 * @since 0.1.0
 */
export type BoundedSemaphore = P.Permits & { readonly kind: "BoundedSemaphore" }

/** Options of {@link make} and {@link makeBounded}. */
export interface Options {
  /** When a process holding permits dies: give them back (default) or fail every waiter. */
  readonly onOwnerDeath?: P.OnOwnerDeath | undefined
}

/**
 * Creates a semaphore with `value` permits (default 1), owned by the current Scope.
 *
 * Python equivalent: `multiprocessing.Semaphore(value=1)`.
 *
 * @example
 * ```ts
 * import { Semaphore } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const slots = yield* Semaphore.make(3)
 *   return yield* Semaphore.withPermit(slots, Effect.succeed("one of three"))
 * }))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const make = (value = 1, options: Options = {}): Effect.Effect<Semaphore, SemaphoreError, Scope.Scope> =>
  Effect.suspend(() => {
    const bad = badValue(value, 0)
    return bad !== undefined ? Effect.fail(bad) : P.make("Semaphore", value, 0, options.onOwnerDeath ?? "release", errors)
  }) as Effect.Effect<Semaphore, SemaphoreError, Scope.Scope>

/**
 * Creates a bounded semaphore with `value` permits (default 1), owned by the current Scope.
 *
 * Python equivalent: `multiprocessing.BoundedSemaphore(value=1)`.
 *
 * @example
 * ```ts
 * import { Semaphore } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const s = yield* Semaphore.makeBounded(2)
 *   return yield* Effect.flip(Semaphore.release(s)) // TooManyReleases
 * }))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const makeBounded = (value = 1, options: Options = {}): Effect.Effect<BoundedSemaphore, SemaphoreError, Scope.Scope> =>
  Effect.suspend(() => {
    const bad = badValue(value, 1)
    return bad !== undefined ? Effect.fail(bad) : P.make("BoundedSemaphore", value, value, options.onOwnerDeath ?? "release", errors)
  }) as Effect.Effect<BoundedSemaphore, SemaphoreError, Scope.Scope>

/**
 * Takes a permit: `true` once taken, `false` if none was free (`block: false`) or the timeout passed.
 *
 * Python equivalent: `sem.acquire(block=True, timeout=None)`.
 *
 * @example
 * ```ts
 * import { Semaphore } from "@multiproc/primitives"
 * declare const sem: Semaphore.Semaphore
 * const got = Semaphore.acquire(sem, { block: false })
 * ```
 * @category operations
 * @since 0.1.0
 */
export const acquire = (
  sem: Semaphore | BoundedSemaphore,
  options?: { readonly block?: boolean | undefined; readonly timeout?: Duration.Input | undefined }
): Effect.Effect<boolean, SemaphoreError> => {
  const bad = timeoutProblem(options?.timeout)
  if (bad !== undefined) return Effect.fail(new SemaphoreError({ reason: "InvalidArgument", message: bad }))
  return P.acquire(sem, options === undefined ? -1 : P.timeoutMillis(options.block, options.timeout), errors)
}

/**
 * Gives a permit back (any process may release; a BoundedSemaphore fails past its initial value).
 *
 * Python equivalent: `sem.release()`.
 *
 * @example
 * ```ts
 * import { Semaphore } from "@multiproc/primitives"
 * declare const sem: Semaphore.Semaphore
 * const done = Semaphore.release(sem)
 * ```
 * @category operations
 * @since 0.1.0
 */
export const release = (sem: Semaphore | BoundedSemaphore): Effect.Effect<void, SemaphoreError> => P.release(sem, errors)

/**
 * The number of free permits.
 *
 * Python equivalent: `sem.get_value()`.
 *
 * @example
 * ```ts
 * import { Semaphore } from "@multiproc/primitives"
 * declare const sem: Semaphore.Semaphore
 * const free = Semaphore.getValue(sem)
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const getValue = (sem: Semaphore | BoundedSemaphore): Effect.Effect<number, SemaphoreError> => P.value(sem, errors)

/**
 * Runs an effect while holding one permit.
 *
 * Python equivalent: `with sem: ...`.
 *
 * @example
 * ```ts
 * import { Semaphore } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const sem: Semaphore.Semaphore
 * const limited = Semaphore.withPermit(sem, Effect.log("at most N at once"))
 * ```
 * @category combinators
 * @since 0.1.0
 */
export const withPermit: {
  (sem: Semaphore | BoundedSemaphore): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | SemaphoreError, R>
  <A, E, R>(sem: Semaphore | BoundedSemaphore, self: Effect.Effect<A, E, R>): Effect.Effect<A, E | SemaphoreError, R>
} = dual(2, <A, E, R>(sem: Semaphore | BoundedSemaphore, self: Effect.Effect<A, E, R>) =>
  Effect.acquireUseRelease(acquire(sem), () => self, () => Effect.orDie(release(sem))))

/**
 * Whether a value is a Semaphore or BoundedSemaphore handle.
 *
 * @example
 * ```ts
 * import { Semaphore } from "@multiproc/primitives"
 * Semaphore.isSemaphore("no") // false
 * ```
 * @category guards
 * @since 0.1.0
 */
export const isSemaphore = (u: unknown): u is Semaphore | BoundedSemaphore =>
  u instanceof P.Permits && (u.kind === "Semaphore" || u.kind === "BoundedSemaphore")
