/**
 * Event: a flag that processes can set, clear and wait for.
 *
 * An actor in the creating process holds the flag and the waiters (timeouts run there); worker
 * threads of the creator's OS process read the flag from shared memory, so `isSet` and a `wait` on
 * a set event cost no message.
 *
 * Python equivalent: `multiprocessing.Event`.
 *
 * @since 0.1.0
 */
import * as Actor from "@multiproc/runtime/Actor"
import * as Codec from "@multiproc/runtime/Codec"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { whileWaiting } from "./internal/alive.ts"
import { timeoutMillis } from "./internal/permits.ts"
import { timeoutProblem } from "./internal/args.ts"

/**
 * An event that cannot be reached.
 *
 * - `Gone`: the event's actor is unreachable (its creating process ended or closed it).
 * - `InvalidArgument`: a bad timeout (Python's ValueError / TypeError).
 *
 * @example
 * ```ts
 * import { Event } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const safe = (e: Event.Event) => Event.isSet(e).pipe(Effect.catchTag("EventError", () => Effect.succeed(false)))
 * ```
 * @category errors
 * @since 0.1.0
 */
export class EventError extends Schema.TaggedError<EventError>()("EventError", {
  reason: Schema.Literals(["Gone", "InvalidArgument"]),
  message: Schema.String
}) {}

Codec.registerError(EventError)

const Message = Schema.Union([
  Schema.Struct({ op: Schema.Literals(["set", "clear", "isSet"]) }),
  Schema.Struct({ op: Schema.Literal("wait"), timeout: Schema.Number })
])

/**
 * An event handle: plain data that crosses to any process.
 *
 * Python equivalent: a `multiprocessing.Event` instance.
 *
 * @category models
 * @since 0.1.0
 *
 * @example
 * ```ts
 * import { Event } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const e = yield* Event.make()
 *   yield* Event.set(e)
 *   return yield* Event.wait(e) // true
 * }))
 * ```
 */
export class Event {
  readonly ref: Actor.ActorRef<typeof Message.Encoded>
  readonly sab: SharedArrayBuffer | undefined
  readonly flag: Int32Array | undefined
  constructor(ref: Actor.ActorRef<any>, sab: SharedArrayBuffer | undefined) {
    this.ref = ref
    this.sab = sab
    this.flag = sab ? new Int32Array(sab) : undefined
  }
  /**
   * Python's repr, `<Event at main/7 unset>`, with the actor's address where Python prints `id()`.
   * The flag is read synchronously, so where it is not shared (a process-backend child) the state
   * prints `unknown`.
   */
  toString(): string {
    const state = this.flag === undefined ? "unknown" : Atomics.load(this.flag, 0) === 1 ? "set" : "unset"
    return `<Event at ${this.ref.address || "main"}/${this.ref.port} ${state}>`
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString()
  }
}

Codec.register<Event>({
  tag: "multiproc/Event",
  Class: Event,
  encode: (e, ctx) => [e.ref.address, e.ref.port, ctx.shared && e.sab ? e.sab : null],
  decode: ([address, port, sab]: [string, number, SharedArrayBuffer | null]) => new Event({ address, port }, sab ?? undefined)
})

const gone = (e: unknown): Effect.Effect<never, EventError> =>
  e instanceof Actor.ActorError
    ? Effect.fail(new EventError({ reason: "Gone", message: `the event is unreachable: ${e.message}` }))
    : Effect.die(e)

const ask = <A>(e: Event, message: typeof Message.Encoded): Effect.Effect<A, EventError> =>
  Actor.ask<typeof Message.Encoded, A, never>(e.ref, message).pipe(Effect.catch(gone))

/**
 * Creates an event (initially clear) owned by the current Scope.
 *
 * Python equivalent: `multiprocessing.Event()`.
 *
 * @example
 * ```ts
 * import { Event } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const ready = yield* Event.make()
 *   yield* Event.set(ready)
 *   return yield* Event.wait(ready) // true
 * }))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const make = (): Effect.Effect<Event, never, Scope.Scope> =>
  Effect.suspend(() => {
    const sab = new SharedArrayBuffer(4)
    const flag = new Int32Array(sab)
    const waiters = new Set<{ request: Actor.Request; timer: ReturnType<typeof setTimeout> | undefined }>()
    return Actor.make(Message, {
      receive: (m, request) => {
        switch (m.op) {
          case "set": {
            Atomics.store(flag, 0, 1)
            for (const w of waiters) {
              if (w.timer !== undefined) clearTimeout(w.timer)
              w.request.reply(true)
            }
            waiters.clear()
            return request.reply(undefined)
          }
          case "clear":
            Atomics.store(flag, 0, 0)
            return request.reply(undefined)
          case "isSet":
            return request.reply(Atomics.load(flag, 0) === 1)
          case "wait": {
            if (Atomics.load(flag, 0) === 1) return request.reply(true)
            if (m.timeout === 0) return request.reply(false)
            const w = { request, timer: undefined as ReturnType<typeof setTimeout> | undefined }
            waiters.add(w)
            if (m.timeout > 0) {
              w.timer = setTimeout(() => {
                waiters.delete(w)
                request.reply(false)
              }, m.timeout)
            }
            request.onCancel(() => {
              waiters.delete(w)
              if (w.timer !== undefined) clearTimeout(w.timer)
            })
            return
          }
        }
      }
    }).pipe(
      Effect.tap(() =>
        Effect.addFinalizer(() =>
          Effect.sync(() => {
            for (const w of waiters) {
              if (w.timer !== undefined) clearTimeout(w.timer)
              w.request.fail(new EventError({ reason: "Gone", message: "the event was closed" }))
            }
            waiters.clear()
          })
        )
      ),
      Effect.map((ref) => new Event(ref, sab))
    )
  })

/**
 * Sets the flag and wakes every waiter.
 *
 * Python equivalent: `event.set()`.
 *
 * @example
 * ```ts
 * import { Event } from "@multiproc/primitives"
 * declare const e: Event.Event
 * const go = Event.set(e)
 * ```
 * @category operations
 * @since 0.1.0
 */
export const set = (e: Event): Effect.Effect<void, EventError> => ask(e, { op: "set" })

/**
 * Clears the flag.
 *
 * Python equivalent: `event.clear()`.
 *
 * @example
 * ```ts
 * import { Event } from "@multiproc/primitives"
 * declare const e: Event.Event
 * const reset = Event.clear(e)
 * ```
 * @category operations
 * @since 0.1.0
 */
export const clear = (e: Event): Effect.Effect<void, EventError> => ask(e, { op: "clear" })

/**
 * Whether the flag is set.
 *
 * Python equivalent: `event.is_set()`.
 *
 * @example
 * ```ts
 * import { Event } from "@multiproc/primitives"
 * declare const e: Event.Event
 * const on = Event.isSet(e)
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const isSet = (e: Event): Effect.Effect<boolean, EventError> =>
  e.flag ? Effect.sync(() => Atomics.load(e.flag!, 0) === 1) : ask(e, { op: "isSet" })

/**
 * Waits until the flag is set; returns the flag (`false` if the timeout passed first).
 *
 * Python equivalent: `event.wait(timeout=None)`.
 *
 * @example
 * ```ts
 * import { Event } from "@multiproc/primitives"
 * declare const e: Event.Event
 * const within = Event.wait(e, "1 second")
 * ```
 * @category operations
 * @since 0.1.0
 */
export const wait = (e: Event, timeout?: Duration.Input): Effect.Effect<boolean, EventError> =>
  Effect.suspend(() => {
    const bad = timeoutProblem(timeout)
    if (bad !== undefined) return Effect.fail(new EventError({ reason: "InvalidArgument", message: bad }))
    if (e.flag && Atomics.load(e.flag, 0) === 1) return Effect.succeed(true)
    // A waiting wait keeps this process alive, as Python's blocked thread does.
    return whileWaiting(ask<boolean>(e, { op: "wait", timeout: timeoutMillis(true, timeout) }))
  })
