/**
 * Queues between processes: `Queue`, `SimpleQueue` and `JoinableQueue`.
 *
 * A queue's state is owned by one party, an actor in the process that created it, so `qsize`,
 * `empty` and `full` are exact and a consumer that dies loses nothing (an item handed to a
 * consumer is held until the consumer acknowledges it, and goes back to the head of the queue if
 * the consumer dies or gives up first). Handles travel to other processes as arguments (of
 * `Process`, `Pool` tasks, or inside other messages) and come back working.
 *
 * Data paths:
 * - In the owner's own process, operations are direct calls on the state; a `put` or `get` that
 *   need not wait allocates nothing beyond its Effect (`putMany` / `getMany` move many items per
 *   Effect).
 * - From another process, the puts of one tick (or every 1024 items) are packed into one
 *   msgpackr batch. From a worker thread of the owner's OS process the batch is written into a
 *   SharedArrayBuffer ring owned by that producer (one ring per producer thread, no locks) and the
 *   owner is woken through `Atomics.waitAsync`; nothing ever blocks a thread's event loop. From
 *   another OS process the batch is one mailbox message. A full ring falls back to the mailbox
 *   and returns to the ring once the owner caught up, so order is kept.
 * - A process's own later operations on the queue (`qsize`, `get`, `joinThread`) see its puts.
 * - A `put` encodes its item at once: an item that cannot be sent fails that `put` (typed
 *   `SerializationError`) and the queue goes on. Both data paths keep each producer's order.
 *
 * Python equivalent: `multiprocessing.Queue`, `SimpleQueue`, `JoinableQueue`.
 *
 * @since 0.1.0
 */
import * as Actor from "@multiproc/runtime/Actor"
import { fromCodecError, SerializationError } from "@multiproc/runtime/Codec"
import {
  CodecError,
  decode as decodeRecord,
  encode as encodeRecord,
  packBatch,
  prepareValue,
  registerCustom,
  registerErrorClass,
  restoreValue,
  unpackBatch
} from "@multiproc/runtime/internal/codec"
import * as kernel from "@multiproc/runtime/internal/kernel"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { hold, whileWaiting } from "./internal/alive.ts"
import { describe, timeoutProblem, unknownOption } from "./internal/args.ts"

/**
 * @internal
 * Why `options` are not blocking options (`{ block, timeout }`), checked where a call enters: a
 * positional `get(false)` (Python's `get(False)`) would otherwise block for ever, a timeout of "x"
 * throw a plain Error, and NaN read as zero.
 */
export const badBlockOptions = (options: unknown): QueueError | undefined => {
  if (options == null) return undefined
  if (typeof options !== "object") {
    return error("InvalidArgument", `options must be an object ({ block, timeout }), got ${describe(options)}`)
  }
  const bad = timeoutProblem((options as BlockOptions).timeout)
  return bad === undefined ? undefined : error("InvalidArgument", bad)
}

// ---- errors ---------------------------------------------------------------------------------

/**
 * Why a queue operation failed.
 *
 * - `Full`: a bounded `put` found no room (at once when non-blocking, after the timeout otherwise).
 * - `Empty`: a `get` found nothing (at once when non-blocking, after the timeout otherwise).
 * - `Closed`: this handle was closed, or the queue was shut down by its owner.
 * - `InvalidItem`: the item did not match the queue's Schema, or could not be decoded here; the
 *   item is dropped and the queue goes on.
 * - `TooManyTaskDone`: `taskDone` was called more times than items were put.
 * - `NotClosed`: `joinThread` before `close`.
 * - `Unavailable`: the queue's owner process is gone.
 *
 * Python equivalent: `queue.Full`, `queue.Empty`, and the `ValueError`s of a closed queue and of
 * `task_done()` called too many times.
 * `InvalidArgument`: a bad `maxsize`, option name, timeout, `getMany` count or `putMany` items (Python's
 * TypeError / ValueError at the call).
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const q: Queue.Queue<number>
 * const next = Queue.getNowait(q).pipe(
 *   Effect.catchTag("QueueError", (e) => e.reason === "Empty" ? Effect.succeed(-1) : Effect.fail(e))
 * )
 * ```
 * @category errors
 * @since 0.1.0
 */
export class QueueError extends Schema.TaggedError<QueueError>()("QueueError", {
  reason: Schema.Literals(["Full", "Empty", "Closed", "InvalidItem", "TooManyTaskDone", "NotClosed", "Unavailable", "InvalidArgument"]),
  message: Schema.String
}) {}

registerErrorClass(QueueError)

const error = (reason: QueueError["reason"], message: string) => new QueueError({ reason, message })
const closedError = () => error("Closed", "Queue is closed")
const shutDownError = () => error("Closed", "Queue is closed: its owner shut it down")

// ---- a small deque ------------------------------------------------------------------------------

/**
 * A FIFO with O(1) push, shift and unshift. @internal
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * const d = new Queue.Deque<number>()
 * d.push(1)
 * d.shift() // 1
 * ```
 */
export class Deque<A> {
  private items: Array<A | undefined> = new Array(16)
  private head = 0
  length = 0
  push(a: A): void {
    if (this.length === this.items.length) this.grow()
    this.items[(this.head + this.length) & (this.items.length - 1)] = a
    this.length++
  }
  unshift(a: A): void {
    if (this.length === this.items.length) this.grow()
    this.head = (this.head - 1) & (this.items.length - 1)
    this.items[this.head] = a
    this.length++
  }
  shift(): A | undefined {
    if (this.length === 0) return undefined
    const a = this.items[this.head]
    this.items[this.head] = undefined
    this.head = (this.head + 1) & (this.items.length - 1)
    this.length--
    return a
  }
  peek(): A | undefined {
    return this.length === 0 ? undefined : this.items[this.head]
  }
  clear(): Array<A> {
    const out: Array<A> = []
    while (this.length > 0) out.push(this.shift()!)
    return out
  }
  private grow(): void {
    const next: Array<A | undefined> = new Array(this.items.length * 2)
    for (let i = 0; i < this.length; i++) next[i] = this.items[(this.head + i) & (this.items.length - 1)]
    this.items = next
    this.head = 0
  }
}

// ---- batches of items ---------------------------------------------------------------------------

const noShared = { shared: undefined }

/**
 * One item as it waits in a batch: a primitive as msgpackr carries it, an object as its own
 * encoding (a snapshot taken at `put`, so later mutation does not change what was put).
 * Throws `CodecError` if the item cannot be sent.
 * @internal
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * const prepared = Queue.prepareItem({ a: 1 }) // throws SerializationError if it cannot cross
 * ```
 */
export const prepareItem = (item: unknown): unknown =>
  typeof item === "object" && item !== null ? encodeRecord(item) : prepareValue(item, noShared)

/**
 * Calls `f` with every item of a packed batch. @internal
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const batch: Uint8Array
 * Queue.unpackItems(batch, (item) => console.log(item))
 * ```
 */
export const unpackItems = (batch: Uint8Array, f: (item: unknown) => void): void => {
  let items: Array<unknown>
  try {
    items = unpackBatch(batch)
  } catch (e) {
    f(new Undecodable(String((e as Error)?.message ?? e)))
    return
  }
  for (let i = 0; i < items.length; i++) {
    const el = items[i]
    if (el instanceof Uint8Array) f(decodeSafe(el))
    else {
      try {
        f(restoreValue(el, noShared))
      } catch (e) {
        f(new Undecodable(String((e as Error)?.message ?? e)))
      }
    }
  }
}

// ---- the shared-memory ring (one producer thread, the owner reads) -----------------------------

const RING_BYTES = 1 << 19
const HEAD = 0
const TAIL = 16 // its own cache line
const HEADER_BYTES = 128
const WRAP = -1

/**
 * A single-producer single-consumer ring of length-prefixed records in a SharedArrayBuffer.
 * Positions are byte counters (wrapping at 2^32); records are 4-byte aligned; a record that does
 * not fit before the end leaves a wrap marker. The producer publishes with an atomic store of
 * the head, the consumer frees with an atomic store of the tail.
 * @internal
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * // Internal: one producer thread's shared-memory ring; queues create them on first put.
 * declare const ring: Queue.Ring
 * ```
 */
export class Ring {
  readonly sab: SharedArrayBuffer
  private readonly hdr: Int32Array
  private readonly bytes: Uint8Array
  private readonly words: Int32Array
  private readonly cap: number
  constructor(sab: SharedArrayBuffer) {
    this.sab = sab
    this.hdr = new Int32Array(sab, 0, HEADER_BYTES / 4)
    this.cap = sab.byteLength - HEADER_BYTES
    this.bytes = new Uint8Array(sab, HEADER_BYTES, this.cap)
    this.words = new Int32Array(sab, HEADER_BYTES, this.cap / 4)
  }
  static create(bytes = RING_BYTES): Ring {
    return new Ring(new SharedArrayBuffer(HEADER_BYTES + bytes))
  }
  /** Writes one record; false if it does not fit now. */
  write(record: Uint8Array): boolean {
    const n = record.length
    const need = 4 + ((n + 3) & ~3)
    const cap = this.cap
    if (need > cap) return false
    let head = Atomics.load(this.hdr, HEAD) >>> 0
    const tail = Atomics.load(this.hdr, TAIL) >>> 0
    const free = cap - ((head - tail) >>> 0)
    let pos = head % cap
    const toEnd = cap - pos
    if (need > toEnd) {
      if (free < toEnd + need) return false
      this.words[pos >> 2] = WRAP
      head = (head + toEnd) >>> 0
      pos = 0
    } else if (free < need) return false
    this.words[pos >> 2] = n
    this.bytes.set(record, pos + 4)
    Atomics.store(this.hdr, HEAD, (head + need) | 0)
    return true
  }
  isEmpty(): boolean {
    return Atomics.load(this.hdr, HEAD) === Atomics.load(this.hdr, TAIL)
  }
  /** Reads every published record (copies, so nothing points into shared memory). */
  read(f: (record: Uint8Array) => void): number {
    const cap = this.cap
    let tail = Atomics.load(this.hdr, TAIL) >>> 0
    let count = 0
    for (;;) {
      const head = Atomics.load(this.hdr, HEAD) >>> 0
      if (head === tail) break
      while (tail !== head) {
        const pos = tail % cap
        const n = this.words[pos >> 2]!
        if (n === WRAP) {
          tail = (tail + cap - pos) >>> 0
          continue
        }
        const record = this.bytes.slice(pos + 4, pos + 4 + n)
        tail = (tail + 4 + ((n + 3) & ~3)) >>> 0
        Atomics.store(this.hdr, TAIL, tail | 0)
        count++
        f(record)
      }
    }
    return count
  }
}

// Control block of a queue (owner-created, shared with every thread of the owner's OS process).
const BELL = 0
const WAITING = 1
const SHUT = 2

// ---- models ---------------------------------------------------------------------------------

/**
 * @internal
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const u: unknown
 * Queue.isQueue(u) // checks Queue.TypeId
 * ```
 */
export const TypeId: unique symbol = Symbol.for("@multiproc/primitives/Queue") as any
/** @internal */
export type TypeId = typeof TypeId

type Kind = "Queue" | "SimpleQueue" | "JoinableQueue"

/**
 * A FIFO queue shared by processes.
 *
 * Python equivalent: `multiprocessing.Queue`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Queue<in out A> {
  readonly [TypeId]: TypeId
  readonly kind: "Queue" | "JoinableQueue"
  /** The bound; 0 means unbounded. */
  readonly maxsize: number
  /** Whether this handle was closed (Python: after `close()`). */
  readonly closed: boolean
  readonly "~item"?: (a: A) => A
}

/**
 * A queue whose consumers report each item done, so producers can wait until all are processed.
 *
 * Python equivalent: `multiprocessing.JoinableQueue`.
 *
 * @category models
 * @since 0.1.0
 */
export interface JoinableQueue<in out A> extends Queue<A> {
  readonly kind: "JoinableQueue"
}

/**
 * An unbounded queue with only `put`, `get`, `empty` and `close`.
 *
 * Python equivalent: `multiprocessing.SimpleQueue`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SimpleQueue<in out A> {
  readonly [TypeId]: TypeId
  readonly kind: "SimpleQueue"
  readonly maxsize: number
  readonly closed: boolean
  readonly "~item"?: (a: A) => A
}

/** Any of the three queue kinds. */
export type AnyQueue<A> = Queue<A> | SimpleQueue<A>

interface Msg {
  readonly op: "put" | "putOne" | "get" | "getMany" | "ack" | "sync" | "size" | "taskDone" | "join"
  readonly x?: unknown
  readonly block?: boolean
  readonly ms?: number
  /** A producer's first `put` from another OS process: the kernel port that hears of a shutdown. */
  readonly port?: number
}

const Protocol = Schema.Struct({
  op: Schema.Literals(["put", "putOne", "get", "getMany", "ack", "sync", "size", "taskDone", "join"]),
  x: Schema.optionalKey(Schema.Unknown),
  block: Schema.optionalKey(Schema.Boolean),
  ms: Schema.optionalKey(Schema.Number),
  port: Schema.optionalKey(Schema.Number)
})

/**
 * The handle: plain data plus this process's view. @internal
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const q = yield* Queue.make<number>() // a QueueImpl behind the Queue interface
 *   yield* Queue.put(q, 1)
 * }))
 * ```
 */
export class QueueImpl<A> implements Queue<A> {
  readonly [TypeId]: TypeId = TypeId
  readonly id: string
  readonly ref: Actor.ActorRef<Msg>
  readonly maxsize: number
  readonly kind: any
  /** The queue's control block; present in every thread of the owner's OS process. */
  readonly ctrl: SharedArrayBuffer | undefined
  closed = false
  joinCancelled = false
  /** This process's view, cached: the state if the queue lives here, `false` if elsewhere. */
  local: Core | false | undefined = undefined
  /** This process's batching side when the queue lives elsewhere. */
  producer: Producer | undefined = undefined
  constructor(id: string, ref: Actor.ActorRef<Msg>, maxsize: number, kind: Kind, ctrl: SharedArrayBuffer | undefined) {
    this.id = id
    this.ref = ref
    this.maxsize = maxsize
    this.kind = kind
    this.ctrl = ctrl
  }
  toString(): string {
    return `<${this.kind} ${this.id}${this.maxsize > 0 ? ` maxsize=${this.maxsize}` : ""}${this.closed ? " closed" : ""}>`
  }
}

registerCustom<QueueImpl<unknown>>({
  tag: "multiproc/Queue",
  Class: QueueImpl,
  encode: (q, ctx) => [q.id, q.ref.address, q.ref.port, q.maxsize, q.kind, ctx.shared && q.ctrl ? q.ctrl : null],
  decode: (p: [string, string, number, number, Kind, SharedArrayBuffer | null]) =>
    new QueueImpl(p[0], { address: p[1], port: p[2] }, p[3], p[4], p[5] ?? undefined)
})

// The promise facade's queues travel under their own tags and arrive as facade objects where the
// facade is loaded (it registers these tags again); elsewhere they arrive as Effect-API handles.
class FacadePlaceholder {}
for (const tag of ["multiproc/promise/Queue", "multiproc/promise/JoinableQueue", "multiproc/promise/SimpleQueue"]) {
  registerCustom<FacadePlaceholder>({ tag, Class: FacadePlaceholder, encode: () => null, decode: (q) => q })
}

const impl = <A>(q: AnyQueue<A>): QueueImpl<A> => q as unknown as QueueImpl<A>

// ---- the owner ------------------------------------------------------------------------------

interface Waiter {
  active: boolean
  timer: ReturnType<typeof setTimeout> | undefined
  readonly settle: (ok: boolean, value: unknown) => void
}

interface Putter extends Waiter {
  readonly item: unknown
  /** Another process's put: admitting it reserves room (its `settle` does), the item comes with its ack. */
  readonly remote: boolean
}

/**
 * A failure travelling where items travel (no item can be an instance of this class). @internal
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * const f = new Queue.Failed(new Queue.QueueError({ reason: "InvalidItem", message: "bad item" })) // an item that failed to decode
 * ```
 */
export class Failed {
  readonly error: QueueError | SerializationError
  constructor(error: QueueError | SerializationError) {
    this.error = error
  }
}

/** "Nothing to take now". */
const NONE: unique symbol = Symbol("multiproc/Queue/none")

class Undecodable {
  readonly message: string
  constructor(message: string) {
    this.message = message
  }
}

const decodeSafe = (record: Uint8Array): unknown => {
  try {
    return decodeRecord(record)
  } catch (e) {
    return new Undecodable(String((e as Error)?.message ?? e))
  }
}

const cores = new Map<string, Core>()
let queueCounter = 0

const stop = (w: Waiter): void => {
  w.active = false
  if (w.timer !== undefined) clearTimeout(w.timer)
  w.timer = undefined
}

class Core {
  readonly id: string
  readonly maxsize: number
  readonly kind: Kind
  readonly validate: ((u: unknown) => Exit.Exit<unknown, unknown>) | undefined
  readonly ctrlSab = new SharedArrayBuffer(16)
  readonly ctrl = new Int32Array(this.ctrlSab)
  readonly buffer = new Deque<unknown>()
  readonly getters = new Deque<Waiter>()
  readonly putters = new Deque<Putter>()
  readonly joiners = new Set<Waiter>()
  /** Items handed to other processes and not yet acknowledged (`many`: an array of them). */
  readonly held = new Map<number, { readonly from: string; readonly item: unknown; readonly many: boolean }>()
  /**
   * Room granted to another process's bounded put, whose item goes in when the put acknowledges
   * the grant: a put interrupted as the grant came adds nothing (it gives the room back).
   */
  readonly reserved = new Map<number, { readonly from: string; readonly item: unknown }>()
  readonly rings: Array<{ readonly ring: Ring; readonly from: string }> = []
  unfinished = 0
  nextToken = 0
  armed = false
  closed = false

  constructor(id: string, maxsize: number, kind: Kind, schema: Schema.ConstraintDecoder<unknown> | undefined) {
    this.id = id
    this.maxsize = maxsize
    this.kind = kind
    this.validate = schema ? Schema.decodeUnknownExit(schema) : undefined
  }

  hasSpace(): boolean {
    return this.maxsize <= 0 || this.buffer.length + this.reserved.size < this.maxsize
  }

  enqueue(item: unknown): void {
    this.buffer.push(item)
    if (this.kind === "JoinableQueue") this.unfinished++
  }

  /** Moves every record published in the producers' rings into the buffer (waiting getters first). */
  drain(): void {
    let moved = 0
    for (let i = 0; i < this.rings.length; i++) moved += this.rings[i]!.ring.read(this.enqueueBatch)
    if (moved > 0 && this.getters.length > 0) this.pump()
  }

  readonly enqueueBatch = (batch: Uint8Array): void => unpackItems(batch, (item) => this.enqueue(item))

  /** Hands items to waiting getters and admits waiting putters while there is room. */
  pump(): void {
    for (;;) {
      while (this.putters.length > 0 && this.hasSpace()) {
        const p = this.putters.shift()!
        if (!p.active) continue
        stop(p)
        if (!p.remote) this.enqueue(p.item)
        p.settle(true, undefined)
      }
      if (this.buffer.length === 0) return
      let g = this.getters.shift()
      while (g && !g.active) g = this.getters.shift()
      if (!g) return
      stop(g)
      this.handOut(g, this.buffer.shift())
    }
  }

  /** Gives one item to a getter, checking it against the Schema. */
  handOut(g: Waiter, item: unknown): void {
    const out = this.checked(item)
    if (out instanceof Failed) {
      this.dropBad()
      g.settle(false, out.error)
    } else g.settle(true, out)
  }

  /** The item as handed out (decoded by the Schema), or why it cannot be (no side effect). */
  checked(item: unknown): unknown {
    if (item instanceof Undecodable) return new Failed(error("InvalidItem", `the item could not be decoded: ${item.message}`))
    if (this.validate) {
      const exit = this.validate(item)
      if (Exit.isFailure(exit)) {
        const reason = exit.cause.reasons[0] as any
        return new Failed(error("InvalidItem", `the item does not match the queue's schema: ${String(reason?.error?.message ?? reason?.defect ?? "invalid")}`))
      }
      return exit.value
    }
    return item
  }

  /** An invalid item was taken and dropped: it counts as done for `join`. */
  dropBad(): void {
    if (this.kind === "JoinableQueue") this.taskDoneUnchecked()
  }

  /** Takes the next item now: the item, a {@link Failed} (invalid item, dropped), or {@link NONE}. */
  take(): unknown {
    if (this.buffer.length === 0) {
      this.drain()
      if (this.buffer.length === 0) return NONE
    }
    const item = this.buffer.shift()
    let out = item
    if (this.validate !== undefined || item instanceof Undecodable) {
      out = this.checked(item)
      if (out instanceof Failed) this.dropBad()
    }
    if (this.putters.length > 0) this.pump()
    return out
  }

  /**
   * Takes up to `max` items now (at least one, or {@link NONE}). An invalid item first in line is
   * taken and reported as a {@link Failed}; one later stops the batch and stays first in line.
   */
  takeMany(max: number): unknown {
    if (this.buffer.length < max) this.drain()
    if (this.buffer.length === 0) return NONE
    const out: Array<unknown> = []
    const plain = this.validate === undefined
    while (out.length < max && this.buffer.length > 0) {
      const item = this.buffer.peek()
      const value = plain && !(item instanceof Undecodable) ? item : this.checked(item)
      if (value instanceof Failed) {
        if (out.length > 0) break
        this.buffer.shift()
        this.dropBad()
        if (this.putters.length > 0) this.pump()
        return value
      }
      this.buffer.shift()
      out.push(value)
    }
    if (this.putters.length > 0) this.pump()
    return out
  }

  addGetter(settle: Waiter["settle"], ms: number): Waiter {
    const w: Waiter = { active: true, timer: undefined, settle }
    if (Number.isFinite(ms)) {
      w.timer = setTimeout(() => {
        if (!w.active) return
        stop(w)
        settle(false, error("Empty", `no item arrived within ${ms} ms`))
      }, Math.max(0, ms))
    }
    this.getters.push(w)
    this.arm()
    return w
  }

  /** Puts an item now, or returns false if there is no room. */
  offer(item: unknown): boolean {
    if (!this.hasSpace() || this.putters.length > 0) {
      this.drain()
      this.pump()
      if (!this.hasSpace()) return false
    }
    this.enqueue(item)
    this.pump()
    return true
  }

  addPutter(item: unknown, settle: Waiter["settle"], ms: number, remote = false): Putter {
    const p: Putter = { active: true, timer: undefined, settle, item, remote }
    if (Number.isFinite(ms)) {
      p.timer = setTimeout(() => {
        if (!p.active) return
        stop(p)
        settle(false, error("Full", `no room in the queue within ${ms} ms`))
      }, Math.max(0, ms))
    }
    this.putters.push(p)
    return p
  }

  size(): number {
    this.drain()
    this.pump()
    return this.buffer.length
  }

  taskDoneUnchecked(): void {
    if (this.unfinished > 0) this.unfinished--
    if (this.unfinished === 0) {
      // Settling resumes fibers that may join again at once: take the current joiners first.
      const joiners = [...this.joiners]
      this.joiners.clear()
      for (const j of joiners) {
        if (!j.active) continue
        stop(j)
        j.settle(true, undefined)
      }
    }
  }

  taskDone(): QueueError | undefined {
    this.drain()
    if (this.unfinished <= 0) return error("TooManyTaskDone", "task_done() called too many times")
    this.taskDoneUnchecked()
    return undefined
  }

  /** Registers a joiner, or returns undefined if nothing is unfinished. */
  addJoiner(settle: Waiter["settle"]): Waiter | undefined {
    this.drain()
    if (this.unfinished === 0) return undefined
    const w: Waiter = { active: true, timer: undefined, settle }
    this.joiners.add(w)
    this.arm()
    return w
  }

  attach(ring: Ring, from: string): void {
    this.rings.push({ ring, from })
    this.arm()
  }

  /** Sleeps on the doorbell until a producer publishes into a ring (only while someone waits). */
  arm(): void {
    if (this.armed || this.closed || this.rings.length === 0) return
    const ctrl = this.ctrl
    for (;;) {
      Atomics.store(ctrl, WAITING, 1)
      const seen = Atomics.load(ctrl, BELL)
      let pending = false
      for (const r of this.rings) {
        if (!r.ring.isEmpty()) {
          pending = true
          break
        }
      }
      if (pending) {
        Atomics.store(ctrl, WAITING, 0)
        this.drain()
        this.pump()
        if (this.closed) return
        continue
      }
      const wait = Atomics.waitAsync(ctrl, BELL, seen)
      if (!wait.async) continue
      this.armed = true
      wait.value.then(() => {
        this.armed = false
        if (this.closed) return
        Atomics.store(ctrl, WAITING, 0)
        this.drain()
        this.pump()
        this.arm()
      })
      return
    }
  }

  /** A process died: keep what its rings hold, and put back what it was handed but never took. */
  down(dead: string): void {
    this.drain()
    for (let i = this.rings.length - 1; i >= 0; i--) {
      if (kernel.isAtOrBelow(this.rings[i]!.from, dead)) this.rings.splice(i, 1)
    }
    const back = [...this.held].filter(([, h]) => kernel.isAtOrBelow(h.from, dead)).sort((a, b) => a[0] - b[0])
    for (let i = back.length - 1; i >= 0; i--) {
      this.held.delete(back[i]![0])
      this.giveBack(back[i]![1].item, back[i]![1].many)
    }
    for (const [token, r] of this.reserved) if (kernel.isAtOrBelow(r.from, dead)) this.reserved.delete(token)
    this.pump()
  }

  /** Puts items handed out but never taken back at the head of the queue, in their order. */
  giveBack(item: unknown, many: boolean): void {
    if (!many) return this.buffer.unshift(item)
    const items = item as Array<unknown>
    for (let i = items.length - 1; i >= 0; i--) this.buffer.unshift(items[i])
  }

  /** Producers in other OS processes, by address: the port each listens on for a shutdown. */
  private readonly remoteProducers = new Map<string, number>()

  shutdown(): void {
    if (this.closed) return
    this.closed = true
    cores.delete(this.id)
    // Their puts are tells: without a word they would vanish from here on.
    for (const [at, port] of this.remoteProducers) {
      try {
        kernel.send(at, port, 1)
      } catch {
        // that process is gone
      }
    }
    this.remoteProducers.clear()
    Atomics.store(this.ctrl, SHUT, 1)
    Atomics.add(this.ctrl, BELL, 1)
    Atomics.notify(this.ctrl, BELL)
    const all: Array<Waiter> = [...this.getters.clear(), ...this.putters.clear(), ...this.joiners]
    this.joiners.clear()
    for (const w of all) {
      if (!w.active) continue
      stop(w)
      w.settle(false, shutDownError())
    }
    this.buffer.clear()
    this.held.clear()
    this.reserved.clear()
  }

  receive(m: Msg, req: Actor.Request): void {
    if (this.closed) return req.fail(shutDownError())
    this.drain()
    switch (m.op) {
      case "put":
        if (typeof m.port === "number") this.remoteProducers.set(req.from, m.port)
        this.enqueueBatch(m.x as Uint8Array)
        this.pump()
        // (a no-op for the usual tell; a producer's first batch is a request)
        return req.reply(null)
      case "ack": {
        if (this.held.delete(m.x as number)) return
        // the put that was granted this room took it: its item goes in
        const r = this.reserved.get(m.x as number)
        if (r === undefined) return
        this.reserved.delete(m.x as number)
        this.enqueue(r.item)
        this.pump()
        return
      }
      case "putOne": {
        const reserve = () => {
          const token = ++this.nextToken
          this.reserved.set(token, { from: req.from, item: m.x })
          req.reply([token, undefined])
        }
        if (this.putters.length > 0 || !this.hasSpace()) this.pump()
        if (this.putters.length === 0 && this.hasSpace()) return reserve()
        if (!m.block) return req.fail(error("Full", "the queue is full"))
        const p = this.addPutter(m.x, (ok, v) => ok ? reserve() : req.fail(v), m.ms ?? Infinity, true)
        req.onCancel(() => stop(p))
        return
      }
      case "get":
      case "getMany": {
        const many = m.op === "getMany"
        const max = many ? Math.max(1, Math.floor(Number(m.x) || 1)) : 1
        const grant = (value: unknown) => {
          const token = ++this.nextToken
          this.held.set(token, { from: req.from, item: value, many })
          req.reply([token, value])
        }
        const now = many ? this.takeMany(max) : this.take()
        if (now !== NONE) return now instanceof Failed ? req.fail(now.error) : grant(now)
        if (!m.block) return req.fail(error("Empty", "the queue is empty"))
        // A waiting getter is handed one item; a getMany then takes what else is there.
        const g = this.addGetter((ok, value) => {
          if (!ok) return req.fail(value)
          if (!many) return grant(value)
          const rest = max > 1 ? this.takeMany(max - 1) : NONE
          if (rest instanceof Failed || rest === NONE) return grant([value])
          ;(rest as Array<unknown>).unshift(value)
          grant(rest)
        }, m.ms ?? Infinity)
        req.onCancel(() => stop(g))
        return
      }
      case "sync":
        if (m.x instanceof SharedArrayBuffer) this.attach(new Ring(m.x), req.from)
        return req.reply(null)
      case "size":
        this.pump()
        return req.reply(this.buffer.length)
      case "taskDone": {
        const e = this.taskDone()
        return e ? req.fail(e) : req.reply(null)
      }
      case "join": {
        const w = this.addJoiner((ok, v) => ok ? req.reply(null) : req.fail(v))
        if (!w) return req.reply(null)
        req.onCancel(() => {
          stop(w)
          this.joiners.delete(w)
        })
        return
      }
    }
  }

  abandoned(m: Msg, value: unknown): void {
    if (this.closed) return
    if (m.op === "putOne") {
      // the put gave up as its room was granted: the room goes to the next put
      if (this.reserved.delete((value as [number, unknown])[0])) this.pump()
      return
    }
    if (m.op !== "get" && m.op !== "getMany") return
    const [token, item] = value as [number, unknown]
    const held = this.held.get(token)
    if (!held) return
    this.held.delete(token)
    this.giveBack(item, held.many)
    this.pump()
  }
}

// ---- producers in other processes ---------------------------------------------------------------

const MAILBOX = 0
const RING = 1
const BATCH_ITEMS = 1024
const BATCH_BYTES = 1 << 17

/**
 * This process's side of putting into one queue owned by another process. Puts of one tick are
 * packed into one batch (or sooner, every {@link BATCH_ITEMS} items): written into this thread's
 * ring when the owner shares memory with it, sent as one mailbox message otherwise.
 */
class Producer {
  readonly q: QueueImpl<unknown>
  readonly ctrl: Int32Array | undefined
  ring: Ring | undefined
  mode = MAILBOX
  pending: Array<unknown> = []
  pendingBytes = 0
  scheduled = false
  sent = 0
  syncing = false
  ownerGone = false
  /**
   * From another OS process, the first batch goes as a request, to learn whether anyone receives
   * this queue's puts: an owner that died or shut the queue down before this process first put
   * (its death was announced before this producer listened) answers with a failure, and the put
   * fails with `Unavailable` instead of vanishing. (Threads of the owner's process see the
   * control block instead.)
   */
  probe: { ok: boolean | undefined; readonly waiters: Array<() => void> } | undefined = undefined

  constructor(q: QueueImpl<unknown>) {
    this.q = q
    this.ctrl = q.ctrl ? new Int32Array(q.ctrl) : undefined
    const owner = q.ref.address
    const off = kernel.onDown((dead) => {
      if (kernel.isAtOrBelow(owner, dead)) {
        this.ownerGone = true
        off()
      }
    })
  }

  gone(): boolean {
    // A plain read of the flag: it is only ever set once, and seeing it one put late is harmless.
    return this.ownerGone || (this.ctrl !== undefined && this.ctrl[SHUT] === 1)
  }

  put(prepared: unknown): void {
    this.pending.push(prepared)
    if (prepared instanceof Uint8Array) this.pendingBytes += prepared.length
    if (this.pending.length >= BATCH_ITEMS || this.pendingBytes >= BATCH_BYTES) this.flush()
    else if (!this.scheduled) {
      this.scheduled = true
      queueMicrotask(this.flushTask)
      // Whatever this process sends next (an event's set, a pipe's message) goes after these puts.
      kernel.holdBack(this.flushTask)
    }
  }

  private readonly flushTask = () => {
    if (!this.scheduled) return
    this.scheduled = false
    this.flush()
  }

  flush(): void {
    if (this.pending.length === 0) return
    const batch = packBatch(this.pending)
    this.pending = []
    this.pendingBytes = 0
    if (this.mode === RING) {
      if (this.ring!.write(batch)) {
        const ctrl = this.ctrl!
        if (Atomics.compareExchange(ctrl, WAITING, 1, 0) === 1) {
          Atomics.add(ctrl, BELL, 1)
          Atomics.notify(ctrl, BELL)
        }
        return
      }
      // Full, or a batch larger than the ring: use the mailbox until the owner caught up.
      this.mode = MAILBOX
    }
    this.sent++
    if (!this.ctrl && !this.probe) {
      const probe: NonNullable<Producer["probe"]> = this.probe = { ok: undefined, waiters: [] }
      // The owner tells this port if it shuts the queue down while this process still puts.
      const self = new WeakRef(this)
      const port = kernel.openPort(() => {
        const producer = self.deref()
        if (producer) producer.ownerGone = true
      })
      producerPorts.register(this, port)
      Actor.askUnsafe(this.q.ref, { op: "put", x: batch, port }, (ok) => {
        if (!ok) this.ownerGone = true
        probe.ok = ok
        for (const w of probe.waiters.splice(0)) w()
      })
      return
    }
    try {
      kernelTell(this.q, { op: "put", x: batch })
    } catch {
      // the owner's route is gone; its death is reported through `gone`
    }
    if (this.ctrl && !this.syncing) this.sync()
  }

  /** Returns to the ring once every batch sent through the mailbox has reached the owner. */
  private sync(): void {
    this.syncing = true
    const at = this.sent
    let fresh: Ring | undefined
    if (!this.ring) fresh = Ring.create()
    Effect.runFork(Actor.ask(this.q.ref, fresh ? { op: "sync", x: fresh.sab } : { op: "sync" })).addObserver((exit) => {
      this.syncing = false
      if (Exit.isFailure(exit)) return
      if (fresh) this.ring = fresh
      if (this.sent === at) this.mode = RING
      else this.sync()
    })
  }
}

/** A producer's shutdown port is closed with it. */
const producerPorts = new FinalizationRegistry<number>((port) => kernel.closePort(port))

/** Whether this process's next put into the queue is its first from another OS process. */
const firstPut = (producer: Producer): boolean => !producer.ctrl && !producer.probe

/** After this process's first put: sends it now and waits for the probe's answer. */
const probed = (producer: Producer, first: boolean): PutOutcome => {
  if (!first) return undefined
  producer.flush()
  const probe = producer.probe as NonNullable<Producer["probe"]> | undefined
  if (!probe) return undefined
  return Effect.callback<void, QueueError>((resume) => {
    const done = () => resume(probe.ok ? Effect.void : Effect.fail(error("Unavailable", "the queue's owner is gone")))
    if (probe.ok !== undefined) return done()
    probe.waiters.push(done)
  })
}

const kernelTell = (q: QueueImpl<unknown>, m: Msg): void => {
  const exit = Effect.runSyncExit(Actor.tell(q.ref, m))
  if (Exit.isFailure(exit)) throw exit.cause
}

const producers = new Map<string, Producer>()
let exitHook = false

const producerOf = (q: QueueImpl<unknown>): Producer => {
  let p = producers.get(q.id)
  if (!p) {
    p = new Producer(q)
    producers.set(q.id, p)
    if (!exitHook) {
      exitHook = true
      kernel.atExit(() => {
        for (const p of producers.values()) p.flush()
      })
    }
  }
  q.producer = p
  return p
}

const flushPending = (q: QueueImpl<unknown>): void => {
  producers.get(q.id)?.flush()
}

// ---- options --------------------------------------------------------------------------------

/** Options of {@link make}. */
export interface MakeOptions<A> {
  /** The bound (Python's `maxsize`); 0 or less means unbounded. */
  readonly maxsize?: number | undefined
  /** Items handed out must match it; one that does not fails its `get` with `InvalidItem`. */
  readonly schema?: Schema.ConstraintDecoder<A> | undefined
}

/** Options of {@link put} and {@link get}. */
export interface BlockOptions {
  /** Wait for room / for an item (default true). */
  readonly block?: boolean | undefined
  /** How long to wait; unset waits for ever. */
  readonly timeout?: Duration.Input | undefined
}

const timeoutMs = (options: BlockOptions | undefined): number => {
  if (options?.timeout == null) return Infinity
  return Math.max(0, Duration.toMillis(Duration.fromInputUnsafe(options.timeout)))
}

// ---- constructors -----------------------------------------------------------------------------

/** `putMany`'s arguments checked (the async/await facade calls it too). @internal */
export const badPutMany = (items: unknown, options: unknown): QueueError | undefined =>
  badBlockOptions(options) ??
    (items != null && typeof (items as Iterable<unknown>)[Symbol.iterator] === "function"
      ? undefined
      : error("InvalidArgument", `items must be iterable, got ${describe(items)}`))

/** `getMany`'s arguments checked (the async/await facade calls it too). @internal */
export const badGetMany = (max: unknown, options: unknown): QueueError | undefined =>
  badBlockOptions(options) ??
    (typeof max === "number" && max >= 1 && (Number.isInteger(max) || max === Infinity)
      ? undefined
      : error("InvalidArgument", `max must be an integer >= 1, got ${describe(max)}`))

const makeKind = <A>(kind: Kind, given: MakeOptions<A> | number): Effect.Effect<any, QueueError, Scope.Scope> =>
  Effect.gen(function*() {
    // A number is Python's positional maxsize (`Queue(5)`); it was read as no options at all.
    const options: MakeOptions<A> = typeof given === "number" && kind !== "SimpleQueue" ? { maxsize: given } : given as MakeOptions<A>
    if (options === null || typeof options !== "object") {
      return yield* Effect.fail(error("InvalidArgument", `options must be an object${kind === "SimpleQueue" ? "" : " or a maxsize"}, got ${describe(given)}`))
    }
    // Python's TypeError for a maxsize that is no int; 0, a negative one, Infinity and null are unbounded.
    const unknown = unknownOption(options, kind === "SimpleQueue" ? ["schema"] : ["maxsize", "schema"])
    if (unknown !== undefined) return yield* Effect.fail(error("InvalidArgument", unknown))
    const m = options.maxsize as unknown
    if (kind !== "SimpleQueue" && m != null && m !== Infinity && !(typeof m === "number" && Number.isInteger(m))) {
      return yield* Effect.fail(error("InvalidArgument", `maxsize must be an integer, got ${describe(m)}`))
    }
    const id = `${kernel.self.address || "main"}/${kernel.self.pid}/${++queueCounter}`
    const maxsize = kind === "SimpleQueue" ? 0 : Math.max(0, Math.floor(options.maxsize ?? 0))
    const core = new Core(id, maxsize, kind, options.schema as Schema.ConstraintDecoder<unknown> | undefined)
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
    return new QueueImpl<A>(id, handle.ref as Actor.ActorRef<Msg>, maxsize, kind, core.ctrlSab)
  })

/**
 * Creates a queue owned by this process for as long as the Scope lives.
 *
 * Python equivalent: `multiprocessing.Queue(maxsize)`; `Queue.make(5)` is `Queue(5)`.
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const q = yield* Queue.make<number>({ maxsize: 10 })
 *   yield* Queue.put(q, 1)
 *   return yield* Queue.get(q) // 1
 * }))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const make = <A = unknown>(options: MakeOptions<A> | number = {}): Effect.Effect<Queue<A>, QueueError, Scope.Scope> =>
  makeKind<A>("Queue", options)

/**
 * Creates a joinable queue: consumers call {@link taskDone} per item, {@link join} waits for all.
 *
 * Python equivalent: `multiprocessing.JoinableQueue(maxsize)`; `makeJoinable(5)` is `JoinableQueue(5)`.
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const q = yield* Queue.makeJoinable<string>()
 *   yield* Queue.put(q, "job")
 *   yield* Queue.get(q)
 *   yield* Queue.taskDone(q)
 *   yield* Queue.join(q)
 * }))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const makeJoinable = <A = unknown>(options: MakeOptions<A> | number = {}): Effect.Effect<JoinableQueue<A>, QueueError, Scope.Scope> =>
  makeKind<A>("JoinableQueue", options)

/**
 * Creates a simple unbounded queue (put, get, empty, close).
 *
 * Python equivalent: `multiprocessing.SimpleQueue()`.
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const q = yield* Queue.makeSimple<string>()
 *   yield* Queue.put(q, "hi")
 *   return yield* Queue.get(q)
 * }))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const makeSimple = <A = unknown>(options: Pick<MakeOptions<A>, "schema"> = {}): Effect.Effect<SimpleQueue<A>, QueueError, Scope.Scope> =>
  makeKind<A>("SimpleQueue", options)

// ---- operations -------------------------------------------------------------------------------

/** The queue's state if it lives in this process (`null`: it did, and was shut down), cached on the handle. */
const localCore = (q: QueueImpl<unknown>): Core | undefined | null => {
  const known = q.local
  if (known !== undefined) return known === false ? undefined : known.closed ? null : known
  if (q.ref.address !== kernel.self.address) {
    q.local = false
    return undefined
  }
  const core = cores.get(q.id)
  if (!core) return null
  q.local = core
  return core
}

const ask = <R>(q: QueueImpl<unknown>, m: Msg): Effect.Effect<R, QueueError | SerializationError> =>
  Effect.suspend(() => {
    flushPending(q)
    return Actor.ask<Msg, R, QueueError>(q.ref, m).pipe(
      Effect.catchTag("ActorError", (e) =>
        Effect.fail(
          e.reason === "BadMessage"
            ? error("InvalidItem", e.message)
            : error("Unavailable", `the queue's owner is gone (${e.message})`)
        )
      )
    )
  })

const settleTo = <A>(resume: (effect: Effect.Effect<A, QueueError>) => void) => (ok: boolean, value: unknown) =>
  resume(ok ? Effect.succeed(value as A) : Effect.fail(value as QueueError))

const checkOpen = (q: QueueImpl<unknown>): QueueError | undefined => q.closed ? closedError() : undefined

/** The copy the owner keeps of an item put in its own process (what a remote put would deliver). */
const snapshot = (item: unknown): unknown => {
  if (typeof item === "object" && item !== null) return decodeRecord(encodeRecord(item))
  if (typeof item === "function" || typeof item === "symbol") encodeRecord(item)
  return item
}

const codecFailure = (e: unknown): Failed | Effect.Effect<never> =>
  e instanceof CodecError ? new Failed(fromCodecError(e)) : Effect.die(e)

type PutOutcome = undefined | Failed | Effect.Effect<void, QueueError | SerializationError>

/** Waits for room for an item already copied. */
const waitPut = (core: Core, copy: unknown, ms: number): Effect.Effect<void, QueueError> =>
  Effect.callback<void, QueueError>((resume) => {
    // A waiting put keeps this process alive, as Python's blocked thread does.
    const release = hold()
    const settle = settleTo(resume)
    const p = core.addPutter(copy, (ok, value) => {
      release()
      settle(ok, value)
    }, ms)
    return Effect.sync(() => {
      release()
      stop(p)
    })
  })

/**
 * A put done now if it can be: `undefined` when the item is in (or on its way, in this process's
 * batch), a {@link Failed}, or the Effect that waits (a full bounded queue, a remote bounded put).
 * The hot path of `put` and of the facade: no Effect is run when nothing has to wait.
 * @internal
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const q: Queue.QueueImpl<unknown>
 * const outcome = Queue.tryPut(q, 1, undefined) // synchronous put attempt
 * ```
 */
export const tryPut = (q: QueueImpl<unknown>, item: unknown, options: BlockOptions | undefined): PutOutcome => {
  if (q.closed) return new Failed(closedError())
  const core = localCore(q)
  if (core === null) return new Failed(shutDownError())
  if (core !== undefined) {
    // Same snapshot semantics as a remote put: the item is checked (and copied) now.
    let copy: unknown
    try {
      copy = snapshot(item)
    } catch (e) {
      return codecFailure(e)
    }
    if (core.offer(copy)) return undefined
    if (options?.block === false) return new Failed(error("Full", "the queue is full"))
    return waitPut(core, copy, timeoutMs(options))
  }
  const block = options?.block ?? true
  if (q.maxsize > 0) {
    return Effect.asVoid(askAndAck(q, { op: "putOne", x: item, block, ms: block ? timeoutMs(options) : 0 }))
  }
  let prepared: unknown
  try {
    prepared = prepareItem(item)
  } catch (e) {
    return codecFailure(e)
  }
  const producer = q.producer ?? producerOf(q)
  if (producer.gone()) return new Failed(error("Unavailable", "the queue's owner is gone"))
  const first = firstPut(producer)
  producer.put(prepared)
  return probed(producer, first)
}

/**
 * Puts several items, in order. An item that cannot be sent fails the call before any item is
 * put. Into an unbounded queue they go in at once (in one batch, from another process); into a
 * bounded one they go one after another, each waiting for room as `put` does (a `Full` failure
 * leaves the earlier ones in the queue).
 * @internal
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const q: Queue.QueueImpl<unknown>
 * const outcome = Queue.tryPutMany(q, [1, 2, 3], undefined)
 * ```
 */
export const tryPutMany = (q: QueueImpl<unknown>, items: Iterable<unknown>, options: BlockOptions | undefined): PutOutcome => {
  if (q.closed) return new Failed(closedError())
  const core = localCore(q)
  if (core === null) return new Failed(shutDownError())
  const all = Array.isArray(items) ? items : Array.from(items)
  if (core !== undefined) {
    const copies: Array<unknown> = new Array(all.length)
    try {
      for (let i = 0; i < all.length; i++) copies[i] = snapshot(all[i])
    } catch (e) {
      return codecFailure(e)
    }
    let i = 0
    while (i < copies.length && core.offer(copies[i])) i++
    if (i === copies.length) return undefined
    if (options?.block === false) return new Failed(error("Full", "the queue is full"))
    const ms = timeoutMs(options)
    const rest = copies.slice(i)
    return Effect.forEach(rest, (copy) => core.closed ? Effect.fail(shutDownError()) : core.offer(copy) ? Effect.void : waitPut(core, copy, ms), { discard: true })
  }
  if (q.maxsize > 0) {
    for (const item of all) {
      try {
        prepareItem(item)
      } catch (e) {
        return codecFailure(e)
      }
    }
    return Effect.forEach(all, (item) => put(q, item, options), { discard: true })
  }
  const prepared: Array<unknown> = new Array(all.length)
  try {
    for (let i = 0; i < all.length; i++) prepared[i] = prepareItem(all[i])
  } catch (e) {
    return codecFailure(e)
  }
  const producer = q.producer ?? producerOf(q)
  if (producer.gone()) return new Failed(error("Unavailable", "the queue's owner is gone"))
  const first = firstPut(producer)
  for (let i = 0; i < prepared.length; i++) producer.put(prepared[i])
  return probed(producer, first)
}

const runPut = (outcome: PutOutcome): Effect.Effect<void, QueueError | SerializationError> =>
  outcome === undefined ? Effect.void : outcome instanceof Failed ? Effect.fail(outcome.error) : outcome

/**
 * Puts an item: waits for room in a bounded queue (at most `timeout`), fails with `Full` when
 * non-blocking or timed out, and with `SerializationError` if the item cannot be sent.
 *
 * Python equivalent: `Queue.put(obj, block=True, timeout=None)`.
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const q: Queue.Queue<string>
 * const program = Queue.put(q, "job", { timeout: "1 second" })
 * ```
 * @category operations
 * @since 0.1.0
 */
export const put = <A>(
  queue: AnyQueue<A>,
  item: A,
  options?: BlockOptions
): Effect.Effect<void, QueueError | SerializationError> =>
  Effect.suspend(() => {
    const bad = badBlockOptions(options)
    return bad !== undefined ? Effect.fail(bad) : runPut(tryPut(impl(queue) as QueueImpl<unknown>, item, options))
  })

/**
 * Puts several items in order, as one batch where it can: an item that cannot be sent fails the
 * call before any is put; a bounded queue takes them one after another, each waiting for room
 * as {@link put} does (on `Full` the earlier ones stay in the queue).
 *
 * Python equivalent: none (a loop of `Queue.put(obj)`).
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const q: Queue.Queue<number>
 * const program = Queue.putMany(q, [1, 2, 3])
 * ```
 * @category operations
 * @since 0.2.0
 */
export const putMany = <A>(
  queue: AnyQueue<A>,
  items: Iterable<A>,
  options?: BlockOptions
): Effect.Effect<void, QueueError | SerializationError> =>
  Effect.suspend(() => {
    const bad = badPutMany(items, options)
    return bad !== undefined ? Effect.fail(bad) : runPut(tryPutMany(impl(queue) as QueueImpl<unknown>, items, options))
  })

/**
 * Puts without waiting: `Full` at once if there is no room.
 *
 * Python equivalent: `Queue.put_nowait(obj)`.
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const q: Queue.Queue<number>
 * const program = Queue.putNowait(q, 42)
 * ```
 * @category operations
 * @since 0.1.0
 */
export const putNowait = <A>(queue: Queue<A>, item: A): Effect.Effect<void, QueueError | SerializationError> =>
  put(queue, item, { block: false })

/**
 * "This operation has to wait (or ask another process)". @internal
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const q: Queue.QueueImpl<unknown>
 * const r = Queue.tryGet(q, undefined)
 * const mustWait = r === Queue.WAIT
 * ```
 */
export const WAIT: unique symbol = Symbol("multiproc/Queue/wait")

/**
 * A get done now if it can be: the item, a {@link Failed}, or {@link WAIT}.
 * @internal
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const q: Queue.QueueImpl<unknown>
 * const item = Queue.tryGet(q, undefined) // an item, or Queue.WAIT
 * ```
 */
export const tryGet = (q: QueueImpl<unknown>, options: BlockOptions | undefined): unknown => {
  if (q.closed) return new Failed(closedError())
  const core = localCore(q)
  if (core === null) return new Failed(shutDownError())
  if (core === undefined) return WAIT
  const now = core.take()
  if (now !== NONE) return now
  return options?.block === false ? new Failed(error("Empty", "the queue is empty")) : WAIT
}

/**
 * Up to `max` items now if there are any: an array (at least one item), a {@link Failed}, or {@link WAIT}.
 * @internal
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const q: Queue.QueueImpl<unknown>
 * const items = Queue.tryGetMany(q, 100, undefined)
 * ```
 */
export const tryGetMany = (q: QueueImpl<unknown>, max: number, options: BlockOptions | undefined): unknown => {
  if (q.closed) return new Failed(closedError())
  const core = localCore(q)
  if (core === null) return new Failed(shutDownError())
  if (core === undefined) return WAIT
  const now = core.takeMany(max)
  if (now !== NONE) return now
  return options?.block === false ? new Failed(error("Empty", "the queue is empty")) : WAIT
}

/**
 * The waiting part of `get`/`getMany` (`max` undefined: one item). @internal
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const q: Queue.QueueImpl<unknown>
 * const item = Queue.waitGet(q, { timeout: 1000 })
 * ```
 */
export const waitGet = (q: QueueImpl<unknown>, options: BlockOptions | undefined, max?: number): Effect.Effect<any, QueueError | SerializationError> => {
  const core = localCore(q)
  if (core === null) return Effect.fail(shutDownError())
  const block = options?.block ?? true
  if (core !== undefined) {
    const ms = timeoutMs(options)
    return Effect.callback<unknown, QueueError>((resume) => {
      // A waiting get keeps this process alive, as Python's blocked thread does.
      const release = hold()
      const g = core.addGetter((ok, value) => {
        release()
        if (!ok || max === undefined) return resume(ok ? Effect.succeed(value) : Effect.fail(value as QueueError))
        const rest = max > 1 ? core.takeMany(max - 1) : NONE
        if (rest === NONE || rest instanceof Failed) return resume(Effect.succeed([value]))
        ;(rest as Array<unknown>).unshift(value)
        resume(Effect.succeed(rest))
      }, ms)
      return Effect.sync(() => {
        release()
        stop(g)
      })
    })
  }
  const m: Msg = max === undefined
    ? { op: "get", block, ms: block ? timeoutMs(options) : 0 }
    : { op: "getMany", x: max, block, ms: block ? timeoutMs(options) : 0 }
  return askAndAck(q, m)
}

/**
 * A request answered `[token, item]` (an item handed out, or room granted to a bounded put),
 * acknowledged as soon as the answer is here; an interrupted request whose answer crossed the
 * interruption is undone by the owner (`abandoned`).
 */
const askAndAck = (q: QueueImpl<unknown>, m: Msg): Effect.Effect<unknown, QueueError | SerializationError> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.map(restore(whileWaiting(ask<[number, unknown]>(q, m))), ([token, item]) => {
      // Acknowledge: from here on the item is this process's (or in the queue), even if it dies.
      try {
        kernelTell(q, { op: "ack", x: token })
      } catch {
        // the owner is gone
      }
      return item
    })
  )

/**
 * Takes the next item: waits (at most `timeout`) when the queue is empty; `Empty` when
 * non-blocking or timed out.
 *
 * Python equivalent: `Queue.get(block=True, timeout=None)`.
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const q: Queue.Queue<string>
 * const next = Queue.get(q, { timeout: "500 millis" })
 * ```
 * @category operations
 * @since 0.1.0
 */
export const get = <A>(queue: AnyQueue<A>, options?: BlockOptions): Effect.Effect<A, QueueError | SerializationError> =>
  Effect.suspend(() => {
    const bad = badBlockOptions(options)
    if (bad !== undefined) return Effect.fail(bad)
    const q = impl(queue) as QueueImpl<unknown>
    const now = tryGet(q, options)
    if (now === WAIT) return waitGet(q, options)
    return now instanceof Failed ? Effect.fail(now.error) : Effect.succeed(now as A)
  })

/**
 * Takes up to `max` items: waits (at most `timeout`) for the first one as {@link get} does, then
 * takes what else is there without waiting. Items come in queue order; an item that does not
 * match the Schema ends the batch (and fails the call if it comes first, as `get` would).
 *
 * Python equivalent: none (a loop of `Queue.get()`).
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const q: Queue.Queue<number>
 * const batch = Queue.getMany(q, 1000) // Effect<Array<number>>
 * ```
 * @category operations
 * @since 0.2.0
 */
export const getMany = <A>(queue: AnyQueue<A>, max: number, options?: BlockOptions): Effect.Effect<Array<A>, QueueError | SerializationError> =>
  Effect.suspend(() => {
    const bad = badGetMany(max, options)
    if (bad !== undefined) return Effect.fail(bad)
    const q = impl(queue) as QueueImpl<unknown>
    const n = Math.max(1, Math.floor(max) || 1)
    const now = tryGetMany(q, n, options)
    if (now === WAIT) return waitGet(q, options, n)
    return now instanceof Failed ? Effect.fail(now.error) : Effect.succeed(now as Array<A>)
  })

/**
 * Takes an item without waiting: `Empty` at once if there is none.
 *
 * Python equivalent: `Queue.get_nowait()`.
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const q: Queue.Queue<number>
 * const next = Queue.getNowait(q)
 * ```
 * @category operations
 * @since 0.1.0
 */
export const getNowait = <A>(queue: Queue<A>): Effect.Effect<A, QueueError | SerializationError> => get(queue, { block: false })

/**
 * The exact number of items in the queue (puts from this process that completed are counted).
 *
 * Python equivalent: `Queue.qsize()` (approximate there, and missing on macOS).
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const q: Queue.Queue<number>
 * const n = Queue.qsize(q)
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const qsize = <A>(queue: AnyQueue<A>): Effect.Effect<number, QueueError> =>
  Effect.suspend(() => {
    const q = impl(queue) as QueueImpl<unknown>
    const closed = checkOpen(q)
    if (closed) return Effect.fail(closed)
    const core = localCore(q)
    if (core === null) return Effect.fail(shutDownError())
    if (core) return core.closed ? Effect.fail(shutDownError()) : Effect.succeed(core.size())
    return Effect.catchTag(ask<number>(q, { op: "size" }), "SerializationError", Effect.die)
  })

/**
 * Whether the queue is empty (exact, unlike Python's).
 *
 * Python equivalent: `Queue.empty()`.
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const q: Queue.Queue<number>
 * const isEmpty = Queue.empty(q)
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const empty = <A>(queue: AnyQueue<A>): Effect.Effect<boolean, QueueError> => Effect.map(qsize(queue), (n) => n === 0)

/**
 * Whether a bounded queue is full (exact).
 *
 * Python equivalent: `Queue.full()`.
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const q: Queue.Queue<number>
 * const isFull = Queue.full(q)
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const full = <A>(queue: Queue<A>): Effect.Effect<boolean, QueueError> =>
  Effect.map(qsize(queue), (n) => queue.maxsize > 0 && n >= queue.maxsize)

/**
 * Closes this handle: puts already made still arrive; further `put` / `get` on it fail with
 * `Closed`. Other handles of the queue (in this or other processes) are unaffected.
 *
 * Python equivalent: `Queue.close()`.
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const q: Queue.Queue<number>
 * const done = Queue.close(q)
 * ```
 * @category lifecycle
 * @since 0.1.0
 */
export const close = <A>(queue: AnyQueue<A>): Effect.Effect<void> =>
  Effect.sync(() => {
    const q = impl(queue) as QueueImpl<unknown>
    q.closed = true
    flushPending(q)
  })

/**
 * After {@link close}: waits until every item this process put has reached the queue.
 * There is no feeder thread and puts never wait for a consumer, so this cannot deadlock the way
 * Python's can (a process may exit with data still queued).
 *
 * Python equivalent: `Queue.join_thread()`.
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const q: Queue.Queue<number>
 * const done = Effect.andThen(Queue.close(q), Queue.joinThread(q))
 * ```
 * @category lifecycle
 * @since 0.1.0
 */
export const joinThread = <A>(queue: AnyQueue<A>): Effect.Effect<void, QueueError> =>
  Effect.suspend(() => {
    const q = impl(queue) as QueueImpl<unknown>
    if (!q.closed) return Effect.fail(error("NotClosed", "join_thread() before close()"))
    if (q.joinCancelled || localCore(q) !== undefined) return Effect.void
    return Effect.catchTag(Effect.asVoid(ask(q, { op: "sync" })), "SerializationError", Effect.die)
  })

/**
 * Lets {@link joinThread} return at once. Puts are never held back here, so a process can always
 * exit; this only skips the wait for in-flight items to reach the owner.
 *
 * Python equivalent: `Queue.cancel_join_thread()`.
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const q: Queue.Queue<number>
 * const program = Queue.cancelJoinThread(q)
 * ```
 * @category lifecycle
 * @since 0.1.0
 */
export const cancelJoinThread = <A>(queue: AnyQueue<A>): Effect.Effect<void> =>
  Effect.sync(() => {
    impl(queue).joinCancelled = true
  })

/**
 * Marks one item taken from a joinable queue as processed; `TooManyTaskDone` if there is none.
 *
 * Python equivalent: `JoinableQueue.task_done()`.
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const q: Queue.JoinableQueue<string>
 * const done = Queue.taskDone(q)
 * ```
 * @category operations
 * @since 0.1.0
 */
export const taskDone = <A>(queue: JoinableQueue<A>): Effect.Effect<void, QueueError> =>
  Effect.suspend(() => {
    const q = impl(queue) as QueueImpl<unknown>
    const core = localCore(q)
    if (core === null) return Effect.fail(shutDownError())
    if (core) {
      const e = core.taskDone()
      return e ? Effect.fail(e) : Effect.void
    }
    return Effect.catchTag(Effect.asVoid(ask(q, { op: "taskDone" })), "SerializationError", Effect.die)
  })

/**
 * Waits until every item put into a joinable queue was marked done.
 *
 * Python equivalent: `JoinableQueue.join()`.
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const q: Queue.JoinableQueue<string>
 * const allDone = Queue.join(q)
 * ```
 * @category operations
 * @since 0.1.0
 */
export const join = <A>(queue: JoinableQueue<A>): Effect.Effect<void, QueueError> =>
  Effect.suspend(() => {
    const q = impl(queue) as QueueImpl<unknown>
    const core = localCore(q)
    if (core === null) return Effect.fail(shutDownError())
    if (core) {
      return Effect.callback<void, QueueError>((resume) => {
        const settle = settleTo<void>(resume)
        let release: (() => void) | undefined
        const w = core.addJoiner((ok, value) => {
          release?.()
          settle(ok, value)
        })
        if (!w) return resume(Effect.void)
        // A waiting join keeps this process alive, as Python's blocked thread does.
        release = hold()
        return Effect.sync(() => {
          release!()
          stop(w)
          core.joiners.delete(w)
        })
      })
    }
    return whileWaiting(Effect.catchTag(Effect.asVoid(ask(q, { op: "join" })), "SerializationError", Effect.die))
  })

/** Options of {@link stream}. */
export interface StreamOptions {
  /** The stream ends (without emitting it) when this item arrives: Python's `iter(q.get, sentinel)`. */
  readonly sentinel?: unknown
}

const isSentinel = (options: StreamOptions | undefined, a: unknown): boolean =>
  options !== undefined && "sentinel" in options && (Object.is(a, options.sentinel))

/**
 * Reads the queue as a Stream: it ends at the sentinel (if given) or when the handle or the
 * queue is closed; other failures (`InvalidItem`, `Unavailable`) fail the stream.
 *
 * Python equivalent: `for item in iter(q.get, sentinel)`.
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * import { Stream } from "effect"
 * declare const q: Queue.Queue<number | null>
 * const all = Stream.runCollect(Queue.stream(q, { sentinel: null }))
 * ```
 * @category streams
 * @since 0.1.0
 */
export const stream = <A>(queue: AnyQueue<A>, options?: StreamOptions): Stream.Stream<A, QueueError | SerializationError> =>
  Stream.unfold(undefined as void, () =>
    get(queue).pipe(
      Effect.map((a): readonly [A, void] | undefined => isSentinel(options, a) ? undefined : [a, undefined]),
      Effect.catchIf((e): e is QueueError => e._tag === "QueueError" && e.reason === "Closed", () => Effect.succeed(undefined))
    ))

/**
 * Reads the queue as an async iterable (same ending rules as {@link stream}).
 *
 * Python equivalent: `for item in iter(q.get, sentinel)`.
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * declare const q: Queue.Queue<string | null>
 * for await (const item of Queue.toAsyncIterable(q, { sentinel: null })) console.log(item)
 * ```
 * @category streams
 * @since 0.1.0
 */
export const toAsyncIterable = <A>(queue: AnyQueue<A>, options?: StreamOptions): AsyncIterable<A> =>
  Stream.toAsyncIterable(stream(queue, options))

/**
 * Whether a value is a queue handle.
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives"
 * Queue.isQueue({}) // false
 * ```
 * @category guards
 * @since 0.1.0
 */
export const isQueue = (u: unknown): u is AnyQueue<unknown> => u instanceof QueueImpl

export { SerializationError }
