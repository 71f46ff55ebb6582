/**
 * SharedValue: typed values, fixed-length arrays and structures (named fields of typecodes) in
 * shared memory, with Python's typecodes and lock options; `copy` and `synchronized` as in
 * `multiprocessing.sharedctypes`.
 *
 * - In the process that creates them, and in every worker thread they reach, they are real shared
 *   memory (a SharedArrayBuffer; nothing is copied): `v.value`, `a.get(i)`, `a.set(i, x)` read and
 *   write it directly, and the default lock is a futex lock in the same memory
 *   (`withLockSync` costs a compare-and-swap when uncontended).
 * - Node gives OS processes no shared memory. A value sent to a child *process* arrives as a
 *   handle served by the process that holds the memory (an actor): the Effect functions (`get`,
 *   `set`, `getItem`, `update`, a `c` array's `getValue` / `setValue` / `getRaw` / `setRaw`, the
 *   lock's `acquire` / `release`) work the same there, one message
 *   round trip each, and stay correct under the lock because the server takes the very same lock
 *   on the remote holder's behalf. The synchronous accessors fail with `NotShared` on such a
 *   handle. A remote holder that dies has its lock released.
 *
 * Python equivalent: `multiprocessing.Value`, `Array`, `RawValue`, `RawArray`
 * (`multiprocessing.sharedctypes`, with its `copy`, `synchronized` and ctypes `Structure` types).
 *
 * @since 0.1.0
 */
import { Actor, Codec } from "@multiproc/runtime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as L from "./internal/shared-lock.ts"
import * as RealLock from "./Lock.ts"
import * as tc from "./internal/typecodes.ts"

export type { Element, Fields, StructOf, Typecode } from "./internal/typecodes.ts"

/**
 * Misuse of a shared value, or a failed remote access.
 *
 * - `TypeError`: a bad typecode, a value of the wrong type for it, a structure field it does not
 *   have, `copy` / `synchronized` of what is no shared value, array or structure (Python: `TypeError`).
 * - `IndexError`: an index out of range. `ValueError`: a slice assignment of the wrong size, a
 *   string or bytes longer than its `c` array (`value` / `raw`), `synchronized` of an object that
 *   already has a lock.
 * - `NoLock`: `getLock` on a raw value (Python: `AttributeError`).
 * - `NotShared`: a synchronous accessor on a handle served by another process.
 * - `Unlocked`: releasing a lock that is not held. `NotOwner`: releasing an RLock held by another.
 * - `Unreachable`: the process holding the memory is gone.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const safe = SharedValue.value("i", 1.5).pipe(
 *   Effect.catchTag("SharedValueError", (e) => Effect.succeed(e.reason)) // "TypeError"
 * )
 * ```
 * @category errors
 * @since 0.1.0
 */
export class SharedValueError extends Schema.TaggedError<SharedValueError>()("SharedValueError", {
  reason: Schema.Literals(["TypeError", "IndexError", "ValueError", "NoLock", "NotShared", "Unlocked", "NotOwner", "Unreachable"]),
  message: Schema.String
}) {}

Codec.registerError(SharedValueError)

const fail = (reason: SharedValueError["reason"], message: string) => new SharedValueError({ reason, message })

const fromThrown = (e: unknown): SharedValueError => {
  if (e instanceof SharedValueError) return e
  const name = (e as Error)?.name
  const reason = name === "IndexError" ? "IndexError" : name === "ValueError" ? "ValueError" : "TypeError"
  return fail(reason, (e as Error)?.message ?? String(e))
}

const ms = (d: Duration.Input | undefined): number | null =>
  d === undefined ? null : (() => {
    const x = Duration.fromInputUnsafe(d)
    return Duration.isFinite(x) ? Math.max(0, Duration.toMillis(x)) : null
  })()

// ---- the host: serves memory to processes that cannot map it ----------------------------------

type HostMessage =
  | { readonly op: "read"; readonly code: tc.Typecode; readonly offset: number; readonly length: number; readonly indices: ReadonlyArray<number> }
  | { readonly op: "write"; readonly code: tc.Typecode; readonly offset: number; readonly length: number; readonly indices: ReadonlyArray<number>; readonly values: ReadonlyArray<unknown> }
  | { readonly op: "acquire"; readonly offset: number; readonly recursive: boolean; readonly timeout: number | null }
  | { readonly op: "release"; readonly offset: number; readonly recursive: boolean }
  // A structure's fields: [typecode, byte offset] each, read or written in one message.
  | { readonly op: "readFields"; readonly fields: ReadonlyArray<readonly [tc.Typecode, number]> }
  | { readonly op: "writeFields"; readonly fields: ReadonlyArray<readonly [tc.Typecode, number]>; readonly values: ReadonlyArray<unknown> }

const hosts = new Map<SharedArrayBuffer, Actor.ActorRef<unknown>>()

const hostOf = (sab: SharedArrayBuffer): Actor.ActorRef<unknown> => {
  const known = hosts.get(sab)
  if (known) return known
  // Remote holders, by their process address: the token the lock records for them.
  const tokens = new Map<string, number>()
  const locksHeld = new Map<string, Set<number>>()
  const tokenOf = (from: string) => {
    let t = tokens.get(from)
    if (t === undefined) tokens.set(from, t = L.remoteToken())
    return t
  }
  const lockAt = (offset: number, recursive: boolean): L.LockWords => ({ words: new Int32Array(sab, offset, 3), recursive })
  const handle = Actor.makeUnsafe(Schema.Unknown, {
    receive: (raw, req) => {
      const m = raw as HostMessage
      try {
        switch (m.op) {
          case "read": {
            const s = tc.specOf(m.code)
            const cells = s.make(sab, m.offset, m.length)
            return req.reply(m.indices.map((i) => tc.fromRaw(s, cells[tc.normIndex(m.length, i)]!)))
          }
          case "write": {
            const s = tc.specOf(m.code)
            const cells = s.make(sab, m.offset, m.length)
            const raws = m.values.map((v) => tc.toRaw(s, v))
            m.indices.forEach((i, k) => cells[tc.normIndex(m.length, i)] = raws[k] as never)
            return req.reply(undefined)
          }
          case "readFields":
            return req.reply(m.fields.map(([code, offset]) => {
              const s = tc.specOf(code)
              return tc.fromRaw(s, s.make(sab, offset, 1)[0]!)
            }))
          case "writeFields": {
            // Every value converted before any is written: a refused one writes nothing.
            const raws = m.fields.map(([code], k) => tc.toRaw(tc.specOf(code), m.values[k]))
            m.fields.forEach(([code, offset], k) => tc.specs[code].make(sab, offset, 1)[0] = raws[k] as never)
            return req.reply(undefined)
          }
          case "acquire": {
            const lock = lockAt(m.offset, m.recursive)
            const token = tokenOf(req.from)
            const controller = new AbortController()
            req.onCancel(() => controller.abort())
            void L.acquireAsync(lock, token, m.timeout, controller.signal).then((ok) => {
              if (controller.signal.aborted) {
                if (ok) L.release(lock, token)
                return
              }
              if (ok) {
                let held = locksHeld.get(req.from)
                if (!held) locksHeld.set(req.from, held = new Set())
                held.add(m.offset)
              }
              req.reply(ok)
            })
            return
          }
          case "release": {
            const r = L.release(lockAt(m.offset, m.recursive), tokenOf(req.from))
            if (r === "unlocked") return req.fail(fail("Unlocked", "release unlocked lock"))
            if (r === "not-owner") return req.fail(fail("NotOwner", "cannot release un-acquired lock"))
            return req.reply(undefined)
          }
        }
      } catch (e) {
        req.fail(fromThrown(e))
      }
    },
    // A holder that died (or gave up after the grant) does not keep the lock.
    down: (dead) => {
      for (const [from, offsets] of locksHeld) {
        if (!Actor.isAtOrBelow(from, dead)) continue
        const token = tokens.get(from)
        for (const offset of offsets) {
          const lock = lockAt(offset, true)
          if (L.ownerOf(lock) === token) L.forceRelease(lock)
        }
        locksHeld.delete(from)
      }
    },
    abandoned: (raw, value, req) => {
      const m = raw as HostMessage
      if (m.op === "acquire" && value === true) L.release(lockAt(m.offset, m.recursive), tokenOf(req.from))
    }
  })
  hosts.set(sab, handle.ref)
  return handle.ref
}

const askHost = <A>(ref: Actor.ActorRef<unknown>, message: HostMessage): Effect.Effect<A, SharedValueError> =>
  Effect.mapError(Actor.ask<unknown, A, SharedValueError>(ref, message), (e) =>
    e instanceof SharedValueError ? e : fail("Unreachable", `the process holding the shared memory is unreachable: ${(e as Error).message}`))

// ---- the lock ---------------------------------------------------------------------------------

/**
 * The minimal lock interface shared values need (the project's `Lock` satisfies it too).
 *
 * @category models
 * @since 0.1.0
 */
export interface LockLike {
  readonly acquire: (options?: AcquireOptions) => Effect.Effect<boolean, SharedValueError>
  readonly release: () => Effect.Effect<void, SharedValueError>
}

/** Options of `acquire`. */
export interface AcquireOptions {
  /** `false`: do not wait. Default true. */
  readonly block?: boolean | undefined
  /** How long to wait; default forever. */
  readonly timeout?: Duration.Input | undefined
}

type Where =
  | { readonly kind: "local"; readonly sab: SharedArrayBuffer }
  | { readonly kind: "remote"; readonly ref: Actor.ActorRef<unknown> }

/**
 * A lock in shared memory: recursive (Python's default `RLock`) or not (`Lock`).
 *
 * Python equivalent: the `RLock` a `Value` / `Array` is created with (`get_lock()`).
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.gen(function*() {
 *   const v = yield* SharedValue.value("i", 0)
 *   const lock = yield* SharedValue.getLock(v)
 *   lock.withLockSync(() => { v.value = (v.value as number) + 1 })
 * })
 * ```
 * @category models
 * @since 0.1.0
 */
export class SharedLock implements LockLike {
  /** @internal */
  readonly where: Where
  /** @internal */
  readonly offset: number
  readonly recursive: boolean
  private readonly lock: L.LockWords | undefined
  constructor(where: Where, offset: number, recursive: boolean) {
    this.where = where
    this.offset = offset
    this.recursive = recursive
    this.lock = where.kind === "local" ? { words: new Int32Array(where.sab, offset, 3), recursive } : undefined
  }
  /** Whether this handle works on the memory itself (same process or a worker thread of it). */
  get isShared(): boolean {
    return this.lock !== undefined
  }
  /** Python's `acquire(block=True, timeout=None)`; never blocks the event loop. */
  acquire(options?: AcquireOptions): Effect.Effect<boolean, SharedValueError> {
    const timeout = options?.block === false ? 0 : ms(options?.timeout)
    const lock = this.lock
    if (lock) {
      return Effect.callback<boolean, SharedValueError>((resume) => {
        const controller = new AbortController()
        void L.acquireAsync(lock, L.localToken, timeout, controller.signal).then((ok) => {
          if (controller.signal.aborted) {
            if (ok) L.release(lock, L.localToken)
          } else resume(Effect.succeed(ok))
        })
        return Effect.sync(() => controller.abort())
      })
    }
    return askHost<boolean>((this.where as { ref: Actor.ActorRef<unknown> }).ref, { op: "acquire", offset: this.offset, recursive: this.recursive, timeout })
  }
  release(): Effect.Effect<void, SharedValueError> {
    const lock = this.lock
    if (lock) return Effect.suspend(() => releaseResult(L.release(lock, L.localToken)))
    return askHost<void>((this.where as { ref: Actor.ActorRef<unknown> }).ref, { op: "release", offset: this.offset, recursive: this.recursive })
  }
  /** Runs `effect` holding the lock (Python's `with lock:`). */
  withLock<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SharedValueError, R> {
    return Effect.acquireUseRelease(this.acquire(), () => effect, () => Effect.ignore(this.release()))
  }
  /** Blocking acquire for worker threads (on the main thread it blocks the event loop). */
  acquireSync(options?: AcquireOptions): boolean {
    return L.acquireSync(this.local(), L.localToken, options?.block === false ? 0 : ms(options?.timeout))
  }
  releaseSync(): void {
    const r = L.release(this.local(), L.localToken)
    if (r !== "ok") throw releaseError(r)
  }
  /** Runs `f` holding the lock, synchronously (the fast path for hot counters in threads). */
  withLockSync<A>(f: () => A): A {
    const lock = this.local()
    // The free-lock paths inline (one compare-and-swap in, one store and one load out): hot
    // counters often run in fresh workers, where V8 interprets for a while and every call counts.
    // (Measured: 2 threads x 100,000 increments from cold, 1.97M -> 2.56M/s.) Only the owner
    // changes the owner word from its own token, so a check then a store releases safely.
    const w = lock.words
    if (Atomics.compareExchange(w, L.OWNER, 0, L.localToken) === 0) w[L.COUNT] = 1
    else L.acquireSync(lock, L.localToken, null)
    try {
      return f()
    } finally {
      if (lock.recursive && w[L.COUNT]! > 1) L.release(lock, L.localToken)
      else if (Atomics.load(w, L.OWNER) === L.localToken) {
        w[L.COUNT] = 0
        Atomics.store(w, L.OWNER, 0)
        if (Atomics.load(w, L.WAITERS) > 0) L.wakeOne(w)
      }
    }
  }
  private local(): L.LockWords {
    if (!this.lock) throw fail("NotShared", "this lock lives in another process; use acquire / release (Effects)")
    return this.lock
  }
}

const releaseError = (r: L.ReleaseResult) =>
  r === "unlocked" ? fail("Unlocked", "release unlocked lock") : fail("NotOwner", "cannot release un-acquired lock")
const releaseResult = (r: L.ReleaseResult): Effect.Effect<void, SharedValueError> => r === "ok" ? Effect.void : Effect.fail(releaseError(r))

const encodeWhere = (where: Where, ctx: { readonly shared: ReadonlyArray<unknown> | undefined }) =>
  where.kind === "local"
    ? ctx.shared ? { sab: where.sab } : { ref: hostOf(where.sab) }
    : { ref: where.ref }

const decodeWhere = (p: { sab?: SharedArrayBuffer; ref?: Actor.ActorRef<unknown> }): Where =>
  p.sab ? { kind: "local", sab: p.sab } : { kind: "remote", ref: p.ref! }

Codec.register({
  tag: "multiproc/SharedValue/Lock",
  Class: SharedLock,
  encode: (l, ctx) => ({ w: encodeWhere(l.where, ctx), o: l.offset, r: l.recursive }),
  decode: (p: any) => new SharedLock(decodeWhere(p.w), p.o, p.r)
})

/**
 * A new lock in shared memory, to share between several values (Python: `Value(..., lock=lock)`).
 *
 * Python equivalent: `multiprocessing.RLock()` / `Lock()` passed as a value's `lock`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.gen(function*() {
 *   const lock = SharedValue.makeLock()
 *   const a = yield* SharedValue.value("i", 0, { lock })
 *   const b = yield* SharedValue.value("i", 0, { lock })
 * })
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const makeLock = (options: { readonly recursive?: boolean } = {}): SharedLock =>
  new SharedLock({ kind: "local", sab: new SharedArrayBuffer(L.LOCK_BYTES) }, 0, options.recursive ?? true)

// ---- values and arrays ----------------------------------------------------------------------

/**
 * A lock a value or array can be created with: the shared-memory lock of this module (the
 * default), or the project's own `Lock` / `RLock` (Python: `Value(..., lock=multiprocessing.Lock())`).
 *
 * @category models
 * @since 0.1.0
 */
export type AnyLock = SharedLock | RealLock.Lock | RealLock.RLock

/** Options of the constructors. */
export interface Options<Lk extends AnyLock = SharedLock> {
  /** `true` (default; `null` too, Python's `lock=None`): a new recursive shared-memory lock;
   * `false`: none (a raw value); or a lock to use (a {@link SharedLock}, or a `Lock` / `RLock` of
   * the `Lock` module). */
  readonly lock?: boolean | Lk | null | undefined
}

abstract class Cells<Lk extends AnyLock = SharedLock> {
  readonly typecode: tc.Typecode
  /** @internal */
  readonly where: Where
  /** @internal */
  readonly offset: number
  readonly length: number
  /** @internal */
  readonly lockHandle: Lk | undefined
  /** @internal */
  readonly spec: tc.Spec
  /** @internal */
  readonly cells: ReturnType<tc.Spec["make"]> | undefined
  /** @internal The cells when they hold plain numbers (int and float typecodes; the hot path). */
  readonly numeric: { [i: number]: number } | undefined
  constructor(typecode: tc.Typecode, where: Where, offset: number, length: number, lock: Lk | undefined) {
    this.typecode = typecode
    this.where = where
    this.offset = offset
    this.length = length
    this.lockHandle = lock
    this.spec = tc.specs[typecode]
    this.cells = where.kind === "local" ? this.spec.make(where.sab, offset, length) : undefined
    this.numeric = this.spec.kind === "int" || this.spec.kind === "float" ? this.cells as Float64Array | undefined : undefined
  }
  /** Whether this handle reads and writes the memory directly. */
  get isShared(): boolean {
    return this.cells !== undefined
  }
  /** @internal */
  local(): ReturnType<tc.Spec["make"]> {
    if (!this.cells) throw fail("NotShared", "this value lives in another process; use the Effect functions (get, set, getItem, ...)")
    return this.cells
  }
  /** @internal */
  readAt(i: number): unknown {
    const cells = this.local()
    try {
      return tc.fromRaw(this.spec, cells[tc.normIndex(this.length, i)]!)
    } catch (e) {
      throw fromThrown(e)
    }
  }
  /** @internal */
  writeAt(i: number, v: unknown): void {
    const cells = this.local()
    try {
      cells[tc.normIndex(this.length, i)] = tc.toRaw(this.spec, v) as never
    } catch (e) {
      throw fromThrown(e)
    }
  }
}

/**
 * A single typed value in shared memory.
 *
 * Python equivalent: `multiprocessing.Value` / `RawValue` (a `Synchronized` / ctypes object).
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.gen(function*() {
 *   const v = yield* SharedValue.value("d", 1.5)
 *   v.value = 2.5
 * })
 * ```
 * @category models
 * @since 0.1.0
 */
export class Value<A = unknown, Lk extends AnyLock = SharedLock> extends Cells<Lk> {
  /** Reads or writes the value directly (shared handles only; `NotShared` otherwise). */
  get value(): A {
    // Hot path for numeric cells (counters under a lock): no index checks, no conversion.
    const c = this.numeric
    if (c !== undefined) return c[0] as A
    return this.readAt(0) as A
  }
  set value(v: A) {
    const c = this.numeric
    if (c !== undefined && typeof v === "number" && (this.spec.kind === "float" || Number.isInteger(v))) {
      c[0] = v as never
      return
    }
    this.writeAt(0, v)
  }
  /**
   * Python's repr: `<Synchronized wrapper for c_int(5)>`, or `c_int(5)` for a raw value. A handle
   * served by another process (a process-backend child) cannot read synchronously: `c_int(<remote>)`.
   */
  override toString(): string {
    const obj = this.isShared ? tc.ctypesRepr(this.typecode, this.value) : `${tc.ctypesNames[this.typecode]}(<remote>)`
    return this.lockHandle === undefined ? obj : `<Synchronized wrapper for ${obj}>`
  }
}

const arrayName = (a: Cells<AnyLock>) => `${tc.ctypesNames[a.typecode]}_Array_${a.length}`

/** A `c` / `u` array's `.value` from its characters: up to the first NUL. */
const textOf = (a: Cells<AnyLock>, chars: ReadonlyArray<unknown>): string => {
  if (a.spec.kind !== "char" && a.spec.kind !== "wchar") {
    throw new tc.TypecodeError("TypeError", `'${arrayName(a)}' object has no attribute 'value'`)
  }
  const s = chars.join("")
  const nul = s.indexOf("\x00")
  return nul < 0 ? s : s.slice(0, nul)
}

/** A `c` array's bytes as a latin-1 string, each character checked to be a byte. */
const latin1 = (s: string, what: string): string => {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 255) {
      throw new tc.TypecodeError("TypeError", `${what}: a string stands for bytes in a 'c' array, one character each from '\\x00' to '\\xff', not ${tc.pyStr(s[i]!)}`)
    }
  }
  return s
}

/** What `a.value = s` writes, checked before anything is (Python's errors): the characters, then
 * a NUL when there is room. */
const valueChars = (a: Cells<AnyLock>, s: unknown): globalThis.Array<string> => {
  let chars: globalThis.Array<string>
  if (a.spec.kind === "char") {
    if (typeof s === "string") chars = [...latin1(s, "bytes expected")]
    else if (s instanceof Uint8Array) chars = globalThis.Array.from(s, (b) => String.fromCharCode(b))
    else throw new tc.TypecodeError("TypeError", `bytes expected instead of ${tc.describe(s)} instance`)
    if (chars.length > a.length) throw new tc.TypecodeError("ValueError", "byte string too long")
  } else if (a.spec.kind === "wchar") {
    if (typeof s !== "string") throw new tc.TypecodeError("TypeError", `unicode string expected instead of ${tc.describe(s)} instance`)
    chars = [...s]
    if (chars.length > a.length) throw new tc.TypecodeError("ValueError", "string too long")
  } else {
    throw new tc.TypecodeError("TypeError", `'${arrayName(a)}' object has no attribute 'value'`)
  }
  if (chars.length < a.length) chars.push("\x00")
  return chars
}

/** Only a `c` array has `.raw` (Python: AttributeError on the others, `u` included). */
const rawOnly = (a: Cells<AnyLock>): void => {
  if (a.spec.kind !== "char") throw new tc.TypecodeError("TypeError", `'${arrayName(a)}' object has no attribute 'raw'`)
}

/** What `a.raw = b` writes, checked first: the bytes of a bytes-like object (or of a string of
 * characters `\x00`-`\xff`), no longer than the array. */
const rawBytes = (a: Cells<AnyLock>, b: unknown): globalThis.Array<number> => {
  rawOnly(a)
  let bytes: globalThis.Array<number>
  if (typeof b === "string") bytes = globalThis.Array.from(latin1(b, "a bytes-like object is required"), (ch) => ch.charCodeAt(0))
  else if (ArrayBuffer.isView(b)) bytes = [...new Uint8Array(b.buffer, b.byteOffset, b.byteLength)]
  else if (b instanceof ArrayBuffer || b instanceof SharedArrayBuffer) bytes = [...new Uint8Array(b)]
  else throw new tc.TypecodeError("TypeError", `a bytes-like object is required, not '${tc.describe(b)}'`)
  if (bytes.length > a.length) throw new tc.TypecodeError("ValueError", "byte string too long")
  return bytes
}

/**
 * A fixed-length typed array in shared memory.
 *
 * Python equivalent: `multiprocessing.Array` / `RawArray`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.gen(function*() {
 *   const a = yield* SharedValue.array("i", [1, 2, 3])
 *   a.set(0, a.get(-1) as number)
 * })
 * ```
 * @category models
 * @since 0.1.0
 */
export class Array<A = unknown, Lk extends AnyLock = SharedLock> extends Cells<Lk> {
  /** `a[i]` (negative indices count from the end). */
  get(index: number): A {
    return this.readAt(index) as A
  }
  /** `a[i] = v`. */
  set(index: number, value: A): void {
    this.writeAt(index, value)
  }
  /** `a[start:stop:step]`. */
  slice(start?: number | null, stop?: number | null, step?: number | null): globalThis.Array<A> {
    const cells = this.local()
    try {
      return tc.sliceIndices(this.length, start, stop, step).map((j) => tc.fromRaw(this.spec, cells[j]!) as A)
    } catch (e) {
      throw fromThrown(e)
    }
  }
  /** `a[start:stop:step] = values` (same size only, as ctypes arrays; any iterable, as Python
   * takes any sequence: `a.setSlice(null, null, range(10))`). */
  setSlice(start: number | null | undefined, stop: number | null | undefined, values: Iterable<A | number> | ArrayLike<A | number>, step?: number | null): void {
    const cells = this.local()
    try {
      const idx = tc.sliceIndices(this.length, start, stop, step)
      const vs = valuesOf(values)
      if (idx.length !== vs.length) throw new tc.TypecodeError("ValueError", "Can only assign sequence of same size")
      const raw = vs.map((v) => tc.toRaw(this.spec, v))
      idx.forEach((j, k) => cells[j] = raw[k] as never)
    } catch (e) {
      throw fromThrown(e)
    }
  }
  /** A copy as a plain array. */
  toArray(): globalThis.Array<A> {
    return this.slice()
  }
  /** For `c` arrays: the bytes up to the first NUL, as a latin-1 string; for `u` arrays the
   * characters up to the first NUL (Python's `.value`). Other arrays have none (`TypeError`). */
  get value(): string {
    const cells = this.local()
    try {
      return textOf(this, globalThis.Array.from(cells as ArrayLike<number>, (r) => tc.fromRaw(this.spec, r)))
    } catch (e) {
      throw fromThrown(e)
    }
  }
  /** For `c` (and `u`) arrays: writes the characters, then a NUL if there is room (Python's
   * `a.value = b"hello"`; a `c` array takes a string of characters `\x00`-`\xff` or a
   * `Uint8Array`; longer than the array is a `ValueError`, nothing written). */
  set value(s: string | Uint8Array) {
    const cells = this.local()
    try {
      valueChars(this, s).forEach((ch, i) => cells[i] = tc.toRaw(this.spec, ch) as never)
    } catch (e) {
      throw fromThrown(e)
    }
  }
  /** For `c` arrays: all the bytes (Python's `.raw`). Other arrays have none (`TypeError`). */
  get raw(): Uint8Array {
    const cells = this.local()
    try {
      rawOnly(this)
    } catch (e) {
      throw fromThrown(e)
    }
    return new Uint8Array(cells.buffer, cells.byteOffset, cells.byteLength).slice()
  }
  /** For `c` arrays: writes the bytes from the start, the rest untouched (Python's
   * `a.raw = b"..."`): a `Uint8Array` (any bytes-like view or buffer) or a string of characters
   * `\x00`-`\xff`; longer than the array is a `ValueError`, nothing written. */
  set raw(b: string | ArrayBufferView | ArrayBufferLike) {
    const cells = this.local()
    try {
      rawBytes(this, b).forEach((x, i) => cells[i] = x as never)
    } catch (e) {
      throw fromThrown(e)
    }
  }
  *[Symbol.iterator](): Iterator<A> {
    for (let i = 0; i < this.length; i++) yield this.get(i)
  }
}

/**
 * A structure in shared memory: named fields of typecodes, laid out as C lays them out (each field
 * at a multiple of its size), zero where not initialised.
 *
 * `s.value` is the fields themselves, live: `s.value.x` reads the memory, `s.value.x *= 2` writes
 * it, `{ ...s.value }` is a snapshot (shared handles only; `NotShared` otherwise: use `get` / `set`
 * / `update`, which work on every handle). `s.value = { x: 1 }` assigns the fields it names.
 *
 * Python equivalent: `Value(Foo, 3, 2)` / `RawValue(Foo, 3, 2)` with
 * `class Foo(ctypes.Structure): _fields_ = [("x", c_int), ("y", c_double)]`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.gen(function*() {
 *   const foo = yield* SharedValue.value({ x: "i", y: "d" }, { x: 3 })
 *   foo.value.x *= 2
 *   const { x, y } = yield* SharedValue.get(foo) // 6, 0
 * })
 * ```
 * @category models
 * @since 0.1.0
 */
export class Struct<A extends object = Record<string, unknown>, Lk extends AnyLock = SharedLock> {
  /** @internal */
  readonly layout: tc.Layout
  /** @internal */
  readonly where: Where
  /** @internal */
  readonly offset: number
  /** @internal */
  readonly lockHandle: Lk | undefined
  private readonly cells: ReadonlyArray<ReturnType<tc.Spec["make"]>> | undefined
  private readonly view: A | undefined
  constructor(layout: tc.Layout, where: Where, offset: number, lock: Lk | undefined) {
    this.layout = layout
    this.where = where
    this.offset = offset
    this.lockHandle = lock
    if (where.kind === "local") {
      const cells = layout.fields.map((f) => f.spec.make(where.sab, offset + f.offset, 1))
      const view = {}
      layout.fields.forEach((f, i) => {
        const cell = cells[i]!
        Object.defineProperty(view, f.name, {
          enumerable: true,
          get: () => tc.fromRaw(f.spec, cell[0]!),
          set: (v: unknown) => {
            try {
              cell[0] = tc.toRaw(f.spec, v) as never
            } catch (e) {
              throw fromThrown(e)
            }
          }
        })
      })
      // console.log shows the fields' values, not their accessors.
      Object.defineProperty(view, Symbol.for("nodejs.util.inspect.custom"), {
        value: (_depth: number, options: object, inspect: (u: unknown, o: object) => string) => inspect({ ...view }, options)
      })
      this.cells = cells
      // Sealed: assigning a field it does not have throws, rather than adding a property.
      this.view = Object.seal(view) as A
    }
  }
  /** The fields: name to typecode, in order (Python's `_fields_`). */
  get fields(): tc.Fields {
    return Object.fromEntries(this.layout.fields.map((f) => [f.name, f.code]))
  }
  /** Whether this handle reads and writes the memory directly. */
  get isShared(): boolean {
    return this.view !== undefined
  }
  /** The fields, live (shared handles only; `NotShared` otherwise). */
  get value(): A {
    if (!this.view) throw fail("NotShared", "this structure lives in another process; use the Effect functions (get, set, update)")
    return this.view
  }
  /** Assigns the fields named (checked first: a refused one writes nothing). */
  set value(x: StructInit<A>) {
    if (!this.cells) throw fail("NotShared", "this structure lives in another process; use the Effect functions (get, set, update)")
    let writes: ReturnType<typeof tc.structWrites>
    try {
      writes = tc.structWrites(this.layout, x)
    } catch (e) {
      throw fromThrown(e)
    }
    for (const [f, , raw] of writes) this.cells[this.layout.fields.indexOf(f)]![0] = raw as never
  }
  /**
   * A repr after Python's: `Structure(x=3, y=2.0)` (raw), `<SynchronizedStructure wrapper for
   * Structure(x=3, y=2.0)>` (Python names the class: `<Synchronized_Foo wrapper for <_Foo object>>`).
   */
  toString(): string {
    const view = this.view as Record<string, unknown> | undefined
    const obj = view
      ? `Structure(${this.layout.fields.map((f) => `${f.name}=${tc.ctypesShown(f.code, view[f.name])}`).join(", ")})`
      : "Structure(<remote>)"
    return this.lockHandle === undefined ? obj : `<SynchronizedStructure wrapper for ${obj}>`
  }
}

/**
 * What assigns a structure's fields: any of them (a number also for the 64-bit and `c` ones).
 *
 * @category models
 * @since 0.1.0
 */
export type StructInit<A> = { readonly [K in keyof A]?: A[K] | number }

Codec.register({
  tag: "multiproc/SharedValue/Struct",
  Class: Struct,
  encode: (c: Struct<object, AnyLock>, ctx) => ({
    w: encodeWhere(c.where, ctx),
    f: c.layout.fields.map((f) => [f.name, f.code]),
    o: c.offset,
    l: c.lockHandle ?? null
  }),
  decode: (p: any) => new Struct(tc.layoutOf(p.f), decodeWhere(p.w), p.o, p.l ?? undefined)
})

const encodeCells = (c: Cells<AnyLock>, ctx: { readonly shared: ReadonlyArray<unknown> | undefined }) => ({
  w: encodeWhere(c.where, ctx),
  t: c.typecode,
  o: c.offset,
  n: c.length,
  l: c.lockHandle ?? null
})

Codec.register({
  tag: "multiproc/SharedValue/Value",
  Class: Value,
  encode: encodeCells,
  decode: (p: any) => new Value(p.t, decodeWhere(p.w), p.o, p.n, p.l ?? undefined)
})
Codec.register({
  tag: "multiproc/SharedValue/Array",
  Class: Array,
  encode: encodeCells,
  decode: (p: any) => new Array(p.t, decodeWhere(p.w), p.o, p.n, p.l ?? undefined)
})

const allocateBytes = <Lk extends AnyLock>(bytes: number, options: Options<Lk>) => {
  const ownLock = options.lock == null || options.lock === true
  // [lock words (16 bytes) when the lock is our own][cells, 8-aligned]
  const base = ownLock ? L.LOCK_BYTES : 0
  const sab = new SharedArrayBuffer(base + Math.max(bytes, 1))
  const where: Where = { kind: "local", sab }
  const lock = (ownLock ? new SharedLock(where, 0, true) : options.lock === false ? undefined : options.lock) as Lk | undefined
  return { where, offset: base, lock }
}

const allocate = <Lk extends AnyLock>(typecode: tc.Typecode, length: number, options: Options<Lk>) => {
  const spec = tc.specOf(typecode)
  return { spec, ...allocateBytes(spec.size * length, options) }
}

const makeStruct = <Lk extends AnyLock>(layout: tc.Layout, initial: unknown, options: Options<Lk>): Effect.Effect<Struct<any, Lk>, SharedValueError> =>
  Effect.suspend(() => {
    const bad = checkLockOption(options)
    if (bad) return Effect.fail(bad)
    try {
      // Checked before the memory exists: a bad initialiser fails the call.
      const writes = initial === undefined ? [] : tc.structWrites(layout, initial)
      const { where, offset, lock } = allocateBytes(layout.size, options)
      const s = new Struct<any, Lk>(layout, where, offset, lock)
      s.value = Object.fromEntries(writes.map(([f, v]) => [f.name, v]))
      return Effect.succeed(s)
    } catch (e) {
      return Effect.fail(fromThrown(e))
    }
  })

const checkLockOption = (options: Options<AnyLock>): SharedValueError | undefined =>
  options.lock == null || typeof options.lock === "boolean" || options.lock instanceof SharedLock || RealLock.isLock(options.lock)
    ? undefined
    : fail("TypeError", `'${String(options.lock)}' has no attribute 'acquire'`)

/**
 * A new shared value, with a lock unless `lock: false`: of a typecode, or a structure of named
 * fields (`{ x: "i", y: "d" }`, initialised by a record of any of them or by values in field
 * order; the rest zero, as ctypes).
 *
 * Python equivalent: `multiprocessing.Value(typecode_or_type, *args, lock=True)`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * const counter = SharedValue.value("i", 0)
 * const foo = SharedValue.value({ x: "i", y: "d", z: "q" }, { x: 3, y: 2 }) // Value(_Foo, 3, 2)
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const value: {
  <const F extends tc.Fields, Lk extends AnyLock = SharedLock>(
    fields: F,
    initial?: StructInit<tc.StructOf<F>> | ReadonlyArray<unknown>,
    options?: Options<Lk>
  ): Effect.Effect<Struct<tc.StructOf<F>, Lk>, SharedValueError>
  <T extends tc.Typecode, Lk extends AnyLock = SharedLock>(
    typecode: T,
    initial?: tc.Element<T> | number,
    options?: Options<Lk>
  ): Effect.Effect<Value<tc.Element<T>, Lk>, SharedValueError>
} = <Lk extends AnyLock>(typecode: tc.Typecode | tc.Fields, initial?: unknown, options: Options<Lk> = {}): Effect.Effect<any, SharedValueError> =>
  Effect.suspend((): Effect.Effect<unknown, SharedValueError> => {
    if (tc.isFields(typecode)) {
      try {
        return makeStruct(tc.layoutOf(typecode), initial, options)
      } catch (e) {
        return Effect.fail(fromThrown(e))
      }
    }
    const bad = checkLockOption(options)
    if (bad) return Effect.fail(bad)
    try {
      const { where, offset, lock } = allocate(typecode, 1, options)
      const v = new Value<unknown, Lk>(typecode, where, offset, 1, lock)
      if (initial !== undefined) v.value = initial
      return Effect.succeed(v)
    } catch (e) {
      return Effect.fail(fromThrown(e))
    }
  })

/** An array or a typed array: indexable with a length, no need to copy it. */
const isArrayLike = (u: unknown): u is ArrayLike<unknown> => globalThis.Array.isArray(u) || ArrayBuffer.isView(u)

/** The values of a slice assignment as a plain array (Python's any sequence: `range(10)`, a Set,
 * a typed array); anything else is Python's TypeError. */
const valuesOf = (values: unknown): globalThis.Array<unknown> => {
  if (globalThis.Array.isArray(values)) return values
  // A string is its characters (a `c` array's bytes, a `u` array's characters: `a[0:2] = b"hi"`).
  if (typeof values === "string") return [...values]
  if (typeof values === "object" && values !== null && Symbol.iterator in values) {
    return globalThis.Array.from(values as Iterable<unknown>)
  }
  throw new tc.TypecodeError("TypeError", "can only assign an iterable")
}

/**
 * A new shared array from a size (zero-filled) or from values (an array, a typed array, a string
 * of characters, or any other iterable, as Python takes any sequence), with a lock unless
 * `lock: false`. A `c` array's string is its bytes (`"hello"` for Python's `b'hello'`, each
 * character `\x00` to `\xff`), a `Uint8Array` too.
 *
 * Python equivalent: `multiprocessing.Array(typecode, size_or_initializer, lock=True)`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * const zeros = SharedValue.array("d", 10)
 * const hello = SharedValue.array("c", "hello") // Array('c', b'hello')
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const array = <T extends tc.Typecode, Lk extends AnyLock = SharedLock>(
  typecode: T,
  sizeOrInit: number | Iterable<tc.Element<T> | number> | string,
  options: Options<Lk> = {}
): Effect.Effect<Array<tc.Element<T>, Lk>, SharedValueError> =>
  Effect.suspend(() => {
    const bad = checkLockOption(options)
    if (bad) return Effect.fail(bad)
    try {
      const init: number | ArrayLike<unknown> = typeof sizeOrInit === "number" || isArrayLike(sizeOrInit)
        ? sizeOrInit
        : typeof sizeOrInit === "string" || (typeof sizeOrInit === "object" && sizeOrInit !== null && Symbol.iterator in sizeOrInit)
        ? [...sizeOrInit]
        : (sizeOrInit as number)
      const n = typeof init === "number" ? init : init.length
      if (!Number.isInteger(n) || n < 0) return Effect.fail(fail("ValueError", `array size must be a non-negative integer, not ${n}`))
      const { where, offset, lock } = allocate(typecode, n, options)
      const a = new Array<tc.Element<T>, Lk>(typecode, where, offset, n, lock)
      if (typeof init !== "number") for (let i = 0; i < n; i++) a.set(i, init[i] as tc.Element<T>)
      return Effect.succeed(a)
    } catch (e) {
      return Effect.fail(fromThrown(e))
    }
  })

/**
 * A new shared value without a lock, of a typecode or a structure of named fields.
 *
 * Python equivalent: `multiprocessing.RawValue(typecode_or_type, *args)`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * const raw = SharedValue.rawValue("d", 0.5)
 * const point = SharedValue.rawValue({ x: "d", y: "d" }, [1, 2])
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const rawValue: {
  <const F extends tc.Fields>(fields: F, initial?: StructInit<tc.StructOf<F>> | ReadonlyArray<unknown>): Effect.Effect<Struct<tc.StructOf<F>>, SharedValueError>
  <T extends tc.Typecode>(typecode: T, initial?: tc.Element<T> | number): Effect.Effect<Value<tc.Element<T>>, SharedValueError>
} = (typecode: any, initial?: unknown): Effect.Effect<any, SharedValueError> => value(typecode, initial as never, { lock: false })

/**
 * A new shared array without a lock.
 *
 * Python equivalent: `multiprocessing.RawArray(typecode, size_or_initializer)`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * const raw = SharedValue.rawArray("B", 16)
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const rawArray = <T extends tc.Typecode>(
  typecode: T,
  sizeOrInit: number | Iterable<tc.Element<T> | number> | string
): Effect.Effect<Array<tc.Element<T>>, SharedValueError> => array<T, SharedLock>(typecode, sizeOrInit, { lock: false })

/**
 * The lock of a value or array; fails with `NoLock` for raw ones.
 *
 * Python equivalent: `v.get_lock()`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * declare const v: SharedValue.Value<number>
 * const lock = SharedValue.getLock(v)
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const getLock = <Lk extends AnyLock>(c: Value<any, Lk> | Array<any, Lk> | Struct<any, Lk>): Effect.Effect<Lk, SharedValueError> =>
  c.lockHandle
    ? Effect.succeed(c.lockHandle)
    : Effect.fail(fail("NoLock", `'${c instanceof Struct ? "Structure" : tc.ctypesNames[c.typecode]}' object has no attribute 'get_lock'`))

/**
 * The raw object without its lock (the same memory).
 *
 * Python equivalent: `v.get_obj()`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * declare const a: SharedValue.Array<number>
 * const raw = SharedValue.getObj(a)
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const getObj = <C extends Value<any, any> | Array<any, any> | Struct<any, any>>(c: C): C => withLockHandle(c, undefined) as C

/** The same memory with another lock (or none). */
const withLockHandle = (c: Value<any, any> | Array<any, any> | Struct<any, any>, lock: AnyLock | undefined) =>
  c instanceof Struct
    ? new Struct(c.layout, c.where, c.offset, lock)
    : c instanceof Value
    ? new Value(c.typecode, c.where, c.offset, c.length, lock)
    : new Array(c.typecode, c.where, c.offset, c.length, lock)

/**
 * A value, array or structure type with another lock type (what `synchronized` and `copy` give).
 *
 * @category models
 * @since 0.1.0
 */
export type WithLock<C, Lk extends AnyLock> = C extends Array<infer A, any> ? Array<A, Lk>
  : C extends Value<infer A, any> ? Value<A, Lk>
  : C extends Struct<infer A, any> ? Struct<A, Lk>
  : never

const isShared = (u: unknown): u is Value<any, any> | Array<any, any> | Struct<any, any> =>
  u instanceof Value || u instanceof Array || u instanceof Struct

/**
 * A new raw object (no lock) of the same typecode, length or fields, with the same contents in
 * memory of its own; works on every handle (also one served by another process) and on a
 * synchronized object (its contents).
 *
 * Python equivalent: `multiprocessing.sharedctypes.copy(obj)`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.gen(function*() {
 *   const foo = yield* SharedValue.rawValue({ x: "i", y: "d" }, [2, 5])
 *   const bar = yield* SharedValue.copy(foo)
 *   foo.value.x = 0 // bar.value.x is still 2
 * })
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const copy = <C extends Value<any, any> | Array<any, any> | Struct<any, any>>(obj: C): Effect.Effect<WithLock<C, SharedLock>, SharedValueError> =>
  Effect.suspend((): Effect.Effect<any, SharedValueError> => {
    if (obj instanceof Struct) return Effect.flatMap(readStruct(obj), (record) => makeStruct(obj.layout, record, { lock: false }))
    if (obj instanceof Array) {
      return Effect.flatMap(readMany(obj, globalThis.Array.from({ length: obj.length }, (_, i) => i)), (xs) => rawArray(obj.typecode, xs as never))
    }
    if (obj instanceof Value) return Effect.flatMap(readMany(obj, [0]), (xs) => rawValue(obj.typecode, xs[0] as never))
    return Effect.fail(fail("TypeError", `copy() takes a shared value, array or structure, not ${tc.describe(obj)}`))
  })

/**
 * A synchronized wrapper of a raw value, array or structure: the same memory, with a new lock or
 * the one given (a {@link SharedLock}, or a `Lock` / `RLock` of the `Lock` module).
 * Anything else fails with `TypeError`, an object that already has a lock with `ValueError`.
 *
 * Python equivalent: `multiprocessing.sharedctypes.synchronized(obj, lock=None)`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.gen(function*() {
 *   const raw = yield* SharedValue.rawValue("i", 1)
 *   const v = yield* SharedValue.synchronized(raw) // <Synchronized wrapper for c_int(1)>
 *   yield* SharedValue.update(v, (n) => n + 1) // raw.value is 2
 * })
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const synchronized = <C extends Value<any, any> | Array<any, any> | Struct<any, any>, Lk extends AnyLock = SharedLock>(
  obj: C,
  lock?: Lk | null
): Effect.Effect<WithLock<C, Lk>, SharedValueError> =>
  Effect.suspend(() => {
    if (!isShared(obj)) return Effect.fail(fail("TypeError", `synchronized() takes a shared value, array or structure, not ${tc.describe(obj)}`))
    if (obj.lockHandle !== undefined) return Effect.fail(fail("ValueError", "object already synchronized"))
    const bad = checkLockOption({ lock }) ?? ((lock as unknown) === false ? fail("TypeError", "synchronized() needs a lock: 'False' has no attribute 'acquire'") : undefined)
    if (bad) return Effect.fail(bad)
    const theLock = lock == null || (lock as unknown) === true ? makeLock() : lock
    return Effect.succeed(withLockHandle(obj, theLock) as WithLock<C, Lk>)
  })

const remote = (c: { readonly where: Where }) => (c.where as { ref: Actor.ActorRef<unknown> }).ref

/** A structure's fields as a plain record, on every handle (one message on a served one). */
const readStruct = (s: Struct<any, any>): Effect.Effect<Record<string, unknown>, SharedValueError> =>
  s.isShared
    ? Effect.sync(() => ({ ...s.value }))
    : Effect.map(
      askHost<globalThis.Array<unknown>>(remote(s), { op: "readFields", fields: s.layout.fields.map((f) => [f.code, s.offset + f.offset] as const) }),
      (xs) => Object.fromEntries(s.layout.fields.map((f, i) => [f.name, xs[i]]))
    )

/** Assigns the fields a record names, on every handle (checked here first). */
const writeStruct = (s: Struct<any, any>, x: unknown): Effect.Effect<void, SharedValueError> =>
  Effect.suspend(() => {
    let writes: ReturnType<typeof tc.structWrites>
    try {
      writes = tc.structWrites(s.layout, x)
    } catch (e) {
      return Effect.fail(fromThrown(e))
    }
    if (s.isShared) return Effect.sync(() => { s.value = Object.fromEntries(writes.map(([f, v]) => [f.name, v])) })
    return askHost<void>(remote(s), {
      op: "writeFields",
      fields: writes.map(([f]) => [f.code, s.offset + f.offset] as const),
      values: writes.map(([, v]) => v)
    })
  })

/**
 * Reads element(s) anywhere: directly on shared handles, through the holder on remote ones.
 * @internal
 */
const readMany = (c: Cells<AnyLock>, indices: ReadonlyArray<number>): Effect.Effect<globalThis.Array<unknown>, SharedValueError> =>
  c.isShared
    ? Effect.try({ try: () => indices.map((i) => c.readAt(i)), catch: fromThrown })
    : askHost(remote(c), { op: "read", code: c.typecode, offset: c.offset, length: c.length, indices })

const writeMany = (c: Cells<AnyLock>, indices: ReadonlyArray<number>, values: ReadonlyArray<unknown>): Effect.Effect<void, SharedValueError> =>
  c.isShared
    ? Effect.try({ try: () => indices.forEach((i, k) => c.writeAt(i, values[k])), catch: fromThrown })
    : askHost(remote(c), { op: "write", code: c.typecode, offset: c.offset, length: c.length, indices, values })

/**
 * Reads a value (works on every handle, also one served by another process).
 *
 * Python equivalent: `v.value`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * declare const v: SharedValue.Value<number>
 * const n = SharedValue.get(v)
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const get: {
  <A extends object>(s: Struct<A, any>): Effect.Effect<A, SharedValueError>
  <A>(v: Value<A, any>): Effect.Effect<A, SharedValueError>
} = (v: Value<unknown, any> | Struct<any, any>): Effect.Effect<any, SharedValueError> =>
  v instanceof Struct ? readStruct(v) : Effect.map(readMany(v, [0]), (xs) => xs[0])

/**
 * Writes a value (works on every handle).
 *
 * Python equivalent: `v.value = x`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * declare const v: SharedValue.Value<number>
 * const done = SharedValue.set(v, 42)
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const set: {
  <A extends object>(s: Struct<A, any>, x: StructInit<A>): Effect.Effect<void, SharedValueError>
  <A>(v: Value<A, any>, x: A): Effect.Effect<void, SharedValueError>
} = (v: Value<unknown, any> | Struct<any, any>, x: unknown): Effect.Effect<void, SharedValueError> =>
  v instanceof Struct ? writeStruct(v, x) : writeMany(v, [0], [x])

/**
 * Read-modify-write under the value's lock (atomic against every other locked update).
 *
 * Python equivalent: `with v.get_lock(): v.value = f(v.value)`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * declare const v: SharedValue.Value<number>
 * const next = SharedValue.update(v, (n) => n + 1)
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const update: {
  <A extends object>(s: Struct<A, any>, f: (a: A) => A): Effect.Effect<A, SharedValueError | RealLock.LockError>
  <A>(v: Value<A, any>, f: (a: A) => A): Effect.Effect<A, SharedValueError | RealLock.LockError>
} = (v: Value<unknown, any> | Struct<any, any>, f: (a: any) => any): Effect.Effect<any, SharedValueError | RealLock.LockError> =>
  Effect.flatMap(getLock<AnyLock>(v), (lock) =>
    withLock(lock, Effect.flatMap(get(v as Value<unknown>), (a) => {
      const b = f(a)
      return Effect.as(set(v as Value<unknown>, b), b)
    })))

/**
 * Runs an effect holding a value's lock, whichever kind it is (Python's `with v.get_lock():`).
 *
 * Python equivalent: `with lock:` on the lock of a `Value` / `Array`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const v: SharedValue.Value<number>
 * const program = Effect.flatMap(SharedValue.getLock(v), (lock) => SharedValue.withLock(lock, SharedValue.set(v, 0)))
 * ```
 * @category combinators
 * @since 0.1.0
 */
export const withLock = <A, E, R>(lock: AnyLock, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SharedValueError | RealLock.LockError, R> =>
  lock instanceof SharedLock ? lock.withLock(effect) : RealLock.withLock(lock, effect)

/**
 * Reads one element (works on every handle).
 *
 * Python equivalent: `a[i]`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * declare const a: SharedValue.Array<number>
 * const last = SharedValue.getItem(a, -1)
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const getItem = <A>(a: Array<A, any>, index: number): Effect.Effect<A, SharedValueError> => Effect.map(readMany(a, [index]), (xs) => xs[0] as A)

/**
 * Writes one element (works on every handle).
 *
 * Python equivalent: `a[i] = x`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * declare const a: SharedValue.Array<number>
 * const done = SharedValue.setItem(a, 0, 7)
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const setItem = <A>(a: Array<A, any>, index: number, x: A): Effect.Effect<void, SharedValueError> => writeMany(a, [index], [x])

/**
 * Reads a slice (works on every handle).
 *
 * Python equivalent: `a[start:stop:step]`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * declare const a: SharedValue.Array<number>
 * const firstTwo = SharedValue.getSlice(a, 0, 2)
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const getSlice = <A>(a: Array<A, any>, start?: number | null, stop?: number | null, step?: number | null): Effect.Effect<globalThis.Array<A>, SharedValueError> =>
  Effect.suspend(() => {
    let idx: globalThis.Array<number>
    try {
      idx = tc.sliceIndices(a.length, start, stop, step)
    } catch (e) {
      return Effect.fail(fromThrown(e))
    }
    return readMany(a, idx) as Effect.Effect<globalThis.Array<A>, SharedValueError>
  })

/**
 * Assigns a slice of the same size (works on every handle).
 *
 * Python equivalent: `a[start:stop:step] = values`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * declare const a: SharedValue.Array<number>
 * const done = SharedValue.setSlice(a, 0, 2, [9, 9])
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const setSlice = <A>(
  a: Array<A, any>,
  start: number | null | undefined,
  stop: number | null | undefined,
  values: Iterable<A | number> | ArrayLike<A | number>,
  step?: number | null
): Effect.Effect<void, SharedValueError> =>
  Effect.suspend(() => {
    let idx: globalThis.Array<number>
    let vs: ReadonlyArray<unknown>
    try {
      idx = tc.sliceIndices(a.length, start, stop, step)
      vs = valuesOf(values)
    } catch (e) {
      return Effect.fail(fromThrown(e))
    }
    if (idx.length !== vs.length) return Effect.fail(fail("ValueError", "Can only assign sequence of same size"))
    return writeMany(a, idx, vs)
  })

/**
 * A copy of the whole array (works on every handle).
 *
 * Python equivalent: `a[:]`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * declare const a: SharedValue.Array<number>
 * const all = SharedValue.toArray(a)
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const toArray = <A>(a: Array<A, any>): Effect.Effect<globalThis.Array<A>, SharedValueError> => getSlice(a)

const allIndices = (a: Cells<AnyLock>) => globalThis.Array.from({ length: a.length }, (_, i) => i)

/**
 * Reads a `c` array's bytes up to the first NUL (a latin-1 string), or a `u` array's characters up
 * to the first NUL; works on every handle (one message on one served by another process). Other
 * arrays fail with `TypeError`.
 *
 * Python equivalent: `a.value` of `Array('c', ...)` / `RawArray('u', ...)`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.gen(function*() {
 *   const a = yield* SharedValue.array("c", "hi\x00there")
 *   const s = yield* SharedValue.getValue(a) // "hi"
 * })
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const getValue = (a: Array<string, any>): Effect.Effect<string, SharedValueError> =>
  Effect.suspend(() => {
    if (a.isShared) return Effect.try({ try: () => a.value, catch: fromThrown })
    try {
      textOf(a, [])
    } catch (e) {
      return Effect.fail(fromThrown(e))
    }
    return Effect.map(readMany(a, allIndices(a)), (chars) => textOf(a, chars))
  })

/**
 * Writes a `c` or `u` array's value: the characters, then a NUL if there is room; works on every
 * handle (one message on a served one). A `c` array takes a string of characters `\x00`-`\xff`
 * (its bytes) or a `Uint8Array`; longer than the array fails with `ValueError`, another type or
 * another array with `TypeError`, and nothing is written.
 *
 * Python equivalent: `a.value = b"hello"`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.gen(function*() {
 *   const a = yield* SharedValue.array("c", 10)
 *   yield* SharedValue.setValue(a, "hello")
 * })
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const setValue = (a: Array<string, any>, s: string | Uint8Array): Effect.Effect<void, SharedValueError> =>
  writeFromStart(a, () => valueChars(a, s))

/**
 * Reads all the bytes of a `c` array, NULs included; works on every handle (one message on a
 * served one). Other arrays fail with `TypeError`.
 *
 * Python equivalent: `a.raw`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.gen(function*() {
 *   const a = yield* SharedValue.array("c", "hi")
 *   const bytes = yield* SharedValue.getRaw(a) // Uint8Array [104, 105]
 * })
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const getRaw = (a: Array<string, any>): Effect.Effect<Uint8Array, SharedValueError> =>
  Effect.suspend(() => {
    if (a.isShared) return Effect.try({ try: () => a.raw, catch: fromThrown })
    try {
      rawOnly(a)
    } catch (e) {
      return Effect.fail(fromThrown(e))
    }
    return Effect.map(readMany(a, allIndices(a)), (chars) => Uint8Array.from(chars as globalThis.Array<string>, (ch) => ch.charCodeAt(0)))
  })

/**
 * Writes bytes into a `c` array from its start, the rest untouched; works on every handle (one
 * message on a served one). Takes a `Uint8Array` (any bytes-like view or buffer) or a string of
 * characters `\x00`-`\xff`; longer than the array fails with `ValueError`, another type or
 * another array with `TypeError`, and nothing is written.
 *
 * Python equivalent: `a.raw = b"..."`.
 *
 * @example
 * ```ts
 * import { SharedValue } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.gen(function*() {
 *   const a = yield* SharedValue.array("c", "hello")
 *   yield* SharedValue.setRaw(a, new Uint8Array([65, 0])) // a.raw: "A\x00llo"
 * })
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const setRaw = (a: Array<string, any>, bytes: string | ArrayBufferView | ArrayBufferLike): Effect.Effect<void, SharedValueError> =>
  writeFromStart(a, () => rawBytes(a, bytes))

/** Writes the cells `cells()` gives from index 0 (checked first: a refused write changes nothing). */
const writeFromStart = (a: Array<any, any>, cells: () => ReadonlyArray<unknown>): Effect.Effect<void, SharedValueError> =>
  Effect.suspend(() => {
    let xs: ReadonlyArray<unknown>
    try {
      xs = cells()
    } catch (e) {
      return Effect.fail(fromThrown(e))
    }
    return writeMany(a, xs.map((_, i) => i), xs)
  })
