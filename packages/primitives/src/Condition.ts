/**
 * Condition: wait until another process signals, with the lock released while waiting.
 *
 * An actor in the creating process keeps the waiters in arrival order. A waiter registers before
 * it releases the lock, so a `notify` made after the release can never be missed; a notification
 * that reaches a waiter which already gave up (timeout, interruption, death) is passed on to the
 * next waiter instead of being lost, as it is in Python.
 *
 * Python equivalent: `multiprocessing.Condition`.
 *
 * @since 0.1.0
 */
import * as Actor from "@multiproc/runtime/Actor"
import * as Codec from "@multiproc/runtime/Codec"
import * as kernel from "@multiproc/runtime/internal/kernel"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { whileWaiting } from "./internal/alive.ts"
import * as P from "./internal/permits.ts"
import * as Lock from "./Lock.ts"
import { describe, timeoutProblem } from "./internal/args.ts"

const badTimeout = (timeout: unknown): Effect.Effect<never, ConditionError> | undefined => {
  const bad = timeoutProblem(timeout)
  return bad === undefined ? undefined : Effect.fail(new ConditionError({ reason: "InvalidArgument", message: bad }))
}

/**
 * Misuse of a condition.
 *
 * - `NotOwner`: `wait` or `notify` without holding the condition's lock (Python: `RuntimeError`).
 * - `Gone`: the condition's actor is unreachable.
 * - `InvalidArgument`: a bad lock, timeout or `notify` count (Python's ValueError / TypeError).
 *
 * @example
 * ```ts
 * import { Condition } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const safe = (c: Condition.Condition) =>
 *   Condition.notify(c).pipe(Effect.catchTag("ConditionError", (e) => Effect.log(e.reason)))
 * ```
 * @category errors
 * @since 0.1.0
 */
export class ConditionError extends Schema.TaggedError<ConditionError>()("ConditionError", {
  reason: Schema.Literals(["NotOwner", "Gone", "InvalidArgument"]),
  message: Schema.String
}) {}

Codec.registerError(ConditionError)

const Message = Schema.Union([
  Schema.Struct({ op: Schema.Literal("enter") }),
  Schema.Struct({ op: Schema.Literal("sleep"), id: Schema.Number, timeout: Schema.Number }),
  Schema.Struct({ op: Schema.Literal("notify"), n: Schema.Number })
])
type Message = typeof Message.Type

/**
 * A condition handle: its actor and its lock; crosses to any process.
 *
 * Python equivalent: a `multiprocessing.Condition` instance.
 *
 * @category models
 * @since 0.1.0
 *
 * @example
 * ```ts
 * import { Condition } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const c = yield* Condition.make()
 *   yield* Condition.withLock(c, Condition.notifyAll(c))
 * }))
 * ```
 */
export class Condition {
  readonly ref: Actor.ActorRef<typeof Message.Encoded>
  readonly lock: Lock.Lock | Lock.RLock
  constructor(ref: Actor.ActorRef<any>, lock: Lock.Lock | Lock.RLock) {
    this.ref = ref
    this.lock = lock
  }
}

Codec.register<Condition>({
  tag: "multiproc/Condition",
  Class: Condition,
  encode: (c) => [c.ref.address, c.ref.port, c.lock],
  decode: ([address, port, lock]: [string, number, Lock.Lock | Lock.RLock]) => new Condition({ address, port }, lock)
})

/** Who owns an RLock: an explicit owner (async/await code) or the current fiber. */
export interface OwnerOptions {
  readonly owner?: number | undefined
}

const gone = (e: unknown): Effect.Effect<never, ConditionError> =>
  e instanceof Actor.ActorError
    ? Effect.fail(new ConditionError({ reason: "Gone", message: `the condition is unreachable: ${e.message}` }))
    : Effect.die(e)

const ask = <A>(c: Condition, message: typeof Message.Encoded): Effect.Effect<A, ConditionError> =>
  Actor.ask<typeof Message.Encoded, A, never>(c.ref, message).pipe(Effect.catch(gone))

interface Waiter {
  readonly from: string
  notified: boolean
  request: Actor.Request | undefined
  timer: ReturnType<typeof setTimeout> | undefined
}

/**
 * Creates a condition over `lock` (a new RLock if omitted), owned by the current Scope.
 *
 * Python equivalent: `multiprocessing.Condition(lock=None)`.
 *
 * @example
 * ```ts
 * import { Condition } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const cond = yield* Condition.make()
 *   return yield* Condition.withLock(cond, Condition.wait(cond, "10 millis")) // false
 * }))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const make = (lock?: Lock.Lock | Lock.RLock): Effect.Effect<Condition, ConditionError, Scope.Scope> =>
  Effect.gen(function*() {
    // Anything but a Lock or RLock is refused here (Python fails at the first acquire).
    if (lock != null && !Lock.isLock(lock)) {
      return yield* Effect.fail(new ConditionError({ reason: "InvalidArgument", message: `lock must be a Lock or an RLock, got ${describe(lock)}` }))
    }
    const theLock = lock ?? (yield* Lock.makeRLock())
    const waiters = new Map<number, Waiter>()
    let nextId = 0
    const wake = (n: number): number => {
      let woken = 0
      for (const [id, w] of waiters) {
        if (woken >= n) break
        if (w.notified) continue
        w.notified = true
        woken++
        if (w.request) {
          waiters.delete(id)
          if (w.timer !== undefined) clearTimeout(w.timer)
          w.request.reply(true)
        }
      }
      return woken
    }
    const behavior: Actor.Behavior<Message> = {
      receive: (m, request) => {
        switch (m.op) {
          case "enter": {
            const id = ++nextId
            waiters.set(id, { from: request.from, notified: false, request: undefined, timer: undefined })
            return request.reply(id)
          }
          case "sleep": {
            const w = waiters.get(m.id)
            if (!w) return request.reply(false)
            if (w.notified || m.timeout === 0) {
              waiters.delete(m.id)
              return request.reply(w.notified)
            }
            w.request = request
            if (m.timeout > 0) {
              w.timer = setTimeout(() => {
                waiters.delete(m.id)
                request.reply(false)
              }, m.timeout)
            }
            request.onCancel(() => {
              waiters.delete(m.id)
              if (w.timer !== undefined) clearTimeout(w.timer)
            })
            return
          }
          case "notify":
            return request.reply(wake(m.n < 0 ? Infinity : m.n))
        }
      },
      abandoned: (m, value) => {
        // A notification reached a waiter that had given up: pass it on.
        if (m.op === "sleep" && value === true) wake(1)
      },
      down: (dead) => {
        let lost = 0
        for (const [id, w] of waiters) {
          if (!kernel.isAtOrBelow(w.from, dead)) continue
          waiters.delete(id)
          if (w.timer !== undefined) clearTimeout(w.timer)
          if (w.notified) lost++
        }
        if (lost > 0) wake(lost)
      }
    }
    const ref = yield* Actor.make(Message, behavior)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        for (const w of waiters.values()) {
          if (w.timer !== undefined) clearTimeout(w.timer)
          w.request?.fail(new ConditionError({ reason: "Gone", message: "the condition was closed" }))
        }
        waiters.clear()
      })
    )
    return new Condition(ref, theLock)
  })

/**
 * Acquires the condition's lock (see {@link Lock.acquire}).
 *
 * Python equivalent: `cond.acquire(block=True, timeout=None)`.
 *
 * @example
 * ```ts
 * import { Condition } from "@multiproc/primitives"
 * declare const cond: Condition.Condition
 * const got = Condition.acquire(cond)
 * ```
 * @category operations
 * @since 0.1.0
 */
export const acquire = (c: Condition, options?: Lock.AcquireOptions): Effect.Effect<boolean, Lock.LockError> => Lock.acquire(c.lock, options)

/**
 * Releases the condition's lock.
 *
 * Python equivalent: `cond.release()`.
 *
 * @example
 * ```ts
 * import { Condition } from "@multiproc/primitives"
 * declare const cond: Condition.Condition
 * const done = Condition.release(cond)
 * ```
 * @category operations
 * @since 0.1.0
 */
export const release = (c: Condition, options?: OwnerOptions): Effect.Effect<void, Lock.LockError> => Lock.release(c.lock, options)

/**
 * Runs an effect holding the condition's lock.
 *
 * Python equivalent: `with cond: ...`.
 *
 * @example
 * ```ts
 * import { Condition } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const cond: Condition.Condition
 * const signal = Condition.withLock(cond, Condition.notifyAll(cond))
 * ```
 * @category combinators
 * @since 0.1.0
 */
export const withLock: {
  (c: Condition, options?: OwnerOptions): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | Lock.LockError, R>
  <A, E, R>(c: Condition, self: Effect.Effect<A, E, R>, options?: OwnerOptions): Effect.Effect<A, E | Lock.LockError, R>
} = dual(
  (args) => Effect.isEffect(args[1]),
  <A, E, R>(c: Condition, self: Effect.Effect<A, E, R>, options?: OwnerOptions) => Lock.withLock(c.lock, self, options)
)

const notOwner = (what: string) =>
  Effect.fail(new ConditionError({ reason: "NotOwner", message: `cannot ${what} on un-acquired lock` }))

const ownerOf = (options: OwnerOptions | undefined): Effect.Effect<number> =>
  options?.owner !== undefined ? Effect.succeed(options.owner) : Effect.withFiber((f) => Effect.succeed(f.id))

/**
 * Releases the lock, waits for a notification, and re-acquires the lock (also when interrupted);
 * `false` if the timeout passed first.
 *
 * Python equivalent: `cond.wait(timeout=None)`.
 *
 * @example
 * ```ts
 * import { Condition } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const cond: Condition.Condition
 * const woke = Condition.withLock(cond, Condition.wait(cond, "1 second"))
 * ```
 * @category operations
 * @since 0.1.0
 */
export const wait = (
  c: Condition,
  timeout?: Duration.Input,
  options?: OwnerOptions
): Effect.Effect<boolean, ConditionError | Lock.LockError> =>
  badTimeout(timeout) ?? Effect.flatMap(ownerOf(options), (owner) => {
    const lock = c.lock
    const local = P.localOf(lock)
    const mine = lock.kind === "RLock" ? local.owner === owner && local.depth > 0 : P.heldHere(lock) > 0
    if (!mine) return notOwner("wait")
    const lockErrors: P.Errors<Lock.LockError> = {
      tooMany: (message) => new Lock.LockError({ reason: "NotLocked", message }),
      ownerDied: (message) => new Lock.LockError({ reason: "OwnerDied", message }),
      gone: (message) => new Lock.LockError({ reason: "Gone", message })
    }
    return Effect.uninterruptibleMask((restore) =>
      Effect.gen(function*() {
        const id = yield* ask<number>(c, { op: "enter" })
        const depth = local.depth
        if (lock.kind === "RLock") {
          local.owner = undefined
          local.depth = 0
        }
        yield* P.release(lock, lockErrors)
        // A waiting wait keeps this process alive, as Python's blocked thread does (the notifier
        // may be a daemonic child, which does not).
        const woke = yield* Effect.exit(
          restore(whileWaiting(ask<boolean>(c, { op: "sleep", id, timeout: P.timeoutMillis(true, timeout) })))
        )
        yield* P.acquire(lock, -1, lockErrors)
        if (lock.kind === "RLock") {
          local.owner = owner
          local.depth = depth
        }
        return yield* woke
      })
    )
  })

// Python's TypeError "'str' object is not callable" at the call, not a defect from inside the loop.
const badPredicate = (predicate: unknown): Effect.Effect<never, ConditionError> | undefined =>
  Effect.isEffect(predicate)
    ? undefined
    : Effect.fail(new ConditionError({ reason: "InvalidArgument", message: `predicate must be an Effect, got ${describe(predicate)}` }))

/**
 * Waits until `predicate` succeeds with `true` (checked first, then after every notification);
 * returns the last value of the predicate (`false` if the timeout passed first).
 *
 * Python equivalent: `cond.wait_for(predicate, timeout=None)`.
 *
 * @example
 * ```ts
 * import { Condition, Event } from "@multiproc/primitives"
 * declare const cond: Condition.Condition
 * declare const done: Event.Event
 * const ready = Condition.waitFor(cond, Event.isSet(done), "5 seconds")
 * ```
 * @category operations
 * @since 0.1.0
 */
export const waitFor = <E, R>(
  c: Condition,
  predicate: Effect.Effect<boolean, E, R>,
  timeout?: Duration.Input,
  options?: OwnerOptions
): Effect.Effect<boolean, E | ConditionError | Lock.LockError, R> =>
  badTimeout(timeout) ?? badPredicate(predicate) ?? Effect.gen(function*() {
    const deadline = timeout == null ? undefined : Date.now() + Duration.toMillis(timeout)
    let result = yield* predicate
    while (!result) {
      let wait_: Duration.Input | undefined = undefined
      if (deadline !== undefined) {
        const left = deadline - Date.now()
        if (left <= 0) break
        wait_ = left
      }
      yield* wait(c, wait_, options)
      result = yield* predicate
    }
    return result
  })

/**
 * Wakes up to `n` waiters (default 1); must hold the lock. Returns how many were woken.
 *
 * Python equivalent: `cond.notify(n=1)`.
 *
 * @example
 * ```ts
 * import { Condition } from "@multiproc/primitives"
 * declare const cond: Condition.Condition
 * const wakeTwo = Condition.withLock(cond, Condition.notify(cond, 2))
 * ```
 * @category operations
 * @since 0.1.0
 */
export const notify = (c: Condition, n = 1, options?: OwnerOptions): Effect.Effect<number, ConditionError> =>
  // Python's notify(n) takes a count: NaN, -1 or "x" are refused there, not read as zero.
  typeof n !== "number" || Number.isNaN(n) || n < 0 || (n !== Infinity && !Number.isInteger(n))
    ? Effect.fail(new ConditionError({ reason: "InvalidArgument", message: `n must be an integer >= 0, got ${describe(n)}` }))
    : Effect.flatMap(Lock.isMine(c.lock, options ?? {}), (mine) => mine ? ask<number>(c, { op: "notify", n }) : notOwner("notify"))

/**
 * Wakes every waiter; must hold the lock.
 *
 * Python equivalent: `cond.notify_all()`.
 *
 * @example
 * ```ts
 * import { Condition } from "@multiproc/primitives"
 * declare const cond: Condition.Condition
 * const wakeAll = Condition.withLock(cond, Condition.notifyAll(cond))
 * ```
 * @category operations
 * @since 0.1.0
 */
export const notifyAll = (c: Condition, options?: OwnerOptions): Effect.Effect<number, ConditionError> =>
  Effect.flatMap(Lock.isMine(c.lock, options ?? {}), (mine) => mine ? ask<number>(c, { op: "notify", n: -1 }) : notOwner("notify"))
