/**
 * Barrier: `parties` processes wait until all of them have arrived, then all go on together.
 *
 * An actor in the creating process counts arrivals, runs the optional action once per pass
 * (before anyone is released) and breaks the barrier for everyone on `abort`, `reset`, a timeout,
 * a failing action, or a party that gives up or dies while waiting (Python would leave the others
 * hanging on a dead party until their timeout, or forever).
 *
 * Python equivalent: `multiprocessing.Barrier` (`threading.Barrier`).
 *
 * @since 0.1.0
 */
import * as Actor from "@multiproc/runtime/Actor"
import * as Codec from "@multiproc/runtime/Codec"
import * as Cause from "effect/Cause"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { whileWaiting } from "./internal/alive.ts"
import { timeoutMillis } from "./internal/permits.ts"
import { describe, intProblem, timeoutProblem } from "./internal/args.ts"

/**
 * The barrier is broken (Python's `BrokenBarrierError`), or unreachable.
 *
 * - `Broken`: aborted, reset, timed out, its action failed, or a party left; `why` says which.
 * - `ActionFailed` (`why: "action"`): the action failed at this party's pass, and this party is
 *   the one whose arrival ran it (the last to arrive); the action's error (or defect) is `cause`.
 *   Python raises the action's own exception from that thread's `wait()`; the others of the pass,
 *   and later arrivals, get `Broken` (`why: "action"`), Python's `BrokenBarrierError`.
 * - `Gone`: the barrier's actor is unreachable.
 * - `InvalidArgument` (`why: "argument"`): bad parties, action or timeout (Python's ValueError).
 *
 * @example
 * ```ts
 * import { Barrier } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const pass = (b: Barrier.Barrier) =>
 *   Barrier.wait(b).pipe(Effect.catchTag("BarrierError", (e) => Effect.succeed(-1)))
 * ```
 * @category errors
 * @since 0.1.0
 */
export class BarrierError extends Schema.TaggedError<BarrierError>()("BarrierError", {
  reason: Schema.Literals(["Broken", "ActionFailed", "Gone", "InvalidArgument"]),
  why: Schema.Literals(["abort", "reset", "timeout", "action", "left", "gone", "argument"]),
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

Codec.registerError(BarrierError)

const Message = Schema.Union([
  Schema.Struct({ op: Schema.Literal("wait"), timeout: Schema.Number }),
  Schema.Struct({ op: Schema.Literals(["abort", "reset", "state"]) })
])
type Message = typeof Message.Type

/**
 * A barrier handle: plain data that crosses to any process.
 *
 * Python equivalent: a `multiprocessing.Barrier` instance.
 *
 * @category models
 * @since 0.1.0
 *
 * @example
 * ```ts
 * import { Barrier } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const b = yield* Barrier.make(2)
 *   const [i, j] = yield* Effect.all([Barrier.wait(b), Barrier.wait(b)], { concurrency: 2 })
 *   return [i, j].sort() // [0, 1]
 * }))
 * ```
 */
export class Barrier {
  readonly ref: Actor.ActorRef<typeof Message.Encoded>
  /** The number of parties needed to pass (Python's `parties`). */
  readonly parties: number
  constructor(ref: Actor.ActorRef<any>, parties: number) {
    this.ref = ref
    this.parties = parties
  }
}

Codec.register<Barrier>({
  tag: "multiproc/Barrier",
  Class: Barrier,
  encode: (b) => [b.ref.address, b.ref.port, b.parties],
  decode: ([address, port, parties]: [string, number, number]) => new Barrier({ address, port }, parties)
})

/** Options of {@link make}. */
export interface Options {
  readonly parties: number
  /** Runs once per pass in the creating process, after the last party arrived and before any is
   * released; if it fails the barrier breaks: the last party's `wait` fails with `ActionFailed`
   * (the action's error as `cause`), the others with `Broken`. */
  readonly action?: Effect.Effect<unknown, unknown> | undefined
  /** The default timeout of {@link wait}. */
  readonly timeout?: Duration.Input | undefined
}

const gone = (e: unknown): Effect.Effect<never, BarrierError> =>
  e instanceof Actor.ActorError
    ? Effect.fail(new BarrierError({ reason: "Gone", why: "gone", message: `the barrier is unreachable: ${e.message}` }))
    : e instanceof BarrierError
    ? Effect.fail(e)
    : Effect.die(e)

const ask = <A>(b: Barrier, message: typeof Message.Encoded): Effect.Effect<A, BarrierError> =>
  Actor.ask<typeof Message.Encoded, A, BarrierError>(b.ref, message).pipe(Effect.catch(gone))

const brokenError = (why: BarrierError["why"]) =>
  new BarrierError({
    reason: "Broken",
    why,
    message: why === "left"
      ? "the barrier is broken: a party gave up or died while waiting"
      : why === "action"
      ? "the barrier is broken: its action failed"
      : `the barrier is broken (${why})`
  })

const actionFailed = (cause: unknown) =>
  new BarrierError({
    reason: "ActionFailed",
    why: "action",
    message: `the barrier's action failed: ${cause instanceof Error ? cause.message : String(cause)}`,
    cause
  })

interface Party {
  readonly request: Actor.Request
  readonly index: number
  timer: ReturnType<typeof setTimeout> | undefined
}

/**
 * Creates a barrier for `parties` parties, owned by the current Scope (a number is Python's
 * positional `parties`: `Barrier.make(3)`).
 *
 * Python equivalent: `multiprocessing.Barrier(parties, action=None, timeout=None)`.
 *
 * @example
 * ```ts
 * import { Barrier } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const b = yield* Barrier.make({ parties: 1, action: Effect.log("all here") })
 *   return yield* Barrier.wait(b) // 0
 * }))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const make = (input: Options | number): Effect.Effect<Barrier, BarrierError, Scope.Scope> =>
  Effect.gen(function*() {
    // Python's Barrier(3): a number is the positional parties (it was read as an object without them).
    const options: Options = typeof input === "number" ? { parties: input } : input
    const parties = options.parties
    // Python's ValueError("parties must be >= 1"), as a typed failure rather than a defect.
    const bad = intProblem(parties, "parties", 1) ?? timeoutProblem(options.timeout) ??
      (options.action === undefined || Effect.isEffect(options.action) ? undefined : `action must be an Effect, got ${describe(options.action)}`)
    if (bad !== undefined) return yield* Effect.fail(new BarrierError({ reason: "InvalidArgument", why: "argument", message: bad }))
    const context = yield* Effect.context<never>()
    const defaultTimeout = options.timeout === undefined ? -1 : timeoutMillis(true, options.timeout)
    let waiting: Array<Party> = []
    let isBroken = false
    // What broke it, told to those who arrive later as well.
    let brokenWhy: BarrierError["why"] = "abort"
    let draining = false
    let early: Array<[Message & { op: "wait" }, Actor.Request]> = []

    // The state is settled before anyone is told: a party in this process may arrive again from
    // inside `fail` (a fiber that catches the error and waits again), and must see the new state.
    const failWaiting = (why: BarrierError["why"]): void => {
      const parties_ = waiting
      waiting = []
      for (const p of parties_) {
        if (p.timer !== undefined) clearTimeout(p.timer)
        p.request.fail(brokenError(why))
      }
    }
    const breakWith = (why: BarrierError["why"]): void => {
      isBroken = true
      brokenWhy = why
      failWaiting(why)
    }
    const releaseAll = (): void => {
      const parties_ = waiting
      waiting = []
      for (const p of parties_) {
        if (p.timer !== undefined) clearTimeout(p.timer)
        p.request.reply(p.index)
      }
      draining = false
      const queued = early
      early = []
      for (const [m, r] of queued) arrive(m, r)
    }
    const arrive = (m: Message & { op: "wait" }, request: Actor.Request): void => {
      if (draining) {
        early.push([m, request])
        return
      }
      if (isBroken) return request.fail(brokenError(brokenWhy))
      const party: Party = { request, index: waiting.length, timer: undefined }
      waiting.push(party)
      if (waiting.length === parties) {
        if (!options.action) return releaseAll()
        draining = true
        const fiber = Effect.runForkWith(context)(options.action)
        fiber.addObserver((exit) => {
          if (Exit.isSuccess(exit)) return releaseAll()
          draining = false
          // Python: the party that ran the action gets its error, the others BrokenBarrierError.
          // (It may be gone already: an abort or reset while the action ran told it.)
          const i = waiting.indexOf(party)
          if (i >= 0) waiting.splice(i, 1)
          breakWith("action")
          if (i >= 0) party.request.fail(actionFailed(Cause.squash(exit.cause)))
          const queued = early
          early = []
          for (const [m2, r2] of queued) arrive(m2, r2)
        })
        return
      }
      const timeout = m.timeout === -2 ? defaultTimeout : m.timeout
      if (timeout === 0) return breakWith("timeout")
      if (timeout > 0) party.timer = setTimeout(() => breakWith("timeout"), timeout)
      request.onCancel(() => {
        const i = waiting.indexOf(party)
        if (i < 0) return
        waiting.splice(i, 1)
        if (party.timer !== undefined) clearTimeout(party.timer)
        breakWith("left")
      })
    }

    const ref = yield* Actor.make(Message, {
      receive: (m, request) => {
        switch (m.op) {
          case "wait":
            return arrive(m, request)
          case "abort":
            breakWith("abort")
            return request.reply(undefined)
          case "reset":
            // Those waiting now fail; the barrier itself is not broken (Python's resetting state).
            isBroken = false
            failWaiting("reset")
            return request.reply(undefined)
          case "state":
            return request.reply([isBroken, draining ? 0 : waiting.length])
        }
      }
    })
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        const all = waiting
        waiting = []
        for (const p of all) {
          if (p.timer !== undefined) clearTimeout(p.timer)
          p.request.fail(new BarrierError({ reason: "Gone", why: "gone", message: "the barrier was closed" }))
        }
      })
    )
    return new Barrier(ref, parties)
  })

/**
 * Waits for all parties; returns this party's arrival index (0 .. parties-1, distinct, exactly one 0).
 * Fails with `BarrierError` `Broken` if the barrier is or becomes broken (the timeout breaks it),
 * or `ActionFailed` (the action's error as `cause`) if this party's arrival ran a failing action.
 * Without a timeout (`undefined` or `null`, Python's None) the barrier's own timeout applies.
 *
 * Python equivalent: `barrier.wait(timeout=None)`.
 *
 * @example
 * ```ts
 * import { Barrier } from "@multiproc/primitives"
 * declare const b: Barrier.Barrier
 * const index = Barrier.wait(b, "5 seconds")
 * ```
 * @category operations
 * @since 0.1.0
 */
export const wait = (b: Barrier, timeout?: Duration.Input): Effect.Effect<number, BarrierError> =>
  // A waiting party keeps this process alive, as Python's blocked thread does (the other parties
  // may be daemonic children, which do not).
  Effect.suspend(() => {
    const bad = timeoutProblem(timeout)
    return bad !== undefined
      ? Effect.fail(new BarrierError({ reason: "InvalidArgument", why: "argument", message: bad }))
      : whileWaiting(ask<number>(b, { op: "wait", timeout: timeout == null ? -2 : timeoutMillis(true, timeout) }))
  })

/**
 * Breaks the barrier: current and future waiters fail until {@link reset}.
 *
 * Python equivalent: `barrier.abort()`.
 *
 * @example
 * ```ts
 * import { Barrier } from "@multiproc/primitives"
 * declare const b: Barrier.Barrier
 * const stop = Barrier.abort(b)
 * ```
 * @category operations
 * @since 0.1.0
 */
export const abort = (b: Barrier): Effect.Effect<void, BarrierError> => ask(b, { op: "abort" })

/**
 * Returns the barrier to its initial state; parties waiting now fail with `Broken`.
 *
 * Python equivalent: `barrier.reset()`.
 *
 * @example
 * ```ts
 * import { Barrier } from "@multiproc/primitives"
 * declare const b: Barrier.Barrier
 * const again = Barrier.reset(b)
 * ```
 * @category operations
 * @since 0.1.0
 */
export const reset = (b: Barrier): Effect.Effect<void, BarrierError> => ask(b, { op: "reset" })

/**
 * Whether the barrier is broken.
 *
 * Python equivalent: `barrier.broken`.
 *
 * @example
 * ```ts
 * import { Barrier } from "@multiproc/primitives"
 * declare const b: Barrier.Barrier
 * const isBroken = Barrier.broken(b)
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const broken_ = (b: Barrier): Effect.Effect<boolean, BarrierError> =>
  Effect.map(ask<[boolean, number]>(b, { op: "state" }), ([x]) => x)

export { broken_ as broken }

/**
 * How many parties are waiting now.
 *
 * Python equivalent: `barrier.n_waiting`.
 *
 * @example
 * ```ts
 * import { Barrier } from "@multiproc/primitives"
 * declare const b: Barrier.Barrier
 * const n = Barrier.nWaiting(b)
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const nWaiting = (b: Barrier): Effect.Effect<number, BarrierError> =>
  Effect.map(ask<[boolean, number]>(b, { op: "state" }), ([, n]) => n)
