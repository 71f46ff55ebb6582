/**
 * Pipes: a pair of connected `Connection`s between processes, and `wait` over connections and
 * process sentinels.
 *
 * A pipe lives in the process that created it (its home): an actor holds one inbox per end.
 * Sending from anywhere is one batched mailbox message; receiving in another process is one
 * request that the home answers as soon as a message is there. Message boundaries are kept (an
 * empty message is a message), and nothing is ever split or merged.
 *
 * End-of-file follows Python's descriptor semantics: every process that received an end holds it
 * (a copy travelling to another process is a new holder), and a reader gets end-of-file once its
 * inbox is empty and every holder of the other end closed it or died. A process that dies
 * releases what it held, so a peer never waits for a dead writer.
 *
 * Python equivalent: `multiprocessing.Pipe`, `multiprocessing.connection.Connection` and
 * `multiprocessing.connection.wait`.
 *
 * @since 0.1.0
 */
import * as Actor from "@multiproc/runtime/Actor"
import { fromCodecError, type SerializationError } from "@multiproc/runtime/Codec"
import { CodecError, decode as decodeBytes, encode as encodeBytes, registerCustom, registerErrorClass } from "@multiproc/runtime/internal/codec"
import * as kernel from "@multiproc/runtime/internal/kernel"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Process from "./Process.ts"
import { Deque } from "./Queue.ts"

/**
 * Why a connection operation failed.
 *
 * - `EOF`: nothing left to receive and every holder of the other end closed it (Python `EOFError`).
 * - `Closed`: this connection was closed (Python `OSError: handle is closed`).
 * - `NotReadable` / `NotWritable`: the wrong end of a one-way pipe (Python `OSError`).
 * - `BrokenPipe`: sending to an end nobody holds any more.
 * - `BufferTooShort`: `recvBytesInto` got a message larger than the buffer; `data` carries it.
 * - `MessageTooLong`: `recvBytes(maxlength)` got a longer message (it is dropped, as in Python).
 * - `BadArgument`: an offset or size out of range (Python `ValueError`).
 * - `Unavailable`: the pipe's home process is gone.
 *
 * @example
 * ```ts
 * import { Pipe } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const conn: Pipe.Connection
 * const next = Pipe.recv(conn).pipe(
 *   Effect.catchTag("PipeError", (e) => e.reason === "EOF" ? Effect.succeed(null) : Effect.fail(e))
 * )
 * ```
 * @category errors
 * @since 0.1.0
 */
export class PipeError extends Schema.TaggedError<PipeError>()("PipeError", {
  reason: Schema.Literals(["EOF", "Closed", "NotReadable", "NotWritable", "BrokenPipe", "BufferTooShort", "MessageTooLong", "BadArgument", "Unavailable"]),
  message: Schema.String,
  data: Schema.optional(Schema.Unknown)
}) {}

registerErrorClass(PipeError)

const error = (reason: PipeError["reason"], message: string, data?: Uint8Array) =>
  new PipeError({ reason, message, ...(data === undefined ? {} : { data }) })
const eof = () => error("EOF", "end of file: the other end was closed")

// ---- models ---------------------------------------------------------------------------------

/** @internal */
export const TypeId: unique symbol = Symbol.for("@multiproc/primitives/Pipe/Connection") as any
/** @internal */
export type TypeId = typeof TypeId

/**
 * One end of a pipe.
 *
 * Python equivalent: `multiprocessing.connection.Connection`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Connection {
  readonly [TypeId]: TypeId
  readonly readable: boolean
  readonly writable: boolean
  /** Whether this connection was closed here. */
  readonly closed: boolean
}

interface Msg {
  readonly op: "send" | "recv" | "poll" | "hold" | "claim" | "release"
  readonly end: number
  readonly x?: unknown
  readonly ms?: number
}

const Protocol = Schema.Struct({
  op: Schema.Literals(["send", "recv", "poll", "hold", "claim", "release"]),
  end: Schema.Number,
  x: Schema.optionalKey(Schema.Unknown),
  ms: Schema.optionalKey(Schema.Number)
})

let tokens = 0
const newToken = () => `${kernel.self.address}#${kernel.self.pid}#${++tokens}`

// Decoded copies that are dropped without close release their hold when collected.
const collected = new FinalizationRegistry<{ readonly ref: Actor.ActorRef<Msg>; readonly id: string; readonly end: number; readonly token: string }>((h) => {
  if (released.has(h.token)) return
  released.add(h.token)
  control(h.ref, h.id, { op: "release", end: h.end, x: h.token })
})
const released = new Set<string>()

/** @internal */
export class ConnectionImpl implements Connection {
  readonly [TypeId]: TypeId = TypeId
  readonly id: string
  readonly ref: Actor.ActorRef<Msg>
  readonly end: number
  readonly readable: boolean
  readonly writable: boolean
  readonly token: string
  closed = false
  constructor(id: string, ref: Actor.ActorRef<Msg>, end: number, readable: boolean, writable: boolean, token: string) {
    this.id = id
    this.ref = ref
    this.end = end
    this.readable = readable
    this.writable = writable
    this.token = token
  }
  toString(): string {
    return `<Connection ${this.id}:${this.end}${this.closed ? " closed" : ""}>`
  }
}

/** Sends a bookkeeping message to the pipe's home (directly when it is here). */
const control = (ref: Actor.ActorRef<Msg>, id: string, m: Msg): void => {
  const core = ref.address === kernel.self.address ? cores.get(id) : undefined
  if (core) return core.receive(m, { from: kernel.self.address, id: "local", done: true, reply: () => {}, fail: () => {}, onCancel: () => {} })
  try {
    Effect.runSync(Effect.ignore(Actor.tell(ref, m)))
  } catch {
    // the home is gone
  }
}

registerCustom<ConnectionImpl>({
  tag: "multiproc/Connection",
  Class: ConnectionImpl,
  encode: (c) => {
    if (c.closed) throw new CodecError("$", "a closed connection cannot be sent")
    // The copy that travels is a new holder of this end until it is closed or its process dies.
    const token = newToken()
    control(c.ref, c.id, { op: "hold", end: c.end, x: token })
    return [c.id, c.ref.address, c.ref.port, c.end, c.readable, c.writable, token]
  },
  decode: (p: [string, string, number, number, boolean, boolean, string]) => {
    const c = new ConnectionImpl(p[0], { address: p[1], port: p[2] }, p[3], p[4], p[5], p[6])
    control(c.ref, c.id, { op: "claim", end: c.end, x: c.token })
    collected.register(c, { ref: c.ref, id: c.id, end: c.end, token: c.token }, c)
    return c
  }
})

// The facade's connections arrive as facade objects where the facade is loaded (it registers this
// tag again), as Effect-API connections elsewhere.
class FacadePlaceholder {}
registerCustom<FacadePlaceholder>({ tag: "multiproc/promise/PipeConnection", Class: FacadePlaceholder, encode: () => null, decode: (c) => c })

const impl = (c: Connection): ConnectionImpl => c as ConnectionImpl

// ---- the home -------------------------------------------------------------------------------

interface Waiter {
  active: boolean
  timer: ReturnType<typeof setTimeout> | undefined
  readonly settle: (ok: boolean, value: unknown) => void
}

const stop = (w: Waiter): void => {
  w.active = false
  if (w.timer !== undefined) clearTimeout(w.timer)
  w.timer = undefined
}

class End {
  readonly inbox = new Deque<unknown>()
  readonly receivers = new Deque<Waiter>()
  readonly pollers = new Set<Waiter>()
  /** token → holding process address, or null while the copy travels. */
  readonly holders = new Map<string, string | null>()
}

const cores = new Map<string, Core>()
let pipes = 0

class Core {
  readonly id: string
  readonly ends: readonly [End, End] = [new End(), new End()]
  closed = false
  constructor(id: string) {
    this.id = id
  }

  /** Whether a reader of `end` is at end-of-file (inbox empty, nobody holds the other end). */
  atEof(end: number): boolean {
    return this.ends[end]!.inbox.length === 0 && this.ends[1 - end]!.holders.size === 0
  }

  /** Gives waiting readers of `end` what there is (a message, or end-of-file). */
  pump(end: number): void {
    const e = this.ends[end]!
    while (e.inbox.length > 0) {
      let r = e.receivers.shift()
      while (r && !r.active) r = e.receivers.shift()
      if (!r) break
      stop(r)
      r.settle(true, e.inbox.shift())
    }
    const ready = e.inbox.length > 0 || this.atEof(end)
    if (ready && e.pollers.size > 0) {
      // Settling resumes fibers that may poll again at once: take the current pollers first.
      const pollers = [...e.pollers]
      e.pollers.clear()
      for (const p of pollers) {
        if (!p.active) continue
        stop(p)
        p.settle(true, true)
      }
    }
    if (this.atEof(end)) {
      let r = e.receivers.shift()
      while (r) {
        if (r.active) {
          stop(r)
          r.settle(false, eof())
        }
        r = e.receivers.shift()
      }
    }
  }

  /** `from` sends on its end `end`: the message goes to the other end's inbox. */
  deliver(end: number, value: unknown): boolean {
    const peer = 1 - end
    if (this.ends[peer]!.holders.size === 0) return false
    this.ends[peer]!.inbox.push(value)
    this.pump(peer)
    return true
  }

  recv(end: number, settle: Waiter["settle"], ms: number): Waiter | undefined {
    const e = this.ends[end]!
    if (e.inbox.length > 0) {
      settle(true, e.inbox.shift())
      return undefined
    }
    if (this.atEof(end)) {
      settle(false, eof())
      return undefined
    }
    const w: Waiter = { active: true, timer: undefined, settle }
    if (Number.isFinite(ms)) {
      w.timer = setTimeout(() => {
        if (!w.active) return
        stop(w)
        settle(false, error("EOF", "timed out"))
      }, ms)
    }
    e.receivers.push(w)
    return w
  }

  poll(end: number, settle: Waiter["settle"], ms: number): Waiter | undefined {
    if (this.ends[end]!.inbox.length > 0 || this.atEof(end) || ms <= 0) {
      settle(true, this.ends[end]!.inbox.length > 0 || this.atEof(end))
      return undefined
    }
    const w: Waiter = { active: true, timer: undefined, settle }
    if (Number.isFinite(ms)) {
      w.timer = setTimeout(() => {
        if (!w.active) return
        stop(w)
        this.ends[end]!.pollers.delete(w)
        settle(true, false)
      }, ms)
    }
    this.ends[end]!.pollers.add(w)
    return w
  }

  release(end: number, token: string): void {
    if (!this.ends[end]!.holders.delete(token)) return
    if (this.ends[end]!.holders.size === 0) this.pump(1 - end)
  }

  receive(m: Msg, req: Actor.Request): void {
    if (this.closed) return req.fail(error("Unavailable", "the pipe was shut down by its home process"))
    const end = m.end === 1 ? 1 : 0
    switch (m.op) {
      case "send":
        this.deliver(end, m.x)
        return
      case "recv": {
        const w = this.recv(end, (ok, v) => ok ? req.reply(v) : req.fail(v), m.ms ?? Infinity)
        if (w) req.onCancel(() => stop(w))
        return
      }
      case "poll": {
        const w = this.poll(end, (_, v) => req.reply(v), m.ms ?? Infinity)
        if (w) {
          req.onCancel(() => {
            stop(w)
            this.ends[end]!.pollers.delete(w)
          })
        }
        return
      }
      case "hold": {
        const token = m.x as string
        if (!this.ends[end]!.holders.has(token)) this.ends[end]!.holders.set(token, null)
        return
      }
      case "claim":
        this.ends[end]!.holders.set(m.x as string, req.from)
        return
      case "release":
        this.release(end, m.x as string)
        return
    }
  }

  down(dead: string): void {
    for (let end = 0; end < 2; end++) {
      for (const [token, at] of this.ends[end]!.holders) {
        if (at !== null && kernel.isAtOrBelow(at, dead)) this.release(end, token)
      }
    }
  }

  abandoned(m: Msg, value: unknown): void {
    if (m.op !== "recv" || this.closed) return
    const end = m.end === 1 ? 1 : 0
    this.ends[end]!.inbox.unshift(value)
    this.pump(end)
  }

  shutdown(): void {
    this.closed = true
    cores.delete(this.id)
    for (const e of this.ends) {
      for (const w of [...e.receivers.clear(), ...e.pollers]) {
        if (!w.active) continue
        stop(w)
        w.settle(false, error("Unavailable", "the pipe was shut down by its home process"))
      }
      e.pollers.clear()
    }
  }
}

// ---- constructor ----------------------------------------------------------------------------

/** Options of {@link make}. */
export interface MakeOptions {
  /** Both ends can send and receive (default). `false`: the first end only receives, the second only sends. */
  readonly duplex?: boolean | undefined
}

/**
 * Creates a pipe living for as long as the Scope: two connected connections.
 *
 * Python equivalent: `multiprocessing.Pipe(duplex=True)`.
 *
 * @example
 * ```ts
 * import { Pipe } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const [a, b] = yield* Pipe.make()
 *   yield* Pipe.send(a, { hello: "world" })
 *   return yield* Pipe.recv(b)
 * }))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: MakeOptions = {}): Effect.Effect<readonly [Connection, Connection], never, Scope.Scope> =>
  Effect.gen(function*() {
    const id = `${kernel.self.address || "main"}/${kernel.self.pid}/${++pipes}`
    const core = new Core(id)
    const handle = yield* Effect.acquireRelease(
      Effect.sync(() =>
        Actor.makeUnsafe(Protocol, {
          receive: (m, req) => core.receive(m as Msg, req),
          down: (dead) => core.down(dead),
          abandoned: (m, value) => core.abandoned(m as Msg, value)
        })
      ),
      (h) =>
        Effect.sync(() => {
          core.shutdown()
          h.close()
        })
    )
    cores.set(id, core)
    const duplex = options.duplex ?? true
    const ref = handle.ref as Actor.ActorRef<Msg>
    const a = new ConnectionImpl(id, ref, 0, true, duplex, newToken())
    const b = new ConnectionImpl(id, ref, 1, duplex, true, newToken())
    core.ends[0].holders.set(a.token, kernel.self.address)
    core.ends[1].holders.set(b.token, kernel.self.address)
    return [a, b] as const
  })

// ---- operations -------------------------------------------------------------------------------

const homeOf = (c: ConnectionImpl): Core | undefined | null =>
  c.ref.address === kernel.self.address ? (cores.get(c.id) ?? null) : undefined

const gone = () => error("Unavailable", "the pipe's home process is gone")

const ask = <R>(c: ConnectionImpl, m: Msg): Effect.Effect<R, PipeError> =>
  Actor.ask<Msg, R, PipeError>(c.ref, m).pipe(
    Effect.catchTags({
      ActorError: (e) => Effect.fail(error("Unavailable", `the pipe's home process is gone (${e.message})`)),
      SerializationError: (e) => Effect.die(e)
    })
  )

const check = (c: ConnectionImpl, need: "read" | "write"): PipeError | undefined => {
  if (c.closed) return error("Closed", "handle is closed")
  if (need === "read" && !c.readable) return error("NotReadable", "connection is write-only")
  if (need === "write" && !c.writable) return error("NotWritable", "connection is read-only")
  return undefined
}

const millis = (timeout: Duration.Input | null | undefined, whenUndefined: number): number =>
  timeout === null ? Infinity : timeout === undefined ? whenUndefined : Math.max(0, Duration.toMillis(Duration.fromInputUnsafe(timeout)))

/**
 * Sends a value to the other end; `SerializationError` at once if it cannot be sent.
 *
 * Python equivalent: `Connection.send(obj)`.
 *
 * @example
 * ```ts
 * import { Pipe } from "@multiproc/primitives"
 * declare const conn: Pipe.Connection
 * const program = Pipe.send(conn, [1, "two", { three: 3 }])
 * ```
 * @category operations
 * @since 0.1.0
 */
export const send = (conn: Connection, value: unknown): Effect.Effect<void, PipeError | SerializationError> =>
  Effect.suspend(() => {
    const c = impl(conn)
    const bad = check(c, "write")
    if (bad) return Effect.fail(bad)
    const home = homeOf(c)
    if (home === null) return Effect.fail(gone())
    if (home) {
      let copy: unknown
      try {
        copy = typeof value === "object" && value !== null ? decodeBytes(encodeBytes(value)) : (encodeBytes(value), value)
      } catch (e) {
        return e instanceof CodecError ? Effect.fail(fromCodecError(e)) : Effect.die(e)
      }
      return home.deliver(c.end, copy) ? Effect.void : Effect.fail(error("BrokenPipe", "the other end is closed"))
    }
    return Effect.catchTag(Actor.tell(c.ref, { op: "send", end: c.end, x: value }), "SerializationError", (e) => Effect.fail(e))
  })

/**
 * Receives the next message, waiting for one; `EOF` once the other end is closed and nothing is left.
 *
 * Python equivalent: `Connection.recv()`.
 *
 * @example
 * ```ts
 * import { Pipe } from "@multiproc/primitives"
 * declare const conn: Pipe.Connection
 * const message = Pipe.recv(conn)
 * ```
 * @category operations
 * @since 0.1.0
 */
export const recv = (conn: Connection): Effect.Effect<unknown, PipeError> =>
  Effect.suspend(() => {
    const c = impl(conn)
    const bad = check(c, "read")
    if (bad) return Effect.fail(bad)
    const home = homeOf(c)
    if (home === null) return Effect.fail(gone())
    if (home) {
      return Effect.callback<unknown, PipeError>((resume) => {
        const w = home.recv(c.end, (ok, v) => resume(ok ? Effect.succeed(v) : Effect.fail(v as PipeError)), Infinity)
        if (w) return Effect.sync(() => stop(w))
      })
    }
    return ask<unknown>(c, { op: "recv", end: c.end })
  })

/**
 * Whether there is something to receive (a message, or end-of-file), waiting at most `timeout`
 * (default: no wait; `null`: wait for ever).
 *
 * Python equivalent: `Connection.poll(timeout=0.0)`.
 *
 * @example
 * ```ts
 * import { Pipe } from "@multiproc/primitives"
 * declare const conn: Pipe.Connection
 * const ready = Pipe.poll(conn, "100 millis")
 * ```
 * @category operations
 * @since 0.1.0
 */
export const poll = (conn: Connection, timeout?: Duration.Input | null): Effect.Effect<boolean, PipeError> =>
  Effect.suspend(() => {
    const c = impl(conn)
    const bad = check(c, "read")
    if (bad) return Effect.fail(bad)
    const ms = millis(timeout, 0)
    const home = homeOf(c)
    if (home === null) return Effect.fail(gone())
    if (home) {
      return Effect.callback<boolean, PipeError>((resume) => {
        const w = home.poll(c.end, (_, v) => resume(Effect.succeed(v as boolean)), ms)
        if (w) {
          return Effect.sync(() => {
            stop(w)
            home.ends[c.end]!.pollers.delete(w)
          })
        }
      })
    }
    return ask<boolean>(c, Number.isFinite(ms) ? { op: "poll", end: c.end, ms } : { op: "poll", end: c.end })
  })

const toBytes = (buf: Uint8Array | ArrayBufferView | ArrayBuffer): Uint8Array =>
  buf instanceof Uint8Array
    ? buf
    : ArrayBuffer.isView(buf)
    ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
    : new Uint8Array(buf)

/**
 * Sends bytes as one message: `size` bytes from `offset` (defaults: all of it).
 *
 * Python equivalent: `Connection.send_bytes(buf, offset=0, size=None)`.
 *
 * @example
 * ```ts
 * import { Pipe } from "@multiproc/primitives"
 * declare const conn: Pipe.Connection
 * const program = Pipe.sendBytes(conn, new TextEncoder().encode("hello world"), 6, 5) // "world"
 * ```
 * @category bytes
 * @since 0.1.0
 */
export const sendBytes = (
  conn: Connection,
  buf: Uint8Array | ArrayBufferView | ArrayBuffer,
  offset = 0,
  size?: number
): Effect.Effect<void, PipeError | SerializationError> =>
  Effect.suspend(() => {
    const bytes = toBytes(buf)
    if (!Number.isInteger(offset) || offset < 0) return Effect.fail(error("BadArgument", "offset is negative"))
    if (bytes.length < offset) return Effect.fail(error("BadArgument", "buffer length < offset"))
    const n = size ?? bytes.length - offset
    if (!Number.isInteger(n) || n < 0) return Effect.fail(error("BadArgument", "size is negative"))
    if (offset + n > bytes.length) return Effect.fail(error("BadArgument", "buffer length < offset + size"))
    return send(conn, bytes.slice(offset, offset + n))
  })

const asBytes = (value: unknown): Uint8Array => value instanceof Uint8Array ? value : encodeBytes(value)

/**
 * Receives one message as bytes; `MessageTooLong` if it exceeds `maxlength`.
 *
 * Python equivalent: `Connection.recv_bytes(maxlength=None)`.
 *
 * @example
 * ```ts
 * import { Pipe } from "@multiproc/primitives"
 * declare const conn: Pipe.Connection
 * const bytes = Pipe.recvBytes(conn, 1024)
 * ```
 * @category bytes
 * @since 0.1.0
 */
export const recvBytes = (conn: Connection, maxlength?: number): Effect.Effect<Uint8Array, PipeError> =>
  Effect.suspend(() => {
    if (maxlength !== undefined && maxlength < 0) return Effect.fail(error("BadArgument", "negative maxlength"))
    return Effect.flatMap(recv(conn), (value) => {
      const bytes = asBytes(value)
      if (maxlength !== undefined && bytes.length > maxlength) {
        return Effect.fail(error("MessageTooLong", `bad message length: ${bytes.length} > ${maxlength}`))
      }
      return Effect.succeed(bytes)
    })
  })

/**
 * Receives one message into `buf` at byte `offset` and returns its length; a message that does
 * not fit fails with `BufferTooShort`, whose `data` is the whole message.
 *
 * Python equivalent: `Connection.recv_bytes_into(buf, offset=0)`.
 *
 * @example
 * ```ts
 * import { Pipe } from "@multiproc/primitives"
 * declare const conn: Pipe.Connection
 * const buf = new Uint8Array(64)
 * const n = Pipe.recvBytesInto(conn, buf, 8)
 * ```
 * @category bytes
 * @since 0.1.0
 */
export const recvBytesInto = (
  conn: Connection,
  buf: Uint8Array | ArrayBufferView | ArrayBuffer,
  offset = 0
): Effect.Effect<number, PipeError> =>
  Effect.suspend(() => {
    const target = toBytes(buf)
    if (!Number.isInteger(offset) || offset < 0) return Effect.fail(error("BadArgument", "negative offset"))
    if (offset > target.length) return Effect.fail(error("BadArgument", "offset too large"))
    return Effect.flatMap(recv(conn), (value) => {
      const bytes = asBytes(value)
      if (offset + bytes.length > target.length) {
        return Effect.fail(error("BufferTooShort", `a message of ${bytes.length} bytes does not fit in ${target.length - offset} bytes`, bytes))
      }
      target.set(bytes, offset)
      return Effect.succeed(bytes.length)
    })
  })

/**
 * Closes this connection: further use of it fails with `Closed`; the peer gets end-of-file once
 * every holder of this end closed it. Idempotent.
 *
 * Python equivalent: `Connection.close()`.
 *
 * @example
 * ```ts
 * import { Pipe } from "@multiproc/primitives"
 * declare const conn: Pipe.Connection
 * const done = Pipe.close(conn)
 * ```
 * @category lifecycle
 * @since 0.1.0
 */
export const close = (conn: Connection): Effect.Effect<void> =>
  Effect.sync(() => {
    const c = impl(conn)
    if (c.closed) return
    c.closed = true
    collected.unregister(c)
    if (released.has(c.token)) return
    released.add(c.token)
    control(c.ref, c.id, { op: "release", end: c.end, x: c.token })
  })

/** What {@link wait} waits on: connections and processes (Python's `Process.sentinel`). */
export type Waitable = Connection | Process.Process<any, any>

const isImpl = (u: unknown): u is ConnectionImpl => u instanceof ConnectionImpl

const readyNow = (w: Waitable): Effect.Effect<boolean> =>
  isImpl(w)
    ? (w.closed ? Effect.succeed(false) : Effect.orElseSucceed(poll(w, 0), () => true))
    : Effect.sync(() => (w as Process.Process<any, any>).exitCode !== undefined)

const whenReady = (w: Waitable): Effect.Effect<void> =>
  isImpl(w)
    ? (w.closed ? Effect.never : Effect.asVoid(Effect.orElseSucceed(poll(w, null), () => true)))
    : Effect.asVoid(Effect.orElseSucceed(Process.join(w as Process.Process<any, any>), () => 0))

/**
 * Waits until at least one of the objects is ready (a connection with something to receive or at
 * end-of-file, a process that ended) and returns the ready ones; `[]` after `timeout`.
 *
 * Python equivalent: `multiprocessing.connection.wait(object_list, timeout=None)`.
 *
 * @example
 * ```ts
 * import { Pipe } from "@multiproc/primitives"
 * declare const a: Pipe.Connection
 * declare const b: Pipe.Connection
 * const ready = Pipe.wait([a, b], "1 second")
 * ```
 * @category operations
 * @since 0.1.0
 */
export const wait = <W extends Waitable>(objects: ReadonlyArray<W>, timeout?: Duration.Input | null): Effect.Effect<Array<W>> =>
  Effect.gen(function*() {
    const ms = millis(timeout, Infinity)
    const check = Effect.map(Effect.forEach(objects, readyNow, { concurrency: "unbounded" }), (flags) => objects.filter((_, i) => flags[i]))
    const now = yield* check
    if (now.length > 0 || ms <= 0 || objects.length === 0) return now
    const first = Effect.raceAll(objects.map(whenReady))
    const waited = Number.isFinite(ms) ? Effect.timeoutOption(first, ms) : first
    yield* waited
    return yield* check
  })

/**
 * Whether a value is a connection.
 *
 * @example
 * ```ts
 * import { Pipe } from "@multiproc/primitives"
 * Pipe.isConnection({}) // false
 * ```
 * @category guards
 * @since 0.1.0
 */
export const isConnection = (u: unknown): u is Connection => isImpl(u)

