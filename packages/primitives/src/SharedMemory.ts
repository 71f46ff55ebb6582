/**
 * SharedMemory: named blocks of shared bytes, a fixed-length list stored in one, and a manager
 * that unlinks the blocks it created.
 *
 * - Blocks are named in one registry (an actor in the main process, at a well-known address), so
 *   any process of the tree can create or attach by name. The bytes are a SharedArrayBuffer held
 *   by the registry: every process that reaches it through worker threads maps the same memory
 *   (`buf`, no copies). A child *process* (Node has no OS shared memory) gets a handle served by
 *   the process holding the memory: `read` / `write` work the same there, `buf` fails `NotShared`.
 * - Ownership is explicit: `unlink` removes the name (once; a second unlink is `FileNotFound`),
 *   and a block whose creator dies without unlinking it is unlinked then (no leaks, no global
 *   tracker process, and attaching processes never unlink what they borrowed: Python gh-82300).
 *
 * Python equivalent: `multiprocessing.shared_memory` (`SharedMemory`, `ShareableList`) and
 * `multiprocessing.managers.SharedMemoryManager`.
 *
 * @since 0.1.0
 */
import { Actor, Codec } from "@multiproc/runtime"
import * as kernel from "@multiproc/runtime/internal/kernel"
import { pyRepr } from "./internal/typecodes.ts"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { randomBytes } from "node:crypto"

/**
 * Why a shared memory operation failed.
 *
 * - `FileExists`: creating a name that exists (Python: `FileExistsError`).
 * - `FileNotFound`: attaching or unlinking a name that does not exist (Python: `FileNotFoundError`).
 * - `ValueError`: a bad size, or a ShareableList item that does not fit its slot.
 * - `IndexError`: an index out of range. `TypeError`: a ShareableList index that is no integer
 *   (`get(1.5)`, Python's "list indices must be integers or slices, not float").
 * - `Closed`: using a closed handle.
 * - `NotShared`: `buf` on a handle served by another process (use `read` / `write`).
 * - `Unreachable`: the registry or the process holding the memory is gone.
 *
 * @example
 * ```ts
 * import { SharedMemory } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const maybe = SharedMemory.attach("psm_missing").pipe(
 *   Effect.catchTag("SharedMemoryError", (e) => Effect.succeed(e.reason)) // "FileNotFound"
 * )
 * ```
 * @category errors
 * @since 0.1.0
 */
export class SharedMemoryError extends Schema.TaggedError<SharedMemoryError>()("SharedMemoryError", {
  reason: Schema.Literals(["FileExists", "FileNotFound", "ValueError", "IndexError", "TypeError", "Closed", "NotShared", "Unreachable"]),
  message: Schema.String
}) {}

Codec.registerError(SharedMemoryError)

const fail = (reason: SharedMemoryError["reason"], message: string) => new SharedMemoryError({ reason, message })

// ---- serving bytes to processes that cannot map them ------------------------------------------

type HostMessage =
  | { readonly op: "read"; readonly offset: number; readonly length: number }
  | { readonly op: "write"; readonly offset: number; readonly bytes: Uint8Array }

const hosts = new Map<SharedArrayBuffer, Actor.ActorRef<unknown>>()
const hostOf = (sab: SharedArrayBuffer): Actor.ActorRef<unknown> => {
  let ref = hosts.get(sab)
  if (ref) return ref
  ref = Actor.makeUnsafe(Schema.Unknown, {
    receive: (raw, req) => {
      const m = raw as HostMessage
      const bytes = new Uint8Array(sab)
      if (m.op === "read") {
        if (!inRange(m.offset, m.length, bytes.length)) return req.fail(fail("IndexError", "read out of range"))
        return req.reply(bytes.slice(m.offset, m.offset + m.length))
      }
      if (m.op === "write") {
        if (!(m.bytes instanceof Uint8Array) || !inRange(m.offset, m.bytes.length, bytes.length)) {
          return req.fail(fail("IndexError", "write out of range"))
        }
        bytes.set(m.bytes, m.offset)
        return req.reply(undefined)
      }
      req.fail(fail("ValueError", "bad request"))
    }
  }).ref
  hosts.set(sab, ref)
  return ref
}

const inRange = (offset: unknown, length: unknown, size: number): boolean =>
  typeof offset === "number" && typeof length === "number" && Number.isInteger(offset) && Number.isInteger(length) &&
  offset >= 0 && length >= 0 && offset + length <= size

const ask = <A>(ref: Actor.ActorRef<unknown>, message: unknown): Effect.Effect<A, SharedMemoryError> =>
  Effect.mapError(Actor.ask<unknown, A, SharedMemoryError>(ref, message), (e) =>
    e instanceof SharedMemoryError ? e : fail("Unreachable", `shared memory is unreachable: ${(e as Error).message}`))

// ---- handles ----------------------------------------------------------------------------------

type Where = { readonly kind: "local"; readonly sab: SharedArrayBuffer } | { readonly kind: "remote"; readonly ref: Actor.ActorRef<unknown> }

/**
 * A handle on a named block of shared bytes.
 *
 * Python equivalent: `multiprocessing.shared_memory.SharedMemory`.
 *
 * @category models
 * @since 0.1.0
 *
 * @example
 * ```ts
 * import { SharedMemory } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const shm = yield* SharedMemory.create({ size: 16 })
 *   return shm.name
 * }))
 * ```
 */
export class SharedMemory {
  readonly name: string
  readonly size: number
  /** @internal */
  readonly where: Where
  private closedFlag = false
  constructor(name: string, size: number, where: Where) {
    this.name = name
    this.size = size
    this.where = where
  }
  /** Whether this handle maps the memory itself (this process or a worker thread of it). */
  get isShared(): boolean {
    return this.where.kind === "local"
  }
  get closed(): boolean {
    return this.closedFlag
  }
  /** The bytes themselves (Python's `buf`); `NotShared` on a handle served by another process. */
  get buf(): Uint8Array {
    if (this.closedFlag) throw fail("Closed", "operation on a closed SharedMemory")
    if (this.where.kind !== "local") throw fail("NotShared", `the block ${this.name} lives in another process; use read / write`)
    return new Uint8Array(this.where.sab)
  }
  /** Detaches this handle (Python's `close()`); the block stays until unlinked. Idempotent. */
  close(): void {
    this.closedFlag = true
  }
  /** Copies `length` bytes from `offset` (works on every handle). */
  read(offset = 0, length = this.size - offset): Effect.Effect<Uint8Array, SharedMemoryError> {
    if (this.closedFlag) return Effect.fail(fail("Closed", "operation on a closed SharedMemory"))
    if (!inRange(offset, length, this.size)) return Effect.fail(fail("IndexError", "read out of range"))
    if (this.where.kind === "local") {
      const sab = this.where.sab
      return Effect.sync(() => new Uint8Array(sab).slice(offset, offset + length))
    }
    return ask(this.where.ref, { op: "read", offset, length })
  }
  /** Writes `bytes` at `offset` (works on every handle). */
  write(offset: number, bytes: Uint8Array): Effect.Effect<void, SharedMemoryError> {
    if (this.closedFlag) return Effect.fail(fail("Closed", "operation on a closed SharedMemory"))
    if (!inRange(offset, bytes.length, this.size)) return Effect.fail(fail("IndexError", "write out of range"))
    if (this.where.kind === "local") {
      const sab = this.where.sab
      return Effect.sync(() => new Uint8Array(sab).set(bytes, offset))
    }
    return ask(this.where.ref, { op: "write", offset, bytes: new Uint8Array(bytes) })
  }
  toString(): string {
    return `SharedMemory('${this.name}', size=${this.size})`
  }
}

Codec.register({
  tag: "multiproc/SharedMemory",
  Class: SharedMemory,
  encode: (m, ctx) => ({
    n: m.name,
    s: m.size,
    w: m.where.kind === "local" ? (ctx.shared ? { sab: m.where.sab } : { ref: hostOf(m.where.sab) }) : { ref: m.where.ref }
  }),
  decode: (p: any) => new SharedMemory(p.n, p.s, p.w.sab ? { kind: "local", sab: p.w.sab } : { kind: "remote", ref: p.w.ref })
})

// ---- the registry (main process) --------------------------------------------------------------

/** The registry's well-known port in the main process. */
const REGISTRY_PORT = -0x5348 // "SH"
const registry: Actor.ActorRef<unknown> = { address: "", port: REGISTRY_PORT }

type RegistryMessage =
  | { readonly op: "create"; readonly name: string; readonly size: number }
  | { readonly op: "attach"; readonly name: string }
  | { readonly op: "unlink"; readonly name: string }
  | { readonly op: "names" }

if (kernel.isMain()) {
  const blocks = new Map<string, { readonly sab: SharedArrayBuffer; readonly size: number; readonly creator: string }>()
  Actor.makeUnsafe(Schema.Unknown, {
    receive: (raw, req) => {
      const m = raw as RegistryMessage
      switch (m?.op) {
        case "create": {
          if (typeof m.name !== "string" || typeof m.size !== "number") return req.fail(fail("ValueError", "bad request"))
          if (blocks.has(m.name)) return req.fail(fail("FileExists", `[Errno 17] File exists: '${m.name}'`))
          const sab = new SharedArrayBuffer(m.size)
          blocks.set(m.name, { sab, size: m.size, creator: req.from })
          return req.reply(new SharedMemory(m.name, m.size, { kind: "local", sab }))
        }
        case "attach": {
          const b = blocks.get(m.name)
          if (!b) return req.fail(fail("FileNotFound", `[Errno 2] No such file or directory: '${m.name}'`))
          return req.reply(new SharedMemory(m.name, b.size, { kind: "local", sab: b.sab }))
        }
        case "unlink": {
          if (!blocks.delete(m.name)) return req.fail(fail("FileNotFound", `[Errno 2] No such file or directory: '${m.name}'`))
          return req.reply(undefined)
        }
        case "names":
          return req.reply([...blocks.keys()])
        default:
          return req.fail(fail("ValueError", "bad request"))
      }
    },
    // A creator that died without unlinking: its blocks go (attachers never own a block).
    down: (dead) => {
      for (const [name, b] of blocks) if (Actor.isAtOrBelow(b.creator, dead) && b.creator !== "") blocks.delete(name)
    }
  }, { port: REGISTRY_PORT })
}

/** Options of {@link create}. */
export interface CreateOptions {
  /** Defaults to a fresh `psm_…` name. */
  readonly name?: string | undefined
  /** Bytes; must be > 0. */
  readonly size: number
}

/**
 * Creates a named block (zero-filled).
 *
 * Python equivalent: `SharedMemory(name=None, create=True, size=n)`.
 *
 * @example
 * ```ts
 * import { SharedMemory } from "@multiproc/primitives"
 * const block = SharedMemory.create({ size: 1024 })
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const create = (options: CreateOptions): Effect.Effect<SharedMemory, SharedMemoryError> =>
  Effect.suspend(() => {
    if (!Number.isInteger(options.size) || options.size <= 0) {
      return Effect.fail(fail("ValueError", "'size' must be a positive number different from zero"))
    }
    if (options.name != null) {
      const bad = badName(options.name)
      if (bad) return Effect.fail(bad)
    }
    const name = options.name ?? `psm_${randomBytes(8).toString("hex")}`
    return ask<SharedMemory>(registry, { op: "create", name, size: options.size })
  })

/**
 * Attaches to an existing block by name.
 *
 * Python equivalent: `SharedMemory(name=name)`.
 *
 * @example
 * ```ts
 * import { SharedMemory } from "@multiproc/primitives"
 * const block = SharedMemory.attach("psm_1234")
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const attach = (name: string): Effect.Effect<SharedMemory, SharedMemoryError> =>
  Effect.suspend(() => {
    const bad = badName(name)
    return bad ? Effect.fail(bad) : ask<SharedMemory>(registry, { op: "attach", name })
  })

// Python's TypeError for a name that is no str, where a number gave a bare "bad request" (create)
// or looked the number up as a name (attach); and its ValueError for a name with a NUL in it (no
// OS takes one), which was created here as a name no Python process could ever open.
function badName(name: unknown): SharedMemoryError | undefined {
  if (typeof name !== "string") return fail("ValueError", `name must be a string, got ${typeof name}`)
  if (name.includes("\0")) return fail("ValueError", "embedded null character")
  return undefined
}

/**
 * Removes the block's name (handles keep working until closed); a second unlink is `FileNotFound`.
 *
 * Python equivalent: `SharedMemory.unlink()`.
 *
 * @example
 * ```ts
 * import { SharedMemory } from "@multiproc/primitives"
 * declare const block: SharedMemory.SharedMemory
 * const gone = SharedMemory.unlink(block)
 * ```
 * @category lifecycle
 * @since 0.1.0
 */
export const unlink = (block: SharedMemory | string): Effect.Effect<void, SharedMemoryError> =>
  Effect.suspend(() => {
    const name = typeof block === "string" ? block : block?.name
    const bad = badName(name)
    return bad ? Effect.fail(bad) : ask<void>(registry, { op: "unlink", name })
  })

/**
 * The names of the blocks that exist now.
 *
 * Python equivalent: listing `/dev/shm`.
 *
 * @example
 * ```ts
 * import { SharedMemory } from "@multiproc/primitives"
 * const names = SharedMemory.names()
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const names = (): Effect.Effect<ReadonlyArray<string>, SharedMemoryError> => ask(registry, { op: "names" })

// ---- ShareableList ----------------------------------------------------------------------------

/**
 * What a ShareableList item can be (Python: int, float, bool, str, bytes, None). A number that is a
 * safe integer is stored as an int and one that is not as a float (both read back unchanged); a
 * bigint is an int and must fit 64 bits (`ValueError`, Python's `struct.error`).
 *
 * @example
 * ```ts
 * import { SharedMemory } from "@multiproc/primitives"
 * const items: Array<SharedMemory.Item> = [1, 1e20, 2n ** 60n, "str", new Uint8Array([1]), true, null]
 * ```
 * @category models
 * @since 0.1.0
 */
export type Item = number | bigint | boolean | string | Uint8Array | null

const T_NONE = 0
const T_INT = 1
const T_FLOAT = 2
const T_BOOL = 3
const T_STR = 4
const T_BYTES = 5

// Layout: [count u32][per slot: type u8, pad 3, used u32, capacity u32, pad 4] then the data area;
// every slot's data capacity is fixed at creation (8 bytes for numbers, the encoded length rounded
// up to 8 for str / bytes), as in Python.
const HEADER = 8
const SLOT = 16

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

// A number is an int slot only when it is a safe integer: a larger one is not exactly an integer
// any more (1e20, 2 ** 64) and is kept as the float it is, so no value ever changes on the way
// through. A bigint is an int slot and must fit int64 (Python: `struct.error` for the 'q' format).
const encodeItem = (v: Item): [number, Uint8Array] => {
  if (v === null) return [T_NONE, new Uint8Array(0)]
  if (typeof v === "boolean") return [T_BOOL, new Uint8Array([v ? 1 : 0])]
  if (typeof v === "bigint" || (typeof v === "number" && Number.isSafeInteger(v) && !Object.is(v, -0))) {
    const n = BigInt(v)
    if (n < INT64_MIN || n > INT64_MAX) {
      throw fail("ValueError", `'q' format requires ${INT64_MIN} <= number <= ${INT64_MAX}`)
    }
    const b = new Uint8Array(8)
    new DataView(b.buffer).setBigInt64(0, n, true)
    return [T_INT, b]
  }
  if (typeof v === "number") {
    const b = new Uint8Array(8)
    new DataView(b.buffer).setFloat64(0, v, true)
    return [T_FLOAT, b]
  }
  if (typeof v === "string") return [T_STR, new TextEncoder().encode(v)]
  if (v instanceof Uint8Array) return [T_BYTES, new Uint8Array(v)]
  throw fail("ValueError", `ShareableList items must be int, float, bool, str, bytes or null, not ${typeof v}`)
}

const decodeItem = (type: number, data: Uint8Array): Item => {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  switch (type) {
    case T_NONE:
      return null
    case T_BOOL:
      return data[0] === 1
    case T_INT: {
      const n = view.getBigInt64(0, true)
      return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n
    }
    case T_FLOAT:
      return view.getFloat64(0, true)
    case T_STR:
      return new TextDecoder().decode(data)
    default:
      return data.slice()
  }
}

// Python allocates `8 * (len // 8 + 1)` bytes for a str / bytes (so "howdy" gets 8, an 8-byte
// item 16); the same here (a str: see strCapacity).
const capacityOf = (n: number) => 8 * (Math.floor(n / 8) + 1)

/** A str's slot: Python's (from its characters) whenever its UTF-8 bytes fit there, so `format` is
 * Python's for what Python stores whole ('encodés', 7 characters in 8 bytes, gets `8s`); from its
 * bytes otherwise, where Python would silently cut the str short. */
const strCapacity = (s: string, bytes: number) => {
  let chars = 0
  for (const _ of s) chars++
  const python = capacityOf(chars)
  return bytes <= python ? python : capacityOf(bytes)
}

/** The struct format of an item of this type in a slot of this capacity (Python's `_types_mapping`). */
const formatOf = (type: number, capacity: number): string => {
  switch (type) {
    case T_INT:
      return "q"
    case T_FLOAT:
      return "d"
    case T_BOOL:
      return "xxxxxxx?"
    case T_NONE:
      return "xxxxxx?x"
    default:
      return `${capacity}s`
  }
}

const inspect = Symbol.for("nodejs.util.inspect.custom")

/**
 * A fixed-length list of simple items stored in one shared block.
 *
 * Python equivalent: `multiprocessing.shared_memory.ShareableList`.
 *
 * @category models
 * @since 0.1.0
 *
 * @example
 * ```ts
 * import { SharedMemory } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const sl = yield* SharedMemory.shareableList([1, "a", 2.5, null])
 *   return sl.get(1) // "a"
 * }))
 * ```
 */
export class ShareableList {
  readonly shm: SharedMemory
  readonly length: number
  private readonly offsets: ReadonlyArray<number>
  private readonly capacities: ReadonlyArray<number>
  constructor(shm: SharedMemory, capacities: ReadonlyArray<number>) {
    this.shm = shm
    this.length = capacities.length
    this.capacities = capacities
    let at = HEADER + SLOT * capacities.length
    const offsets: Array<number> = []
    for (const c of capacities) {
      offsets.push(at)
      at += c
    }
    this.offsets = offsets
  }
  private index(index: number): number | SharedMemoryError {
    // A bigint is a Python int too. Python checks the index's type before its range: sl[1.5] is
    // a TypeError, sl[7.5] too.
    const i = typeof index === "bigint" ? Number(index) : index
    if (!Number.isInteger(i)) return fail("TypeError", `list indices must be integers or slices, not ${pyTypeName(i)}`)
    const j = i < 0 ? i + this.length : i
    return j >= 0 && j < this.length ? j : fail("IndexError", "index out of range")
  }
  /** The items read synchronously where the memory is shared; `undefined` where it is not. */
  private peek(): Array<Item> | undefined {
    if (!this.shm.isShared || this.shm.closed) return undefined
    const bytes = this.shm.buf
    const dv = new DataView(bytes.buffer)
    return this.offsets.map((at, j) => decodeItem(dv.getUint8(HEADER + SLOT * j), bytes.slice(at, at + dv.getUint32(HEADER + SLOT * j + 4, true))))
  }
  /**
   * The struct format of the items stored now, Python's `format` (`q` int, `d` float, `8s` a str
   * or bytes slot of 8 bytes, `xxxxxxx?` bool, `xxxxxx?x` None).
   */
  get format(): Effect.Effect<string, SharedMemoryError> {
    return Effect.map(this.shm.read(HEADER, SLOT * this.length), (slots) => {
      const dv = new DataView(slots.buffer)
      return this.capacities.map((c, j) => formatOf(dv.getUint8(SLOT * j), c)).join("")
    })
  }
  /** `sl[i]`. */
  get(i: number): Effect.Effect<Item, SharedMemoryError> {
    const j = this.index(i)
    if (typeof j !== "number") return Effect.fail(j)
    const self = this
    return Effect.gen(function*() {
      const slot = new DataView((yield* self.shm.read(HEADER + SLOT * j, SLOT)).buffer)
      const type = slot.getUint8(0)
      const used = slot.getUint32(4, true)
      return decodeItem(type, yield* self.shm.read(self.offsets[j]!, used))
    })
  }
  /** `sl[i] = v`; a str / bytes longer than the slot's storage is a `ValueError`, as in Python. */
  set(i: number, v: Item): Effect.Effect<void, SharedMemoryError> {
    const j = this.index(i)
    if (typeof j !== "number") return Effect.fail(j)
    const self = this
    return Effect.gen(function*() {
      const [type, data] = yield* Effect.try({ try: () => encodeItem(v), catch: (e) => e as SharedMemoryError })
      if (data.length > self.capacities[j]!) return yield* fail("ValueError", "bytes/str item exceeds available storage")
      const slot = new Uint8Array(SLOT)
      const dv = new DataView(slot.buffer)
      dv.setUint8(0, type)
      dv.setUint32(4, data.length, true)
      dv.setUint32(8, self.capacities[j]!, true)
      yield* self.shm.write(self.offsets[j]!, data)
      yield* self.shm.write(HEADER + SLOT * j, slot)
    })
  }
  /** All items, in order. */
  toArray(): Effect.Effect<Array<Item>, SharedMemoryError> {
    return Effect.forEach(Array.from({ length: this.length }, (_, i) => i), (i) => this.get(i))
  }
  /** Python's `count(value)`. */
  count(v: Item): Effect.Effect<number, SharedMemoryError> {
    return Effect.map(this.toArray(), (xs) => xs.filter((x) => same(x, v)).length)
  }
  /** Python's `index(value)`: `ValueError` when absent. */
  indexOf(v: Item): Effect.Effect<number, SharedMemoryError> {
    return Effect.flatMap(this.toArray(), (xs) => {
      const i = xs.findIndex((x) => same(x, v))
      return i < 0 ? Effect.fail(fail("ValueError", `${String(v)} not in this container`)) : Effect.succeed(i)
    })
  }
  /**
   * Python's `repr`: `ShareableList(['a', 1], name='psm_…')`. The items are read synchronously, so
   * a list served by another process (a process-backend child's handle) prints `<remote>` instead.
   */
  toString(): string {
    const items = this.shm.closed ? "<closed>" : this.peek()
    return `ShareableList(${items === undefined ? "<remote>" : pyRepr(items)}, name=${pyRepr(this.shm.name)})`
  }
  [inspect](): string {
    return this.toString()
  }
}

// The Python type's name of what was given as an index, for the TypeError's message.
const pyTypeName = (x: unknown): string =>
  typeof x === "number"
    ? "float"
    : typeof x === "string"
    ? "str"
    : typeof x === "boolean"
    ? "bool"
    : x == null
    ? "NoneType"
    : (x as object).constructor?.name ?? typeof x

// Python's ==, for the items a list holds: bytes by content, and an int whichever way it is held
// (a safe integer reads back as a number even if written as a bigint: count(5n) finds it). A
// bool is not an int here, as JavaScript has it (Python's True == 1 is not copied).
const same = (a: Item, b: Item) =>
  a instanceof Uint8Array && b instanceof Uint8Array
    ? a.length === b.length && a.every((x, i) => x === b[i])
    : a === b || (isInt(a) && isInt(b) && BigInt(a) === BigInt(b))

const isInt = (x: Item): x is number | bigint => typeof x === "bigint" || Number.isSafeInteger(x)

Codec.register({
  tag: "multiproc/SharedMemory/ShareableList",
  Class: ShareableList,
  encode: (l) => ({ shm: l.shm, caps: (l as any).capacities }),
  decode: (p: any) => new ShareableList(p.shm, p.caps)
})

/**
 * What a ShareableList is made from: any iterable of items (a string gives its characters), or
 * another ShareableList (copied).
 *
 * Python equivalent: the `sequence` argument of `ShareableList(sequence)`.
 *
 * @example
 * ```ts
 * import { SharedMemory } from "@multiproc/primitives"
 * const letters: SharedMemory.Source = "howdy" // ['h', 'o', 'w', 'd', 'y']
 * ```
 * @category models
 * @since 0.2.0
 */
export type Source = Iterable<Item> | ShareableList

const itemsOf = (source: Source): Effect.Effect<ReadonlyArray<Item>, SharedMemoryError> => {
  if (source instanceof ShareableList) return source.toArray()
  if (source == null || typeof (source as any)[Symbol.iterator] !== "function") {
    return Effect.fail(fail("ValueError", `'${source === null ? "None" : typeof source}' object is not iterable`))
  }
  return Effect.sync(() => Array.from(source))
}

/**
 * Creates a ShareableList from any iterable (in a new block, or one named `name`).
 *
 * Python equivalent: `ShareableList(sequence, name=None)`.
 *
 * @example
 * ```ts
 * import { SharedMemory } from "@multiproc/primitives"
 * const sl = SharedMemory.shareableList(["howdy", 42, -1.5, true, null])
 * const digits = SharedMemory.shareableList(Array.from({ length: 10 }, (_, i) => i)) // range(10)
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const shareableList = (source: Source, options: { readonly name?: string } = {}): Effect.Effect<ShareableList, SharedMemoryError> =>
  Effect.gen(function*() {
    const items = yield* itemsOf(source)
    const encoded = yield* Effect.try({ try: () => items.map(encodeItem), catch: (e) => e as SharedMemoryError })
    const caps = encoded.map(([type, d], i) => type === T_STR ? strCapacity(items[i] as string, d.length) : type === T_BYTES ? capacityOf(d.length) : 8)
    const size = HEADER + SLOT * items.length + caps.reduce((a, b) => a + b, 0)
    const shm = yield* create({ size, ...(options.name ? { name: options.name } : {}) })
    const head = new Uint8Array(HEADER)
    new DataView(head.buffer).setUint32(0, items.length, true)
    yield* shm.write(0, head)
    const list = new ShareableList(shm, caps)
    // Write capacities first so attachers can rebuild the layout.
    for (let i = 0; i < items.length; i++) yield* list.set(i, items[i]!)
    return list
  })

/**
 * Attaches to an existing ShareableList by its block's name.
 *
 * Python equivalent: `ShareableList(name=name)`.
 *
 * @example
 * ```ts
 * import { SharedMemory } from "@multiproc/primitives"
 * const sl = SharedMemory.attachList("psm_1234")
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const attachList = (name: string): Effect.Effect<ShareableList, SharedMemoryError> =>
  Effect.gen(function*() {
    const shm = yield* attach(name)
    const count = new DataView((yield* shm.read(0, HEADER)).buffer).getUint32(0, true)
    const slots = yield* shm.read(HEADER, SLOT * count)
    const dv = new DataView(slots.buffer)
    return new ShareableList(shm, Array.from({ length: count }, (_, i) => dv.getUint32(SLOT * i + 8, true)))
  })

// ---- SharedMemoryManager ----------------------------------------------------------------------

/**
 * Creates blocks and lists that are all unlinked when its Scope closes.
 *
 * Python equivalent: `multiprocessing.managers.SharedMemoryManager`.
 *
 * @category models
 * @since 0.1.0
 */
export interface SharedMemoryManager {
  readonly sharedMemory: (size: number) => Effect.Effect<SharedMemory, SharedMemoryError>
  readonly shareableList: (items: Source) => Effect.Effect<ShareableList, SharedMemoryError>
  /** The names it created and has not unlinked yet. */
  readonly names: () => ReadonlyArray<string>
}

/**
 * A SharedMemoryManager for as long as the Scope lives; once it has closed, creating fails with
 * `SharedMemoryError` `Closed`.
 *
 * Python equivalent: `with SharedMemoryManager() as smm:`.
 *
 * @example
 * ```ts
 * import { SharedMemory } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const smm = yield* SharedMemory.manager()
 *   const block = yield* smm.sharedMemory(128)
 * }))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const manager = (): Effect.Effect<SharedMemoryManager, never, Scope.Scope> =>
  Effect.gen(function*() {
    const created = new Set<string>()
    let shutDown = false
    yield* Effect.addFinalizer(() =>
      Effect.suspend(() => {
        shutDown = true
        return Effect.forEach([...created], (name) => Effect.ignore(unlink(name)), { discard: true })
      })
    )
    // After shutdown nothing would unlink a new block: refuse, as Python's manager (its server
    // gone) does, instead of leaking it.
    const open = <A>(make: Effect.Effect<A, SharedMemoryError>, name: (a: A) => string): Effect.Effect<A, SharedMemoryError> =>
      Effect.suspend(() =>
        shutDown
          ? Effect.fail(new SharedMemoryError({ reason: "Closed", message: "the SharedMemoryManager was shut down" }))
          : Effect.tap(make, (a) => Effect.sync(() => created.add(name(a))))
      )
    return {
      sharedMemory: (size) => open(create({ size }), (b) => b.name),
      shareableList: (items) => open(shareableList(items), (l) => l.shm.name),
      names: () => [...created]
    }
  })
