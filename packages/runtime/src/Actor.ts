/**
 * The actor kernel: a protocol (a Schema of messages) plus one handler holding the state, living
 * in the process that created it and reachable from every process of the tree by its reference.
 *
 * - Messages are decoded with the protocol's Schema where they arrive: a malformed message is
 *   answered with a typed `BadMessage` error and the actor goes on.
 * - `ask` is interruptible: the actor hears `onCancel` while the request waits, or `abandoned` if
 *   its reply crossed the cancellation (so a lock granted to a waiter that gave up is released),
 *   unless the requesting process took that reply itself (`askUnsafe`'s `onLate`).
 * - The actor hears `down(address)` when a process dies, so state owned by the dead (a held lock,
 *   a semaphore permit) can be recovered; asks to an actor whose process died fail with
 *   `OwnerDied` instead of hanging.
 *
 * The same protocol serves threads, processes and, later, the cluster (`effect/cluster` entities).
 *
 * Python equivalent: the server side of `multiprocessing.managers` (one object, one owner).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { fromCodecError, type SerializationError } from "./Codec.ts"
import { CodecError, registerErrorClass } from "./internal/codec.ts"
import { MeasuredPath, REPLY_POLL_MS, stayAwake, stayAwakeWhile } from "./internal/awake.ts"
import * as kernel from "./internal/kernel.ts"

/**
 * Why an actor could not answer.
 *
 * @example
 * ```ts
 * import { Actor } from "@multiproc/runtime"
 * import { Effect } from "effect"
 * const safe = <A>(ask: Effect.Effect<A, Actor.ActorError>) =>
 *   ask.pipe(Effect.catchTag("ActorError", (e) => Effect.succeed(e.reason)))
 * ```
 * @category errors
 * @since 0.1.0
 */
export class ActorError extends Schema.TaggedError<ActorError>()("ActorError", {
  reason: Schema.Literals(["BadMessage", "OwnerDied", "Unreachable"]),
  message: Schema.String
}) {}

registerErrorClass(ActorError)

/**
 * The address of an actor: plain data, so it crosses to any process as is.
 *
 * @category models
 * @since 0.1.0
 */
export interface ActorRef<in M = unknown> {
  readonly address: string
  readonly port: number
  readonly "~message"?: (m: M) => void
}

/**
 * One request as the actor sees it.
 *
 * @category models
 * @since 0.1.0
 */
export interface Request {
  /** The address of the requesting process. */
  readonly from: string
  /** Unique across the tree: `from#n`. */
  readonly id: string
  /** Whether a reply (or failure) was sent. */
  readonly done: boolean
  readonly reply: (value: unknown) => void
  readonly fail: (error: unknown) => void
  /** Runs if the requester gives up before the reply. */
  readonly onCancel: (f: () => void) => void
}

/**
 * The state machine of an actor. `receive` runs once per message, in order, synchronously.
 *
 * @category models
 * @since 0.1.0
 */
export interface Behavior<M> {
  readonly receive: (message: M, request: Request) => void
  /** A process died (with everything below it): recover what it owned. */
  readonly down?: ((address: string) => void) | undefined
  /** A reply reached a requester that had already given up (and its process did not take it, see `askUnsafe`): undo what it granted. */
  readonly abandoned?: ((message: M, value: unknown, request: { readonly from: string; readonly id: string }) => void) | undefined
}

const REQ = 0
const TELL = 1
const CANCEL = 2
const ABANDON = 3
const REPLY = 9

const OK = 0
const ERR = 1

// ---- the client side: one reply port per process --------------------------------------------

interface Waiting {
  readonly dest: string
  readonly message: unknown
  readonly resume: (status: number, value: unknown) => void
}

const noop = () => {}

let replyPort = 0
let nextRequest = 0
const waiting = new Map<number, Waiting>()
const cancelled = new Map<number, { dest: string; port: number; message: unknown; onLate: ((ok: boolean, value: unknown) => boolean) | undefined }>()

const ensureReplyPort = (): number => {
  if (replyPort !== 0) return replyPort
  replyPort = kernel.openPort((body) => {
    const m = body as [number, number, number, unknown]
    if (m[0] !== REPLY) return
    const w = waiting.get(m[1])
    if (w) {
      waiting.delete(m[1])
      w.resume(m[2], m[3])
      return
    }
    const c = cancelled.get(m[1])
    if (c) {
      cancelled.delete(m[1])
      if (c.onLate !== undefined && c.onLate(m[2] === OK, m[3])) return
      if (m[2] === OK) {
        try {
          kernel.send(c.dest, c.port, [ABANDON, m[1], c.message, m[3]])
        } catch {
          // the actor is gone; nothing to undo
        }
      }
    }
  })
  kernel.onDown((dead) => {
    for (const [id, w] of waiting) {
      if (kernel.isAtOrBelow(w.dest, dead)) {
        waiting.delete(id)
        w.resume(ERR, new ActorError({ reason: "OwnerDied", message: `the process owning the actor (${w.dest || "main"}) has died` }))
      }
    }
    for (const [id, c] of cancelled) if (kernel.isAtOrBelow(c.dest, dead)) cancelled.delete(id)
  })
  return replyPort
}

kernel.setOnUndeliverable((dest, _port, body, from) => {
  const m = body as Array<unknown>
  if (!Array.isArray(m) || m[0] !== REQ) return
  try {
    kernel.send(from, m[2] as number, [
      REPLY,
      m[1],
      ERR,
      new ActorError({ reason: "Unreachable", message: `no actor is listening at ${dest || "main"}:${_port}` })
    ])
  } catch {
    // the requester is gone too
  }
})

const sendOrFail = (dest: string, port: number, body: unknown, later = false): SerializationError | undefined => {
  try {
    kernel.send(dest, port, body, later)
    return undefined
  } catch (e) {
    if (e instanceof CodecError) return fromCodecError(e)
    throw e
  }
}

/**
 * Sends a request and waits for the reply. Interrupting the ask cancels the request. Whether the
 * asker polls for the reply (see {@link askUnsafe}'s `awake`) is measured per actor ref.
 *
 * Python equivalent: `BaseProxy._callmethod`.
 *
 * @example
 * ```ts
 * import { Actor } from "@multiproc/runtime"
 * declare const counter: Actor.ActorRef<{ readonly op: "incr" }>
 * const next = Actor.ask(counter, { op: "incr" })
 * ```
 * @category requests
 * @since 0.1.0
 */
export const ask = <M, A = unknown, E = never>(
  ref: ActorRef<M>,
  message: M
): Effect.Effect<A, E | ActorError | SerializationError> =>
  Effect.callback<A, E | ActorError | SerializationError>((resume) => {
    const cancel = askUnsafe(ref, message, (ok, value) => resume(ok ? Effect.succeed(value as A) : Effect.fail(value as E)), undefined, "measure")
    return Effect.sync(cancel)
  })

/** The asks of this process to each actor (by its ref object), whose polling is measured. */
const paths = new WeakMap<ActorRef<any>, MeasuredPath>()

const askMeasured = <M>(
  ref: ActorRef<M>,
  message: M,
  onReply: (ok: boolean, value: unknown) => void,
  onLate: ((ok: boolean, value: unknown) => boolean) | undefined
): () => void => {
  let path = paths.get(ref)
  if (path === undefined) paths.set(ref, path = new MeasuredPath())
  return path.request((awake, reply) => askUnsafe(ref, message, reply, onLate, awake), onReply)
}

/**
 * The callback form of {@link ask}, for protocols layered on actors that keep their own
 * bookkeeping per request (one Effect per request instead of several): `onReply(true, value)` or
 * `onReply(false, error)` runs exactly once unless the returned function cancels the request first.
 * A message that cannot be encoded answers `SerializationError` synchronously. A reply that
 * arrives after the request was cancelled goes to `onLate(ok, value)` if given: `true` means it
 * was taken here (handed to another waiter of this process, say); otherwise, or `false`, the
 * actor hears `abandoned` with a successful one, as usual. `awake`: this thread polls for the
 * reply for a moment instead of sleeping, and the actor's thread stays awake as long after
 * answering (a requester that awaits each reply sends its next request at once), which saves the
 * OS wake-ups of a round trip when there are idle cores; `"measure"`: decided per actor ref by
 * timing the asks both ways (`ReplyPolling`), as {@link ask} does.
 *
 * Python equivalent: the send and receive halves of `BaseProxy._callmethod`.
 *
 * @example
 * ```ts
 * import { Actor } from "@multiproc/runtime"
 * declare const counter: Actor.ActorRef<{ readonly op: "incr" }>
 * const cancel = Actor.askUnsafe(counter, { op: "incr" }, (ok, value) => console.log(ok, value))
 * ```
 * @category requests
 * @since 0.1.0
 */
export const askUnsafe = <M>(
  ref: ActorRef<M>,
  message: M,
  onReply: (ok: boolean, value: unknown) => void,
  onLate?: (ok: boolean, value: unknown) => boolean,
  awake?: boolean | "measure"
): () => void => {
  if (awake === "measure") return askMeasured(ref, message, onReply, onLate)
  const port = ensureReplyPort()
  const id = ++nextRequest
  waiting.set(id, { dest: ref.address, message, resume: (status, value) => onReply(status === OK, value) })
  const error = sendOrFail(ref.address, ref.port, awake === true ? [REQ, id, port, message, 1] : [REQ, id, port, message])
  if (error) {
    waiting.delete(id)
    onReply(false, error)
    return noop
  }
  if (awake === true && waiting.has(id)) stayAwakeWhile(REPLY_POLL_MS, () => waiting.has(id))
  return () => {
    if (!waiting.delete(id)) return
    cancelled.set(id, { dest: ref.address, port: ref.port, message, onLate })
    try {
      kernel.send(ref.address, ref.port, [CANCEL, id])
    } catch {
      // gone already
    }
  }
}

/**
 * Sends a message without waiting for an answer.
 *
 * @example
 * ```ts
 * import { Actor } from "@multiproc/runtime"
 * declare const log: Actor.ActorRef<string>
 * const program = Actor.tell(log, "hello")
 * ```
 * @category requests
 * @since 0.1.0
 */
export const tell = <M>(ref: ActorRef<M>, message: M): Effect.Effect<void, SerializationError> =>
  Effect.suspend(() => {
    const error = sendOrFail(ref.address, ref.port, [TELL, message])
    return error ? Effect.fail(error) : Effect.void
  })

/**
 * {@link tell}, but the message leaves with whatever else this process sends before the end of
 * the current tick, instead of at once: for a message nobody waits on (a lock's release), so that
 * a request that follows it in the same tick travels in the same write (one OS write and one
 * wake-up of the actor's thread instead of two). Order is kept.
 *
 * Python equivalent: none.
 *
 * @example
 * ```ts
 * import { Actor } from "@multiproc/runtime"
 * declare const log: Actor.ActorRef<string>
 * const program = Actor.tellLater(log, "released")
 * ```
 * @category requests
 * @since 0.2.0
 */
export const tellLater = <M>(ref: ActorRef<M>, message: M): Effect.Effect<void, SerializationError> =>
  Effect.suspend(() => {
    const error = sendOrFail(ref.address, ref.port, [TELL, message], true)
    return error ? Effect.fail(error) : Effect.void
  })

// ---- the owner side -------------------------------------------------------------------------

/** A request the actor has not answered yet (one object per request, no closures). */
class OpenRequest implements Request {
  readonly from: string
  readonly n: number
  readonly replyTo: number
  done = false
  /** The requester polls for the reply: stay awake after answering (see `askUnsafe`). */
  awake = false
  private onCancelled: () => void = noop
  private readonly answer: (from: string, replyTo: number, id: number, status: number, value: unknown) => void
  private readonly forget: (r: OpenRequest) => void
  constructor(
    from: string,
    n: number,
    replyTo: number,
    answer: (from: string, replyTo: number, id: number, status: number, value: unknown) => void,
    forget: (r: OpenRequest) => void
  ) {
    this.from = from
    this.n = n
    this.replyTo = replyTo
    this.answer = answer
    this.forget = forget
  }
  get id(): string {
    return `${this.from}#${this.n}`
  }
  reply(value: unknown): void {
    if (this.done) return
    this.done = true
    this.forget(this)
    this.answer(this.from, this.replyTo, this.n, OK, value)
    if (this.awake) stayAwake(REPLY_POLL_MS)
  }
  fail(error: unknown): void {
    if (this.done) return
    this.done = true
    this.forget(this)
    this.answer(this.from, this.replyTo, this.n, ERR, error)
    if (this.awake) stayAwake(REPLY_POLL_MS)
  }
  onCancel(f: () => void): void {
    this.onCancelled = f
  }
  cancel(): void {
    this.onCancelled()
  }
}


// Processes reported dead. A message of theirs can still arrive after the notice (a pipe drained
// after the exit event): an actor must not act on it, or it would grant a lock to the dead.
const deadProcesses = new Set<string>()
let watchingDeaths = false
const isFromDead = (from: string): boolean => {
  if (deadProcesses.size === 0) return false
  if (deadProcesses.has("")) return true
  let i = from.indexOf(":")
  while (i >= 0) {
    if (deadProcesses.has(from.slice(0, i))) return true
    i = from.indexOf(":", i + 1)
  }
  return deadProcesses.has(from)
}

/**
 * Starts an actor in this process for as long as the Scope lives.
 *
 * Python equivalent: registering a shared object with a manager server.
 *
 * @example
 * ```ts
 * import { Actor } from "@multiproc/runtime"
 * import { Effect, Schema } from "effect"
 * const Incr = Schema.Struct({ op: Schema.Literal("incr") })
 * const program = Effect.scoped(Effect.gen(function*() {
 *   let n = 0
 *   const ref = yield* Actor.make(Incr, { receive: (_, req) => req.reply(++n) })
 *   return yield* Actor.ask(ref, { op: "incr" }) // 1
 * }))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const make = <S extends Schema.Top>(
  protocol: S,
  behavior: Behavior<S["Type"]>
): Effect.Effect<ActorRef<S["Encoded"]>, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => makeUnsafe(protocol, behavior)),
    (handle) => Effect.sync(() => handle.close())
  ).pipe(Effect.map((h) => h.ref))

/** Options of {@link makeUnsafe}. */
export interface MakeOptions {
  /** A well-known (negative) port, so other processes can address the actor without a reference. */
  readonly port?: number | undefined
}

/** An actor started without a Scope. @internal */
export interface Handle<M> {
  readonly ref: ActorRef<M>
  readonly close: () => void
}

/**
 * Starts an actor without a Scope; call `close` when done.
 *
 * @example
 * ```ts
 * import { Actor } from "@multiproc/runtime"
 * import { Schema } from "effect"
 * const handle = Actor.makeUnsafe(Schema.String, { receive: (m, req) => req.reply(m.length) })
 * handle.close()
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const makeUnsafe = <S extends Schema.Top>(
  protocol: S,
  behavior: Behavior<S["Type"]>,
  options: MakeOptions = {}
): Handle<S["Encoded"]> => {
  // `Schema.Unknown` accepts anything: skip the parser (most served protocols validate further in).
  const decode = (protocol as Schema.Top).ast._tag === "Unknown"
    ? (u: unknown) => u as S["Type"]
    : Schema.decodeUnknownSync(protocol as any) as (u: unknown) => S["Type"]
  // Open requests by sender, then by the sender's request number (no key strings per request).
  const open = new Map<string, Map<number, OpenRequest>>()
  const answer = (from: string, replyTo: number, id: number, status: number, value: unknown): void => {
    try {
      kernel.send(from, replyTo, [REPLY, id, status, value])
    } catch (e) {
      // The reply itself cannot be encoded: tell the requester so.
      if (e instanceof CodecError) kernel.send(from, replyTo, [REPLY, id, ERR, fromCodecError(e)])
    }
  }
  // A sender's map stays once made (until its process dies): most senders ask again at once.
  const forget = (r: OpenRequest): void => {
    open.get(r.from)?.delete(r.n)
  }
  if (!watchingDeaths) {
    watchingDeaths = true
    kernel.onDown((dead) => {
      if (dead !== kernel.self.address) deadProcesses.add(dead)
    })
  }
  const port = kernel.openPort((body, from) => {
    const m = body as Array<any>
    if (isFromDead(from)) return
    switch (m[0]) {
      case REQ: {
        const id = m[1] as number
        const replyTo = m[2] as number
        let message: S["Type"]
        try {
          message = decode(m[3])
        } catch (e) {
          answer(from, replyTo, id, ERR, new ActorError({ reason: "BadMessage", message: String((e as Error)?.message ?? e) }))
          return
        }
        const request = new OpenRequest(from, id, replyTo, answer, forget)
        if (m[4] === 1) request.awake = true
        behavior.receive(message, request)
        // Only a request still open after `receive` can be cancelled or orphaned (nothing else
        // runs during `receive`): most are answered at once and never enter the table.
        if (!request.done) {
          let byId = open.get(from)
          if (byId === undefined) open.set(from, byId = new Map())
          byId.set(id, request)
        }
        return
      }
      case TELL: {
        let message: S["Type"]
        try {
          message = decode(m[1])
        } catch {
          return
        }
        behavior.receive(message, { from, id: `${from}#tell`, done: true, reply: noop, fail: noop, onCancel: noop })
        return
      }
      case CANCEL: {
        const entry = open.get(from)?.get(m[1])
        if (entry) {
          forget(entry)
          entry.cancel()
        }
        return
      }
      case ABANDON: {
        if (!behavior.abandoned) return
        let message: S["Type"]
        try {
          message = decode(m[2])
        } catch {
          return
        }
        behavior.abandoned(message, m[3], { from, id: `${from}#${m[1]}` })
        return
      }
    }
  }, options.port)
  const unsubscribe = kernel.onDown((dead) => {
    for (const [from, byId] of open) {
      if (!kernel.isAtOrBelow(from, dead)) continue
      open.delete(from)
      for (const entry of byId.values()) entry.cancel()
    }
    behavior.down?.(dead)
  })
  return {
    ref: { address: kernel.self.address, port },
    close: () => {
      kernel.closePort(port)
      unsubscribe()
    }
  }
}

/**
 * The address of this process in the tree (`""` for the main process).
 *
 * @example
 * ```ts
 * import { Actor } from "@multiproc/runtime"
 * Actor.selfAddress() // "" in the main process, "1:2" in a grandchild
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const selfAddress = (): string => kernel.self.address

/**
 * Writes out now the messages sent to `ref` so far, instead of at the end of the current tick
 * (messages sent in one tick normally travel as one batch). For a sender in a long synchronous
 * loop: the receiver can start on the first part while the rest is produced.
 *
 * Python equivalent: none (a pipe write in Python is immediate).
 *
 * @example
 * ```ts
 * import { Actor } from "@multiproc/runtime"
 * import * as Effect from "effect/Effect"
 * declare const sink: Actor.ActorRef<number>
 * for (let i = 0; i < 100_000; i++) {
 *   Effect.runSync(Actor.tell(sink, i))
 *   if (i % 1000 === 999) Actor.flush(sink)
 * }
 * ```
 * @category requests
 * @since 0.1.0
 */
export const flush = <M>(ref: ActorRef<M>): void => kernel.flushTo(ref.address)

/**
 * Runs `f` when any process in the tree dies (with everything below it).
 *
 * @example
 * ```ts
 * import { Actor } from "@multiproc/runtime"
 * const stop = Actor.onProcessDown((address) => console.log(`${address} died`))
 * ```
 * @category monitoring
 * @since 0.1.0
 */
export const onProcessDown: (f: (address: string) => void) => () => void = kernel.onDown

/**
 * Whether a process address is `dead` itself or below it.
 *
 * @category monitoring
 * @since 0.1.0
  *
 * @example
 * ```ts
 * import { Actor } from "@multiproc/runtime"
 * Actor.isAtOrBelow("1:2", "1") // true: "1:2" is a child of "1"
 * ```
 */
export const isAtOrBelow: (address: string, dead: string) => boolean = kernel.isAtOrBelow
