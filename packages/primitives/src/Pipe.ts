/**
 * Pipes: a pair of connected `Connection`s between processes, and `wait` over connections and
 * process sentinels.
 *
 * A pipe lives in the process that created it (its home). Every thread of the home's OS process
 * shares the pipe's rings (a SharedArrayBuffer, one ring per end): sending there is a copy into
 * the other end's ring, receiving a copy out, with `Atomics.waitAsync` wake-ups (a blocked
 * receive never freezes a thread). Another OS process sends through the home's mailbox and
 * receives by one request that the home answers from the ring. Messages too big for a ring, or
 * sent while it is full, are kept by the home and handed out in order. Message boundaries are
 * kept (an empty message is a message), and nothing is ever split or merged. As in Python, a
 * message is bytes: `send` sends a value's encoding and `recv` decodes, `sendBytes` /
 * `recvBytes` move the bytes as they are, so the two mix (bytes taken by `recvBytes` and sent on
 * by `sendBytes` are received by `recv` as the value).
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
import { REPLY_POLL_MS, ReplyPolling } from "@multiproc/runtime/internal/awake"
import * as kernel from "@multiproc/runtime/internal/kernel"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { hold, whileWaiting } from "./internal/alive.ts"
import * as Net from "./Connection.ts"
import * as Bytes from "./internal/bytes.ts"
import * as Process from "./Process.ts"
import { Deque } from "./Queue.ts"
import { timeoutProblem, unknownOption } from "./internal/args.ts"

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
 * - `InvalidMessage`: a message could not be decoded in this process (it is dropped).
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
  reason: Schema.Literals(["EOF", "Closed", "NotReadable", "NotWritable", "BrokenPipe", "BufferTooShort", "MessageTooLong", "BadArgument", "InvalidMessage", "Unavailable"]),
  message: Schema.String,
  data: Schema.optional(Schema.Unknown)
}) {}

registerErrorClass(PipeError)

const error = (reason: PipeError["reason"], message: string, data?: Uint8Array) =>
  new PipeError({ reason, message, ...(data === undefined ? {} : { data }) })
const fromProblem = (p: Bytes.Problem) => error(p.reason, p.message, p.data)
const eof = () => error("EOF", "end of file: the other end was closed")

// ---- models ---------------------------------------------------------------------------------

/**
 * @internal
 *
 * @example
 * ```ts
 * import { Pipe } from "@multiproc/primitives"
 * declare const u: unknown
 * const isConn = typeof u === "object" && u !== null && Pipe.TypeId in u
 * ```
 */
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
  readonly op: "send" | "sendBytes" | "put" | "sync" | "recv" | "back" | "poll" | "hold" | "claim" | "release"
  readonly end: number
  readonly x?: unknown
  readonly ms?: number
  /** `claim` from another OS process: the kernel port that hears when the other end is closed. */
  readonly port?: number
}

const Protocol = Schema.Struct({
  op: Schema.Literals(["send", "sendBytes", "put", "sync", "recv", "back", "poll", "hold", "claim", "release"]),
  end: Schema.Number,
  x: Schema.optionalKey(Schema.Unknown),
  ms: Schema.optionalKey(Schema.Number),
  port: Schema.optionalKey(Schema.Number)
})

let tokens = 0
const newToken = () => `${kernel.self.address}#${kernel.self.pid}#${++tokens}`

// Decoded copies that are dropped without close release their hold (and their port) when collected.
const collected = new FinalizationRegistry<{ readonly ref: Actor.ActorRef<Msg>; readonly id: string; readonly end: number; readonly token: string; readonly port: number | undefined }>((h) => {
  if (h.port !== undefined) kernel.closePort(h.port)
  if (released.has(h.token)) return
  released.add(h.token)
  control(h.ref, h.id, { op: "release", end: h.end, x: h.token })
})
const released = new Set<string>()

/**
 * @internal
 *
 * @example
 * ```ts
 * import { Pipe } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const [a, b] = yield* Pipe.make()
 *   yield* Pipe.send(a, "hi")
 *   return yield* Pipe.recv(b) // "hi"
 * }))
 * ```
 */
export class ConnectionImpl implements Connection {
  readonly [TypeId]: TypeId = TypeId
  readonly id: string
  readonly ref: Actor.ActorRef<Msg>
  readonly end: number
  readonly readable: boolean
  readonly writable: boolean
  readonly token: string
  /** `id:end`: this end of this pipe, whichever copy of the connection (see `receiveRemote`). */
  readonly key: string
  /** The shared rings, when this thread shares memory with the pipe's home. */
  readonly channel: Channel | undefined
  closed = false
  /** In another OS process than the home: the port that hears when the other end is closed
   * (then `peerClosed`), so a send there fails with `BrokenPipe` as Python's does. */
  notices: number | undefined
  peerClosed = false
  constructor(id: string, ref: Actor.ActorRef<Msg>, end: number, readable: boolean, writable: boolean, token: string, channel: Channel | undefined) {
    this.id = id
    this.ref = ref
    this.end = end
    this.readable = readable
    this.writable = writable
    this.token = token
    this.key = `${id}:${end}`
    this.channel = channel
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
  encode: (c, ctx) => {
    if (c.closed) throw new CodecError("$", "a closed connection cannot be sent")
    // The copy that travels is a new holder of this end until it is closed or its process dies.
    const token = newToken()
    // (A thread's messages on their way to the home go the same way as this hold, so in order.)
    control(c.ref, c.id, { op: "hold", end: c.end, x: token })
    return [c.id, c.ref.address, c.ref.port, c.end, c.readable, c.writable, token, ctx.shared && c.channel ? c.channel.sab : null]
  },
  decode: (p: [string, string, number, number, boolean, boolean, string, SharedArrayBuffer | null]) => {
    const channel = p[7] ? channelOf(p[0], p[7], { address: p[1], port: p[2] }) : undefined
    const c = new ConnectionImpl(p[0], { address: p[1], port: p[2] }, p[3], p[4], p[5], p[6], channel)
    if (!channel && c.writable) {
      // (A weak reference: the port must not keep a dropped connection from being collected.)
      const self = new WeakRef(c)
      c.notices = kernel.openPort(() => {
        const x = self.deref()
        if (x) x.peerClosed = true
      })
    }
    control(c.ref, c.id, c.notices === undefined ? { op: "claim", end: c.end, x: c.token } : { op: "claim", end: c.end, x: c.token, port: c.notices })
    collected.register(c, { ref: c.ref, id: c.id, end: c.end, token: c.token, port: c.notices }, c)
    return c
  }
})

// The facade's connections arrive as facade objects where the facade is loaded (it registers this
// tag again), as Effect-API connections elsewhere.
class FacadePlaceholder {}
registerCustom<FacadePlaceholder>({ tag: "multiproc/promise/PipeConnection", Class: FacadePlaceholder, encode: () => null, decode: (c) => c })

const impl = (c: Connection): ConnectionImpl => c as ConnectionImpl

// ---- the shared rings (every thread of the home's OS process) -----------------------------------
//
// One SharedArrayBuffer per pipe: a control block, then one ring per end holding the messages
// sent TO that end. Any thread that shares memory with the home reads and writes the rings
// directly (a short spin lock per ring), and sleeps with `Atomics.waitAsync`, so a message
// between two threads is one copy in and one copy out, with no hop through the home. Records are
// 16-byte aligned: a length and msgpackr bytes, a wrap marker, or a ticket for a message the home
// keeps aside (too big for the ring, or given back to the head by a reader that gave up).

const RING_BYTES = 1 << 17
const SLACK = 64 // writers leave room for a few tickets put back at the head
const WRAP = -1
const TICKET = -2
// Control block words.
const SHUT = 0
const HOLDERLESS = 1 // + end: 1 once nobody holds that end
const CTRL_WORDS = 8
// Per ring: words at ringBase(end).
const LOCK = 0
const SEQ = 1 // bumped on every write and state change; readers sleep on it
const READERS = 2 // readers asleep on SEQ
const HEAD = 3
const TAIL = 4
const FREED = 5 // bumped when a reader frees room; the home sleeps on it when it holds messages back
const WRITERS = 6
const PENDING = 7 // messages the home holds for this ring and will write (they are not end-of-file)
const RING_WORDS = 8
const HEADER_WORDS = CTRL_WORDS + 2 * RING_WORDS
const HEADER_BYTES = 128
const align = (n: number) => (n + 15) & ~15

/**
 * The home's answer to a `recv` from another thread or process: the message's number (see
 * `Core.served`) and the message; `null` to a `recv` cancelled before it was served (so the
 * requester knows no message is on its way).
 */
type Served = readonly [serial: number, message: unknown]

/**
 * A message that came for a receive of `fromRaw` kind, as a receive of `toRaw` kind takes it
 * (bytes decoded, a value re-encoded as the home gives one back): `[ok, value]`, or undefined if
 * it cannot be re-encoded.
 */
const recast = (message: unknown, fromRaw: boolean, toRaw: boolean): readonly [boolean, unknown] | undefined => {
  if (fromRaw === toRaw) return [true, message]
  if (toRaw) {
    try {
      return [true, encodeBytes(message)]
    } catch {
      return undefined
    }
  }
  try {
    return [true, decodeBytes(message as Uint8Array)]
  } catch (e) {
    return [false, error("InvalidMessage", `a message could not be decoded here: ${String((e as Error)?.message ?? e)}`)]
  }
}

/** A reader that found a ticket at the head: the home hands that message out. */
const AT_HOME: unique symbol = Symbol("multiproc/Pipe/atHome")

interface Waiter {
  active: boolean
  timer: ReturnType<typeof setTimeout> | undefined
  /** `serial`: in the home, the message's place in the order of messages taken there (see `Core.served`). */
  readonly settle: (ok: boolean, value: unknown, serial?: number) => void
  /** Runs when the waiter is stopped (its receive fetching from the home is given up). */
  onStop?: (() => void) | undefined
  /** A receiver of the message's bytes as they were sent (`recvBytes`), not of their decoding. */
  raw?: boolean | undefined
}

const stop = (w: Waiter): void => {
  w.active = false
  if (w.timer !== undefined) clearTimeout(w.timer)
  w.timer = undefined
  const f = w.onStop
  if (f) {
    w.onStop = undefined
    f()
  }
}

const DIRECT = 0
const VIA_HOME = 1

/**
 * This thread's view of one pipe's rings: its readers and writers of both ends. @internal
 *
 * @example
 * ```ts
 * import { Pipe } from "@multiproc/primitives"
 * // Internal: the shared-memory ring that carries one end's messages between threads.
 * const [a, b] = Pipe.make() // channels are created by Pipe.make
 * ```
 */
export class Channel {
  readonly id: string
  readonly sab: SharedArrayBuffer
  readonly ref: Actor.ActorRef<Msg>
  readonly w: Int32Array
  readonly bytes: Uint8Array
  readonly data: Int32Array
  readonly cap: number
  /** Set in the home's thread. */
  core: Core | undefined = undefined
  readonly receivers: [Deque<Waiter>, Deque<Waiter>] = [new Deque(), new Deque()]
  readonly pollers: [Set<Waiter>, Set<Waiter>] = [new Set(), new Set()]
  readonly armed = [false, false]
  /** Per end: whether a receiver of this thread polls the ring for a moment before it sleeps (a
   * peer that answers at once is seen without an OS wake-up), decided by measuring its waits. */
  private readonly polling = [new ReplyPolling(), new ReplyPolling()]
  private readonly spinning = [false, false]
  /** A receiver of this thread is getting a message through the home: the others wait behind it. */
  readonly asking = [false, false]
  /** The current fetch (see {@link fetch}), so that a stale one does not end a newer one. */
  private readonly fetches = [0, 0]
  // Writers of this thread, by the end they send on: direct, or through the home until it caught up.
  readonly mode = [DIRECT, DIRECT]
  readonly sent = [0, 0]
  readonly syncing = [false, false]

  constructor(id: string, sab: SharedArrayBuffer, ref: Actor.ActorRef<Msg>) {
    this.id = id
    this.sab = sab
    this.ref = ref
    this.w = new Int32Array(sab, 0, HEADER_BYTES / 4)
    this.cap = (sab.byteLength - HEADER_BYTES) / 2
    this.bytes = new Uint8Array(sab, HEADER_BYTES)
    this.data = new Int32Array(sab, HEADER_BYTES)
  }

  static create(id: string, ref: Actor.ActorRef<Msg>): Channel {
    return new Channel(id, new SharedArrayBuffer(HEADER_BYTES + 2 * RING_BYTES), ref)
  }

  base(end: number): number {
    return CTRL_WORDS + end * RING_WORDS
  }

  shut(): boolean {
    return Atomics.load(this.w, SHUT) === 1
  }

  holderless(end: number): boolean {
    return Atomics.load(this.w, HOLDERLESS + end) === 1
  }

  private lock(b: number): void {
    while (Atomics.compareExchange(this.w, b + LOCK, 0, 1) !== 0) {
      // Critical sections are a copy of at most one ring's worth of bytes.
    }
  }

  private unlock(b: number): void {
    Atomics.store(this.w, b + LOCK, 0)
  }

  /** Wakes the readers of `end` (in this thread at once, elsewhere through the ring's SEQ). */
  ring(end: number): void {
    const b = this.base(end)
    Atomics.add(this.w, b + SEQ, 1)
    if (Atomics.load(this.w, b + READERS) > 0) Atomics.notify(this.w, b + SEQ)
    this.pump(end)
  }

  private offset(end: number, pos: number): number {
    return end * this.cap + pos
  }

  /**
   * Appends a record to the ring of `end`: message bytes, or a ticket (`ticket` ≥ 0). False if
   * there is no room now (writers leave {@link SLACK} bytes free for tickets put back at the head).
   */
  write(end: number, record: Uint8Array | undefined, ticket = -1): boolean {
    const n = record ? record.length : 4
    const need = align(4 + n)
    const cap = this.cap
    if (need + SLACK > cap) return false
    const b = this.base(end)
    const w = this.w
    this.lock(b)
    let head = w[b + HEAD]! >>> 0
    const tail = w[b + TAIL]! >>> 0
    const free = cap - ((head - tail) >>> 0)
    let pos = head % cap
    const toEnd = cap - pos
    if (need > toEnd) {
      if (free < toEnd + need + SLACK) {
        this.unlock(b)
        return false
      }
      this.setWord(end, pos, WRAP)
      head = (head + toEnd) >>> 0
      pos = 0
    } else if (free < need + SLACK) {
      this.unlock(b)
      return false
    }
    if (record) {
      this.setWord(end, pos, n)
      this.bytes.set(record, this.offset(end, pos + 4))
    } else {
      this.setWord(end, pos, TICKET)
      this.setWord(end, pos + 4, ticket)
    }
    Atomics.store(w, b + HEAD, (head + need) | 0)
    this.unlock(b)
    this.ring(end)
    return true
  }

  /**
   * Puts a ticket back at the head of the ring of `end` (a message a reader gave back), after the
   * tickets given back before it that came earlier (`before(t)`: ticket `t` is one of those), so
   * that messages given back keep their order.
   */
  prepend(end: number, ticket: number, before: (t: number) => boolean): boolean {
    const b = this.base(end)
    const w = this.w
    const cap = this.cap
    this.lock(b)
    const head = w[b + HEAD]! >>> 0
    const tail = w[b + TAIL]! >>> 0
    if (cap - ((head - tail) >>> 0) < 16) {
      this.unlock(b)
      return false
    }
    const next = (tail - 16) >>> 0
    // Given-back tickets are 16-byte records, one after the other from the head: move the earlier
    // ones one place up and write this one after them.
    let at = next
    for (;;) {
      const from = (at + 16) >>> 0
      if (from === head) break
      const pos = from % cap
      if (this.word(end, pos) !== TICKET) break
      const t = this.word(end, pos + 4)
      if (!before(t)) break
      this.setWord(end, at % cap, TICKET)
      this.setWord(end, (at % cap) + 4, t)
      at = from
    }
    this.setWord(end, at % cap, TICKET)
    this.setWord(end, (at % cap) + 4, ticket)
    Atomics.store(w, b + TAIL, next | 0)
    this.unlock(b)
    this.ring(end)
    return true
  }

  // Plain accesses: the ring's lock orders them.
  private setWord(end: number, pos: number, v: number): void {
    this.data[this.offset(end, pos) >> 2] = v
  }

  private word(end: number, pos: number): number {
    return this.data[this.offset(end, pos) >> 2]!
  }

  isEmpty(end: number): boolean {
    const b = this.base(end)
    return Atomics.load(this.w, b + HEAD) === Atomics.load(this.w, b + TAIL)
  }

  /**
   * Takes the record at the head of the ring of `end`: message bytes (a copy), a ticket number
   * (only when `tickets`, i.e. in the home), {@link AT_HOME} (a ticket, elsewhere), or undefined.
   */
  take(end: number, tickets: boolean): Uint8Array | number | typeof AT_HOME | undefined {
    const b = this.base(end)
    const w = this.w
    const cap = this.cap
    this.lock(b)
    let tail = w[b + TAIL]! >>> 0
    const head = w[b + HEAD]! >>> 0
    let out: Uint8Array | number | typeof AT_HOME | undefined
    while (tail !== head) {
      const pos = tail % cap
      const n = this.word(end, pos)
      if (n === WRAP) {
        tail = (tail + cap - pos) >>> 0
        continue
      }
      if (n === TICKET) {
        if (!tickets) {
          out = AT_HOME
          break
        }
        out = this.word(end, pos + 4)
        tail = (tail + 16) >>> 0
        break
      }
      const start = this.offset(end, pos + 4)
      out = this.bytes.slice(start, start + n)
      tail = (tail + align(4 + n)) >>> 0
      break
    }
    Atomics.store(w, b + TAIL, tail | 0)
    this.unlock(b)
    if (out !== undefined && out !== AT_HOME) {
      Atomics.add(w, b + FREED, 1)
      if (Atomics.load(w, b + WRITERS) > 0) Atomics.notify(w, b + FREED)
      this.core?.onFreed(end)
    }
    return out
  }

  /** End-of-file for readers of `end`: nobody holds the other end and nothing is left. */
  atEof(end: number): boolean {
    if (!this.holderless(1 - end)) return false
    if (Atomics.load(this.w, this.base(end) + PENDING) > 0) return false
    return this.isEmpty(end)
  }

  ready(end: number): boolean {
    return !this.isEmpty(end) || this.atEof(end) || this.shut()
  }

  // ---- readers of this thread ----

  addReceiver(end: number, settle: Waiter["settle"], raw = false): Waiter {
    const w: Waiter = { active: true, timer: undefined, settle, raw }
    this.receivers[end]!.push(w)
    this.pump(end)
    return w
  }

  addPoller(end: number, settle: Waiter["settle"], ms: number): Waiter {
    const w: Waiter = { active: true, timer: undefined, settle }
    if (Number.isFinite(ms)) {
      w.timer = setTimeout(() => {
        if (!w.active) return
        stop(w)
        this.pollers[end]!.delete(w)
        settle(true, false)
      }, ms)
    }
    this.pollers[end]!.add(w)
    this.pump(end)
    return w
  }

  private readonly pumping = [false, false]
  private readonly again = [false, false]

  /** Hands this thread's waiting readers of `end` what there is, then sleeps if some still wait. */
  pump(end: number): void {
    // Settling a waiter can resume a fiber that receives again, and taking can let the home write:
    // both come back here; the outer call goes round once more instead.
    if (this.pumping[end]) {
      this.again[end] = true
      return
    }
    this.pumping[end] = true
    try {
      do {
        this.again[end] = false
        this.pumpOnce(end)
      } while (this.again[end])
    } finally {
      this.pumping[end] = false
    }
  }

  private pumpOnce(end: number): void {
    const rs = this.receivers[end]!
    const home = this.core !== undefined
    while (!this.asking[end]) {
      const r = rs.shift()
      if (r === undefined) break
      if (!r.active) continue
      if (this.shut()) {
        stop(r)
        r.settle(false, unavailable())
        continue
      }
      const rec = this.take(end, home)
      if (rec === undefined) {
        if (!this.atEof(end)) {
          rs.unshift(r)
          break
        }
        stop(r)
        r.settle(false, eof())
        continue
      }
      if (rec === AT_HOME) {
        this.fetch(end, r)
        continue
      }
      stop(r)
      const serial = home ? this.core!.serialOf(end, rec) : undefined
      const bytes = typeof rec === "number" ? this.core!.unstash(rec) : rec
      if (r.raw) {
        r.settle(true, bytes, serial)
        continue
      }
      let value: unknown
      try {
        value = decodeBytes(bytes)
      } catch (e) {
        r.settle(false, error("InvalidMessage", `a message could not be decoded here: ${String((e as Error)?.message ?? e)}`))
        continue
      }
      r.settle(true, value, serial)
    }
    const ps = this.pollers[end]!
    if (ps.size > 0 && this.ready(end)) {
      // Settling resumes fibers that may poll again at once: take the current pollers first.
      const all = [...ps]
      ps.clear()
      for (const p of all) {
        if (!p.active) continue
        stop(p)
        p.settle(true, true)
      }
    }
    if (this.waiting(end)) this.arm(end)
  }

  /**
   * A message the home kept aside is next: the home hands it to this receiver. This thread's other
   * receivers wait until then, to keep order, also when the receiver gives up: until the home
   * answered the cancelled request (`null`: nothing was sent; a failure: the pipe was shut), the
   * message it sent anyway goes to the oldest receiver waiting here, or back to the home (and they
   * wait until it is back).
   */
  private fetch(end: number, r: Waiter): void {
    this.asking[end] = true
    const mine = ++this.fetches[end]!
    const raw = r.raw === true
    let off: (() => void) | undefined
    const done = () => {
      off?.()
      off = undefined
      if (this.fetches[end] !== mine) return
      this.asking[end] = false
      this.pump(end)
    }
    const cancel = Actor.askUnsafe<Msg>(this.ref, raw ? { op: "recv", end, x: true } : { op: "recv", end }, (ok, v) => {
      // (r is waiting: once it gives up the answer goes to the late handler below)
      r.onStop = undefined
      stop(r)
      if (ok) r.settle(true, (v as Served)[1])
      else r.settle(false, v instanceof PipeError ? v : error("Unavailable", `the pipe's home process is gone (${String((v as Error)?.message ?? v)})`))
      done()
    }, (ok, late) => {
      if (!ok || late === null || this.shut()) {
        done()
        return true
      }
      const [serial, message] = late as Served
      const rs = this.receivers[end]!
      for (let next = rs.shift(); next !== undefined; next = rs.shift()) {
        if (!next.active) continue
        const got = recast(message, raw, next.raw === true)
        if (got === undefined) {
          rs.unshift(next)
          break
        }
        stop(next)
        next.settle(got[0], got[1])
        done()
        return true
      }
      // Nobody here wants it: back to the home, and the receivers here wait until it is there.
      Actor.askUnsafe<Msg>(this.ref, { op: "back", end, x: [serial, message, raw] }, done)
      return true
    })
    r.onStop = () => {
      cancel()
      // The answer never comes if the home dies meanwhile.
      off = Actor.onProcessDown((dead) => {
        if (Actor.isAtOrBelow(this.ref.address, dead)) done()
      })
    }
  }

  /** Whether a receiver or poller of this thread waits on `end`. */
  private waiting(end: number): boolean {
    return (this.receivers[end]!.length > 0 && !this.asking[end]) || this.pollers[end]!.size > 0
  }

  /** Waits for a write or a change of state: polls for a moment first if that pays here. */
  private arm(end: number): void {
    if (this.armed[end] || this.spinning[end]) return
    const polls = this.polling[end]!.next()
    const t0 = performance.now()
    if (!polls) return this.sleep(end, t0, false)
    this.spinning[end] = true
    const spin = (): void => {
      if (this.ready(end)) {
        this.spinning[end] = false
        this.polling[end]!.measured(true, performance.now() - t0)
        this.pump(end)
      } else if (!this.waiting(end)) {
        this.spinning[end] = false
      } else if (performance.now() - t0 < REPLY_POLL_MS) {
        setImmediate(spin)
      } else {
        this.spinning[end] = false
        this.sleep(end, t0, true)
      }
    }
    setImmediate(spin)
  }

  /** Sleeps on the ring's SEQ until a write or a change of state. */
  private sleep(end: number, t0: number, polled: boolean): void {
    if (this.armed[end]) return
    const b = this.base(end)
    Atomics.add(this.w, b + READERS, 1)
    const seen = Atomics.load(this.w, b + SEQ)
    if (this.ready(end)) {
      Atomics.sub(this.w, b + READERS, 1)
      // Something arrived between the pump and now (pollers and receivers alike make progress).
      queueMicrotask(() => this.pump(end))
      return
    }
    const wait = Atomics.waitAsync(this.w, b + SEQ, seen)
    if (!wait.async) {
      Atomics.sub(this.w, b + READERS, 1)
      queueMicrotask(() => this.pump(end))
      return
    }
    this.armed[end] = true
    wait.value.then(() => {
      this.armed[end] = false
      Atomics.sub(this.w, b + READERS, 1)
      this.polling[end]!.measured(polled, performance.now() - t0)
      this.pump(end)
    })
  }

  // ---- writers of this thread ----

  /** Sends encoded bytes on `end` (into the ring of the other end). */
  send(end: number, bytes: Uint8Array): void {
    const peer = 1 - end
    // What this process held back (a queue's puts) is sent first (through the shared ring this
    // message may still arrive before them: sent first, not there first).
    kernel.flushHeldBack()
    if (this.core) return this.core.put(peer, bytes)
    if (this.mode[end] === DIRECT && this.write(peer, bytes)) return
    // No room now (or too big for the ring): through the home, which keeps it, until it caught up.
    this.mode[end] = VIA_HOME
    this.sent[end]!++
    try {
      Effect.runSync(Actor.tell(this.ref, { op: "put", end: peer, x: bytes }))
    } catch {
      // the home is gone; readers see it shut
    }
    if (!this.syncing[end]) this.sync(end)
  }

  /** Returns to the ring once the home wrote everything this thread sent through it. */
  private sync(end: number): void {
    this.syncing[end] = true
    const at = this.sent[end]!
    Effect.runFork(Actor.ask(this.ref, { op: "sync", end: 1 - end })).addObserver((exit) => {
      this.syncing[end] = false
      if (Exit.isFailure(exit)) return
      if (this.sent[end] === at) this.mode[end] = DIRECT
      else this.sync(end)
    })
  }
}

const channels = new Map<string, WeakRef<Channel>>()

/** This thread's view of a pipe's rings (one per pipe and thread). */
const channelOf = (id: string, sab: SharedArrayBuffer, ref: Actor.ActorRef<Msg>): Channel => {
  const known = channels.get(id)?.deref()
  if (known) return known
  const ch = new Channel(id, sab, ref)
  channels.set(id, new WeakRef(ch))
  return ch
}

const unavailable = () => error("Unavailable", "the pipe was shut down by its home process")

// ---- the home -------------------------------------------------------------------------------

const cores = new Map<string, Core>()
let pipes = 0

/**
 * The pipe's authority, in the process that created it: who holds each end, the messages kept
 * aside (too big for a ring, or given back), messages waiting for room, and the requests of other
 * OS processes (which do not share the rings).
 */
class Core {
  readonly id: string
  readonly ch: Channel
  /** token → holding process address, or null while the copy travels. */
  readonly holders: [Map<string, string | null>, Map<string, string | null>] = [new Map(), new Map()]
  readonly stash = new Map<number, Uint8Array>()
  nextTicket = 0
  /**
   * Messages taken from each ring here, in order: a message handed to another thread or process
   * carries its number (a {@link Served} reply), and one given back keeps it, so messages given
   * back go back in the order they were sent whatever order they come back in.
   */
  readonly served = [0, 0]
  /** Given-back tickets still in a ring → their message's number. */
  readonly givenBack = new Map<number, number>()
  /** Messages for each ring waiting for room, in order; `sync` replies wait behind them. */
  readonly pending: [Deque<Uint8Array | (() => void)>, Deque<Uint8Array | (() => void)>] = [new Deque(), new Deque()]
  readonly waitingForRoom = [false, false]
  closed = false
  constructor(id: string, ch: Channel) {
    this.id = id
    this.ch = ch
    ch.core = this
  }

  /** Writes a message into the ring of `end` (kept aside if it is too big, held back if full). */
  put(end: number, bytes: Uint8Array): void {
    if (this.pending[end]!.length > 0 || !this.place(end, bytes)) this.holdBack(end, bytes)
  }

  private place(end: number, bytes: Uint8Array): boolean {
    if (align(4 + bytes.length) + SLACK <= this.ch.cap) return this.ch.write(end, bytes)
    // Too big for the ring: the ring carries a ticket.
    const ticket = this.nextTicket++ & 0x7fffffff
    // Kept first: writing the ticket can hand it to a reader of this thread at once.
    this.stash.set(ticket, bytes)
    if (this.ch.write(end, undefined, ticket)) return true
    this.stash.delete(ticket)
    return false
  }

  private holdBack(end: number, item: Uint8Array | (() => void)): void {
    this.pending[end]!.push(item)
    if (item instanceof Uint8Array) Atomics.add(this.ch.w, this.ch.base(end) + PENDING, 1)
    this.waitForRoom(end)
  }

  /** A reader freed room in the ring of `end`: write what was held back. */
  onFreed(end: number): void {
    const q = this.pending[end]!
    while (q.length > 0) {
      const item = q.peek()!
      if (item instanceof Uint8Array) {
        if (!this.place(end, item)) return this.waitForRoom(end)
        q.shift()
        Atomics.sub(this.ch.w, this.ch.base(end) + PENDING, 1)
      } else {
        q.shift()
        item()
      }
    }
  }

  private waitForRoom(end: number): void {
    if (this.waitingForRoom[end] || this.closed) return
    const w = this.ch.w
    const b = this.ch.base(end)
    Atomics.add(w, b + WRITERS, 1)
    const seen = Atomics.load(w, b + FREED)
    const wait = Atomics.waitAsync(w, b + FREED, seen)
    this.waitingForRoom[end] = true
    const wake = () => {
      this.waitingForRoom[end] = false
      Atomics.sub(w, b + WRITERS, 1)
      if (!this.closed) this.onFreed(end)
    }
    if (wait.async) wait.value.then(wake)
    else queueMicrotask(wake)
  }

  /** The number of a message just taken from the ring of `end` (a given-back one keeps its own). */
  serialOf(end: number, rec: Uint8Array | number): number {
    if (typeof rec === "number") {
      const n = this.givenBack.get(rec)
      if (n !== undefined) {
        this.givenBack.delete(rec)
        return n
      }
    }
    return ++this.served[end]!
  }

  unstash(ticket: number): Uint8Array {
    const bytes = this.stash.get(ticket)
    this.stash.delete(ticket)
    return bytes ?? new Uint8Array(0)
  }

  /**
   * Puts a message a reader gave back (its value, or its bytes when `raw`; `serial`: its number)
   * at the head of the ring of `end`, after the messages given back that came before it.
   */
  giveBack(end: number, value: unknown, raw: boolean, serial: number): void {
    let bytes: Uint8Array
    try {
      bytes = raw ? value as Uint8Array : encodeBytes(value)
    } catch {
      return
    }
    const ticket = this.nextTicket++ & 0x7fffffff
    this.stash.set(ticket, bytes)
    this.givenBack.set(ticket, serial)
    const earlier = (t: number) => {
      const n = this.givenBack.get(t)
      return n !== undefined && n < serial
    }
    if (!this.ch.prepend(end, ticket, earlier)) {
      // No room even for a ticket (a full ring): it goes last rather than nowhere.
      this.stash.delete(ticket)
      this.givenBack.delete(ticket)
      this.put(end, bytes)
    }
  }

  /** Updates the shared "nobody holds this end" flag and wakes who may care. */
  private holdersChanged(end: number): void {
    const none = this.holders[end]!.size === 0 ? 1 : 0
    if (Atomics.load(this.ch.w, HOLDERLESS + end) === none) return
    Atomics.store(this.ch.w, HOLDERLESS + end, none)
    this.ch.ring(0)
    this.ch.ring(1)
    if (none === 1) for (const token of this.holders[1 - end]!.keys()) this.notifyClosed(1 - end, token)
  }

  /** Ports of holders in other OS processes, by token (see `ConnectionImpl.notices`). */
  private readonly notices = new Map<string, number>()

  /** Tells the holder `token` of `end`, if it is in another OS process, that the other end is closed. */
  private notifyClosed(end: number, token: string): void {
    const port = this.notices.get(token)
    const at = this.holders[end]!.get(token)
    if (port === undefined || at == null) return
    this.notices.delete(token)
    try {
      kernel.send(at, port, 1)
    } catch {
      // that process is gone
    }
  }

  release(end: number, token: string): void {
    this.notices.delete(token)
    if (!this.holders[end]!.delete(token)) return
    this.holdersChanged(end)
  }

  receive(m: Msg, req: Actor.Request): void {
    if (this.closed) return req.fail(unavailable())
    const end = m.end === 1 ? 1 : 0
    switch (m.op) {
      case "send": {
        // From another OS process: on the other end's ring.
        if (this.ch.holderless(1 - end)) return
        let bytes: Uint8Array
        try {
          bytes = encodeBytes(m.x)
        } catch {
          return
        }
        return this.put(1 - end, bytes)
      }
      case "sendBytes":
        // From another OS process: the bytes as they were sent, on the other end's ring.
        if (this.ch.holderless(1 - end) || !(m.x instanceof Uint8Array)) return
        return this.put(1 - end, m.x)
      case "put":
        // From a thread whose ring write did not fit: `end` is the ring.
        if (m.x instanceof Uint8Array) this.put(end, m.x)
        return
      case "sync":
        if (this.pending[end]!.length === 0) return req.reply(null)
        return this.holdBack(end, () => req.reply(null))
      case "recv": {
        const w = this.ch.addReceiver(end, (ok, v, serial) => ok ? req.reply([serial!, v] satisfies Served) : req.fail(v), m.x === true)
        req.onCancel(() => {
          if (!w.active) return
          stop(w)
          // Nothing was sent: the requester need not wait for a late message (see `Channel.fetch`).
          try {
            req.reply(null)
          } catch {
            // the requester is gone
          }
        })
        return
      }
      case "back": {
        // A thread's fetch given up: the message the home sent it anyway, given back.
        const [serial, message, raw] = m.x as [number, unknown, boolean]
        this.giveBack(end, message, raw === true, serial)
        return req.reply(null)
      }
      case "poll": {
        const w = this.ch.addPoller(end, (_, v) => req.reply(v), m.ms ?? Infinity)
        req.onCancel(() => {
          stop(w)
          this.ch.pollers[end]!.delete(w)
        })
        return
      }
      case "hold": {
        const token = m.x as string
        if (!this.holders[end]!.has(token)) this.holders[end]!.set(token, null)
        return this.holdersChanged(end)
      }
      case "claim":
        this.holders[end]!.set(m.x as string, req.from)
        if (typeof m.port === "number") {
          this.notices.set(m.x as string, m.port)
          if (this.ch.holderless(1 - end)) this.notifyClosed(end, m.x as string)
        }
        return this.holdersChanged(end)
      case "release":
        return this.release(end, m.x as string)
    }
  }

  down(dead: string): void {
    for (let end = 0; end < 2; end++) {
      for (const [token, at] of this.holders[end]!) {
        if (at !== null && kernel.isAtOrBelow(at, dead)) this.release(end, token)
      }
    }
  }

  abandoned(m: Msg, value: unknown): void {
    if (m.op !== "recv" || this.closed || !Array.isArray(value)) return
    const [serial, message] = value as unknown as Served
    this.giveBack(m.end === 1 ? 1 : 0, message, m.x === true, serial)
  }

  shutdown(): void {
    this.closed = true
    cores.delete(this.id)
    Atomics.store(this.ch.w, SHUT, 1)
    this.ch.ring(0)
    this.ch.ring(1)
    for (let end = 0; end < 2; end++) {
      for (const p of this.ch.pollers[end]!) {
        if (!p.active) continue
        stop(p)
        p.settle(false, unavailable())
      }
      this.ch.pollers[end]!.clear()
      for (const item of this.pending[end]!.clear()) if (!(item instanceof Uint8Array)) item()
    }
    this.stash.clear()
    this.givenBack.clear()
  }
}

// ---- constructor ----------------------------------------------------------------------------

/** Options of {@link make}. */
export interface MakeOptions {
  /** Both ends can send and receive (default). `false`: the first end only receives, the second only sends. */
  readonly duplex?: boolean | undefined
}

/**
 * Creates a pipe living for as long as the Scope: two connected connections. An unknown option
 * name fails with `BadArgument`.
 *
 * Python equivalent: `multiprocessing.Pipe(duplex=True)`; `Pipe.make(false)` is `Pipe(False)`.
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
export const make = (options: MakeOptions | boolean = {}): Effect.Effect<readonly [Connection, Connection], PipeError, Scope.Scope> =>
  Effect.gen(function*() {
    // Python's "unexpected keyword argument": a misspelt `{ duplx: false }` gave a two-way pipe.
    const unknown = unknownOption(options, ["duplex"])
    if (unknown !== undefined) return yield* Effect.fail(error("BadArgument", unknown))
    const id = `${kernel.self.address || "main"}/${kernel.self.pid}/${++pipes}`
    // Everything is made in the acquire: a Scope that is already closed releases at once, and
    // then finds a pipe to shut down (whose use fails with `Unavailable`).
    const { core, ref } = yield* Effect.acquireRelease(
      Effect.sync(() => {
        let core: Core | undefined
        const handle = Actor.makeUnsafe(Protocol, {
          receive: (m, req) => core!.receive(m as Msg, req),
          down: (dead) => core!.down(dead),
          abandoned: (m, value) => core!.abandoned(m as Msg, value)
        })
        const ref = handle.ref as Actor.ActorRef<Msg>
        const ch = Channel.create(id, ref)
        channels.set(id, new WeakRef(ch))
        core = new Core(id, ch)
        cores.set(id, core)
        return { handle, core, ref }
      }),
      ({ core, handle }) =>
        Effect.sync(() => {
          core.shutdown()
          handle.close()
        })
    )
    const ch = core.ch
    // A boolean (or a number: `Pipe(0)`) is Python's positional `duplex` (`Pipe(False)` is
    // one-way); any other value is read as Python reads `if duplex:`.
    const duplex = typeof options === "boolean" || typeof options === "number"
      ? Boolean(options)
      : options?.duplex === undefined ? true : Boolean(options.duplex)
    const a = new ConnectionImpl(id, ref, 0, true, duplex, newToken(), ch)
    const b = new ConnectionImpl(id, ref, 1, duplex, true, newToken(), ch)
    core.holders[0].set(a.token, kernel.self.address)
    core.holders[1].set(b.token, kernel.self.address)
    return [a, b] as const
  })

// ---- operations -------------------------------------------------------------------------------

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
  sendMessage(conn, value, false)

/**
 * Sends one message: `value` encoded, or (`raw`) `value`'s bytes as they are. A message is its
 * bytes, as in Python (`send(obj)` is `send_bytes(dumps(obj))`), so what `recvBytes` took can be
 * sent on with `sendBytes` and still be received as the value.
 */
const sendMessage = (conn: Connection, value: unknown, raw: boolean): Effect.Effect<void, PipeError | SerializationError> =>
  Effect.suspend(() => {
    const c = impl(conn)
    const bad = check(c, "write")
    if (bad) return Effect.fail(bad)
    const ch = c.channel
    if (ch) {
      if (ch.shut()) return Effect.fail(c.ref.address === kernel.self.address ? unavailable() : gone())
      if (ch.holderless(1 - c.end)) return Effect.fail(error("BrokenPipe", "the other end is closed"))
      let bytes: Uint8Array
      try {
        bytes = raw ? value as Uint8Array : encodeBytes(value)
      } catch (e) {
        return e instanceof CodecError ? Effect.fail(fromCodecError(e)) : Effect.die(e)
      }
      ch.send(c.end, bytes)
      return Effect.void
    }
    if (c.peerClosed) return Effect.fail(error("BrokenPipe", "the other end is closed"))
    return Effect.catchTag(Actor.tell(c.ref, { op: raw ? "sendBytes" : "send", end: c.end, x: value }), "SerializationError", (e) => Effect.fail(e))
  })

/**
 * Receives the next message, waiting for one; `EOF` once the other end is closed and nothing is left.
 * The message's bytes are decoded: bytes sent by `sendBytes` that are no value's encoding fail
 * with `InvalidMessage` (Python: an unpickling error), and the message is dropped.
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
export const recv = (conn: Connection): Effect.Effect<unknown, PipeError> => receive(conn, false)

/** Receives the next message: its value, or (`raw`) its bytes as they were sent. */
const receive = (conn: Connection, raw: boolean): Effect.Effect<unknown, PipeError> =>
  Effect.suspend(() => {
    const c = impl(conn)
    const bad = check(c, "read")
    if (bad) return Effect.fail(bad)
    const ch = c.channel
    if (!ch) return whileWaiting(receiveRemote(c, raw))
    return Effect.callback<unknown, PipeError>((resume) => {
      // A waiting receive keeps this process alive, as Python's blocked thread does.
      let release: (() => void) | undefined
      const w = ch.addReceiver(c.end, (ok, v) => {
        release?.()
        resume(ok ? Effect.succeed(v) : Effect.fail(v as PipeError))
      }, raw)
      if (!w.active) return
      release = hold()
      return Effect.sync(() => {
        release!()
        stop(w)
      })
    })
  })

/** A receive of this process from a pipe whose home is another OS process, waiting for the home's answer. */
interface RemoteReceive {
  active: boolean
  readonly raw: boolean
  cancel: () => void
  readonly resume: (result: Effect.Effect<unknown, PipeError>) => void
}

/**
 * This process's receives from one end of another process's pipe: those waiting for the home's
 * answer, oldest first, and the numbers of the messages it gave back that it has not seen again.
 */
interface RemoteEnd {
  readonly waiting: Array<RemoteReceive>
  readonly back: Array<number>
}

/** By `id:end`; an entry goes once it is empty. */
const remoteEnds = new Map<string, RemoteEnd>()

const remoteEnd = (key: string): RemoteEnd => {
  let at = remoteEnds.get(key)
  if (at === undefined) remoteEnds.set(key, at = { waiting: [], back: [] })
  return at
}

const tidy = (key: string, at: RemoteEnd): void => {
  if (at.waiting.length === 0 && at.back.length === 0) remoteEnds.delete(key)
}

const forgetRemote = (key: string, r: RemoteReceive): void => {
  r.active = false
  const at = remoteEnd(key)
  const i = at.waiting.indexOf(r)
  if (i >= 0) at.waiting.splice(i, 1)
  tidy(key, at)
}

/**
 * Receives through the pipe's home in another OS process: one request, answered with the next
 * message and its number (see `Core.served`).
 *
 * A message the home sent to a receive that gave up meanwhile (a late one) arrives here before
 * the answers to this process's later receives (one link, in order). It goes to the oldest
 * receive of this process still waiting on that end (whose own request is then cancelled), so
 * the message is not overtaken by the one the home sends that receive. With none waiting it goes
 * back to the home, which puts it at the head in its place; so do the late ones after it until it
 * comes back here (those were sent before the home had it back: handing one on would overtake
 * it). An answer is in order by itself: the home answers from the head.
 */
const receiveRemote = (c: ConnectionImpl, raw: boolean): Effect.Effect<unknown, PipeError> =>
  Effect.callback<unknown, PipeError>((resume) => {
    const key = c.key
    const r: RemoteReceive = { active: true, raw, cancel: () => {}, resume }
    remoteEnd(key).waiting.push(r)
    // Whether the receive polls for the home's answer (and the home stays awake after it) is
    // measured per home, as every ask's is: a ping-pong's receives are answered at once.
    const cancel = Actor.askUnsafe<Msg>(c.ref, raw ? { op: "recv", end: c.end, x: true } : { op: "recv", end: c.end }, (ok, v) => {
      if (!r.active) return
      if (ok) {
        // What it gave back before this message came is here already or went to another reader.
        const serial = (v as Served)[0]
        const back = remoteEnd(key).back
        if (back.length > 0) back.splice(0, back.length, ...back.filter((n) => n > serial))
      }
      forgetRemote(key, r)
      if (ok) return r.resume(Effect.succeed((v as Served)[1]))
      if (v instanceof PipeError) return r.resume(Effect.fail(v))
      if (v instanceof Actor.ActorError) return r.resume(Effect.fail(error("Unavailable", `the pipe's home process is gone (${v.message})`)))
      r.resume(Effect.die(v))
    }, (ok, late) => handOn(key, raw, ok, late as Served | null), "measure")
    if (!r.active) return
    r.cancel = cancel
    return Effect.sync(() => {
      if (!r.active) return
      forgetRemote(key, r)
      cancel()
    })
  })

/** A late message (see {@link receiveRemote}): to the oldest receive waiting here, or false: back to the home. */
const handOn = (key: string, fromRaw: boolean, ok: boolean, late: Served | null): boolean => {
  // (a failure, or the home's word that a cancelled request was not served)
  if (!ok || late === null) return true
  const [serial, message] = late
  const at = remoteEnd(key)
  const next = at.waiting[0]
  const i = at.back.indexOf(serial)
  if (next === undefined || at.back.some((n) => n < serial)) {
    if (i < 0) at.back.push(serial)
    return false
  }
  const got = recast(message, fromRaw, next.raw)
  if (got === undefined) {
    if (i < 0) at.back.push(serial)
    return false
  }
  if (i >= 0) at.back.splice(i, 1)
  forgetRemote(key, next)
  next.cancel()
  next.resume(got[0] ? Effect.succeed(got[1]) : Effect.fail(got[1] as PipeError))
  return true
}

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
    const wrong = timeoutProblem(timeout)
    if (wrong !== undefined) return Effect.fail(error("BadArgument", wrong))
    const ms = millis(timeout, 0)
    const ch = c.channel
    if (!ch) return whileWaiting(ask<boolean>(c, Number.isFinite(ms) ? { op: "poll", end: c.end, ms } : { op: "poll", end: c.end }))
    if (ch.shut()) return Effect.fail(c.ref.address === kernel.self.address ? unavailable() : gone())
    if (ch.ready(c.end) || ms <= 0) return Effect.succeed(ch.ready(c.end))
    return Effect.callback<boolean, PipeError>((resume) => {
      // A waiting poll keeps this process alive, as Python's blocked thread does.
      let release: (() => void) | undefined
      const w = ch.addPoller(c.end, (ok, v) => {
        release?.()
        resume(ok ? Effect.succeed(v as boolean) : Effect.fail(v as PipeError))
      }, ms)
      if (!w.active) return
      release = hold()
      return Effect.sync(() => {
        release!()
        stop(w)
        ch.pollers[c.end]!.delete(w)
      })
    })
  })

/**
 * Sends bytes as one message, as they are: `size` bytes from `offset` (defaults: all of it).
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
  // The message keeps the bytes it is given: it gets a copy.
  Bytes.sendBytes(buf, offset, size, (view) => sendMessage(conn, view.slice(), true), fromProblem)

const receiveBytes = (conn: Connection): Effect.Effect<Uint8Array, PipeError> => receive(conn, true) as Effect.Effect<Uint8Array, PipeError>

/**
 * Receives one message as the bytes that were sent (a value sent by `send` gives its encoding);
 * `MessageTooLong` if it exceeds `maxlength`.
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
  Bytes.recvBytes(receiveBytes(conn), maxlength, fromProblem)

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
  Bytes.recvBytesInto(receiveBytes(conn), buf, offset, fromProblem)

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
    if (c.notices !== undefined) kernel.closePort(c.notices)
    collected.unregister(c)
    if (released.has(c.token)) return
    released.add(c.token)
    control(c.ref, c.id, { op: "release", end: c.end, x: c.token })
  })

/**
 * What {@link wait} waits on: pipe connections, network connections (`Connection.connect` /
 * `accept`) and processes (Python's `Process.sentinel`).
 */
export type Waitable = Connection | Net.Connection | Process.Process<any, any>

const isImpl = (u: unknown): u is ConnectionImpl => u instanceof ConnectionImpl

const readyNow = (w: Waitable): Effect.Effect<boolean> =>
  isImpl(w)
    ? (w.closed ? Effect.succeed(false) : Effect.orElseSucceed(poll(w, 0), () => true))
    : Net.isConnection(w)
    ? (w.closed ? Effect.succeed(false) : Effect.orElseSucceed(Net.poll(w), () => true))
    : Effect.sync(() => (w as Process.Process<any, any>).exitCode !== undefined)

const whenReady = (w: Waitable): Effect.Effect<void> =>
  isImpl(w)
    ? (w.closed ? Effect.never : Effect.asVoid(Effect.orElseSucceed(poll(w, null), () => true)))
    : Net.isConnection(w)
    ? (w.closed ? Effect.never : Effect.asVoid(Effect.orElseSucceed(Net.poll(w, null), () => true)))
    : Effect.asVoid(Effect.orElseSucceed(Process.join(w as Process.Process<any, any>), () => 0))

/** The objects of a {@link wait}, checked at the call as Python's selector registers them. */
const waitables = <W extends Waitable>(given: Iterable<W>): Effect.Effect<ReadonlyArray<W>, PipeError> =>
  Effect.suspend(() => {
    if (given === null || typeof given !== "object" || typeof (given as any)[Symbol.iterator] !== "function") {
      return Effect.fail(error("BadArgument", `objects must be an iterable of connections and processes, got ${typeof given === "object" ? String(given) : typeof given}`))
    }
    const objects = Array.from(given)
    for (let i = 0; i < objects.length; i++) {
      const w: unknown = objects[i]
      if (isImpl(w) || Net.isConnection(w)) {
        if (w.closed) return Effect.fail(error("Closed", "handle is closed"))
      } else if (Process.isProcess(w)) {
        // The process is its own sentinel, whose getter throws as Python's `p.sentinel` raises
        // (before start, and once closed).
        try {
          w.sentinel
        } catch (e) {
          const closed = (e as Process.ProcessError).reason === "Closed"
          return Effect.fail(error(closed ? "Closed" : "BadArgument", `${closed ? "" : `objects[${i}]: `}${(e as Error).message}`))
        }
      } else {
        return Effect.fail(error("BadArgument", `objects[${i}] is not a connection or a process (${w === null ? "null" : typeof w})`))
      }
    }
    return Effect.succeed(objects)
  })

/**
 * Waits until at least one of the objects is ready (a pipe or network connection with something to
 * receive or at end-of-file, a process that ended) and returns the ready ones; `[]` after `timeout`.
 * `objects` is any iterable, as Python's `object_list`. A connection or process closed here fails
 * it with `Closed`, as Python's `OSError: handle is closed`; a process not started yet (Python's
 * `p.sentinel` raises ValueError), anything else in `objects` and a timeout that is none fail it
 * with `BadArgument`.
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
export const wait = <W extends Waitable>(given: Iterable<W>, timeout?: Duration.Input | null): Effect.Effect<Array<W>, PipeError> =>
  Effect.gen(function*() {
    const objects = yield* waitables(given)
    const wrong = timeoutProblem(timeout)
    if (wrong !== undefined) return yield* Effect.fail(error("BadArgument", wrong))
    const ms = millis(timeout, Infinity)
    const check = Effect.map(Effect.forEach(objects, readyNow, { concurrency: "unbounded" }), (flags) => objects.filter((_, i) => flags[i]))
    const now = yield* check
    if (now.length > 0 || ms <= 0 || objects.length === 0) return now
    const first = Effect.raceAll(objects.map(whenReady))
    const waited = Number.isFinite(ms) ? Effect.timeoutOption(first, ms) : first
    // Waiting on a process (a daemonic child is unref'd) keeps this process alive, as in Python.
    yield* whileWaiting(waited)
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

