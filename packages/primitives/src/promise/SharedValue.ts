/**
 * Shared values and arrays for async/await code: `Value`, `Array`, `RawValue`, `RawArray`, `copy`,
 * `synchronized` as thin classes and functions over the Effect API (`SharedValue`). An `Array` is
 * indexable (`a[0]`, `a[0] = 1`, `a.length`, `[...a]`); a `Value` of a structure
 * (`new Value({ x: "i", y: "d" }, { x: 3 })`) has its fields live in `v.value` (`v.value.x *= 2`).
 *
 * Synchronous access (`v.value`, `a[i]`, `a.slice(...)`) reads and writes the memory itself and
 * works wherever the memory is shared (the creating process and its worker threads); on a handle
 * served by another process it throws `SharedValueError` `NotShared`: use the promise methods
 * (`get`, `set`, `getItem`, `setItem`, `getSlice`, `assignSlice`, `toArray`, and a `c` array's
 * `getValue`, `setValue`, `getRaw`, `setRaw`), which work everywhere.
 *
 * Python equivalent: `multiprocessing.Value`, `Array`, `RawValue`, `RawArray`
 * (`multiprocessing.sharedctypes`, with `copy` and `synchronized`).
 *
 * @since 0.1.0
 */
import * as Codec from "@multiproc/runtime/Codec"
import type * as Duration from "effect/Duration"
import { type AcquireKeywords, acquireArgs, held, type Held, holding, run, runSync } from "../internal/facade.ts"
import * as tc from "../internal/typecodes.ts"
import * as RealLock from "../Lock.ts"
import * as SV from "../SharedValue.ts"
import { Lock, RLock } from "./Lock.ts"

export { SharedValueError } from "../SharedValue.ts"
export type { Element, Fields, StructInit, StructOf, Typecode } from "../SharedValue.ts"

/** A held lock; releases it when disposed (`using` / `await using`). */
export type { Held } from "../internal/facade.ts"

/**
 * The shared-memory lock of a value (the default lock of `Value` / `Array`).
 *
 * Python equivalent: the `RLock` returned by `get_lock()`.
 *
 * @example
 * ```ts
 * import { Value, type ValueLock } from "@multiproc/primitives/promise"
 * const v = new Value("i", 0)
 * const lock = v.getLock() as ValueLock // a value's own lock (one given a Lock / RLock returns that)
 * lock.withLockSync(() => { v.value += 1 })
 * await lock.withLock(async () => { v.value += 1 })
 * ```
 * @category models
 * @since 0.1.0
 */
export class ValueLock {
  /** The Effect-API lock. */
  readonly lock: SV.SharedLock
  constructor(lock: SV.SharedLock) {
    this.lock = lock
  }
  /** Python's `acquire(block=True, timeout=None)`, positionally or as `{ block, timeout }`; never
   * blocks the event loop. */
  acquire(keywordsOrBlock: boolean | AcquireKeywords = true, positionalTimeout?: Duration.Input): Promise<boolean> {
    const args = acquireArgs(keywordsOrBlock, positionalTimeout)
    if (typeof args === "string") return Promise.reject(new SV.SharedValueError({ reason: "TypeError", message: args }))
    return run(this.lock.acquire(args))
  }
  /** Python's `release()`. */
  release(): Promise<void> {
    return run(this.lock.release())
  }
  /** Python's `with lock:` — runs `f` holding the lock. */
  withLock<A>(f: () => A | Promise<A>): Promise<Awaited<A>> {
    return holding(() => this.acquire(), () => this.release(), f)
  }
  /** Acquires and returns a guard for `using` / `await using`. */
  async hold(): Promise<Held> {
    await this.acquire()
    return held(this.lock.release())
  }
  /** Runs `f` holding the lock synchronously: the fast path for hot counters in worker threads. */
  withLockSync<A>(f: () => A): A {
    return this.lock.withLockSync(f)
  }
  /** Blocking acquire (worker threads; on the main thread it blocks the event loop). */
  acquireSync(block = true, timeout?: Duration.Input): boolean {
    return this.lock.acquireSync({ block, timeout })
  }
  releaseSync(): void {
    this.lock.releaseSync()
  }
}

/** What `lock` accepts: `true` (a new lock), `false` (none), or a lock to use. */
export type LockOption = boolean | null | ValueLock | Lock | RLock | SV.AnyLock

/** The lock `getLock` returns. */
export type AnyLock = ValueLock | Lock | RLock

const toEffectLock = (lock: LockOption | undefined): boolean | SV.AnyLock | null | undefined =>
  lock instanceof ValueLock ? lock.lock : lock instanceof Lock || lock instanceof RLock ? lock.handle : lock

const toFacadeLock = (lock: SV.AnyLock): AnyLock =>
  lock instanceof SV.SharedLock
    ? new ValueLock(lock)
    : lock.kind === "RLock"
    ? new RLock(lock as RealLock.RLock)
    : new Lock(lock as RealLock.Lock)

/** Options of the constructors. */
export interface Options {
  /** `true` (default; `null` too, Python's `lock=None`): a new recursive lock in shared memory;
   * `false`: none; or a lock to use (`v.getLock()` of another value, or a `Lock` / `RLock`). */
  readonly lock?: LockOption | undefined
}

/**
 * A typed value in shared memory, or a structure of named fields (`{ x: "i", y: "d" }`, its
 * fields live in `v.value`), with a lock unless `lock: false`.
 *
 * Python equivalent: `multiprocessing.Value(typecode_or_type, *args, lock=True)`.
 *
 * @example
 * ```ts
 * import { Value } from "@multiproc/primitives/promise"
 * const counter = new Value("i", 0)
 * await counter.getLock().withLock(() => { counter.value += 1 })
 * const foo = new Value<{ x: number; y: number }>({ x: "i", y: "d" }, { x: 3 }) // Value(_Foo, 3)
 * foo.value.x *= 2
 * ```
 * @category models
 * @since 0.1.0
 */
export class Value<A = any> {
  /** The Effect-API value (an `SV.Struct` for a structure). */
  readonly handle: SV.Value<A, SV.AnyLock> | SV.Struct<A & object, SV.AnyLock>
  constructor(typecode: SV.Typecode | SV.Value<A, SV.AnyLock>, initial?: A, options?: Options)
  constructor(fields: SV.Fields | SV.Struct<A & object, SV.AnyLock>, initial?: SV.StructInit<A> | ReadonlyArray<unknown>, options?: Options)
  constructor(typecode: SV.Typecode | SV.Fields | SV.Value<A, SV.AnyLock> | SV.Struct<A & object, SV.AnyLock>, initial?: unknown, options: Options = {}) {
    // Anything but a handle goes to SV.value, which refuses a bad typecode (a number was taken
    // for a handle, giving an object whose every call failed).
    this.handle = typecode instanceof SV.Value || typecode instanceof SV.Struct
      ? typecode
      : runSync(SV.value(typecode as SV.Typecode, initial as never, { lock: toEffectLock(options.lock) })) as any
  }
  /** The typecode, or a structure's fields (name to typecode). */
  get typecode(): SV.Typecode | SV.Fields {
    return this.handle instanceof SV.Struct ? this.handle.fields : this.handle.typecode
  }
  /** Whether this handle reads and writes the memory directly. */
  get isShared(): boolean {
    return this.handle.isShared
  }
  /** Python's `v.value`, a structure's fields live (shared handles; `NotShared` otherwise: use
   * `get` / `set`). */
  get value(): A {
    return this.handle.value
  }
  /** Writes the value (for a structure: the fields named). */
  set value(x: A | SV.StructInit<A>) {
    this.handle.value = x as never
  }
  /** Reads the value on any handle, also one served by another process (a structure's fields as
   * a plain record). */
  get(): Promise<A> {
    return run(SV.get(this.handle as SV.Value<A>))
  }
  /** Writes the value on any handle (for a structure: the fields named). */
  set(x: A | SV.StructInit<A>): Promise<void> {
    return run(SV.set(this.handle as SV.Value<unknown>, x))
  }
  /** Read-modify-write under the value's lock; resolves to the new value. */
  update(f: (a: A) => A): Promise<A> {
    return run(SV.update(this.handle as SV.Value<A>, f))
  }
  /** Python's `get_lock()`; throws `NoLock` on a raw value. */
  getLock(): AnyLock {
    return toFacadeLock(runSync(SV.getLock(this.handle)))
  }
  /** Python's `get_obj()`: the same memory without the lock. */
  getObj(): Value<A> {
    return new Value<A>(SV.getObj(this.handle) as SV.Value<A, SV.AnyLock>)
  }
  toString(): string {
    return String(this.handle)
  }
}

/**
 * A fixed-length typed array in shared memory, indexable like a JavaScript array.
 *
 * Python equivalent: `multiprocessing.Array(typecode, size_or_initializer, lock=True)`.
 *
 * @example
 * ```ts
 * import { Array as SharedArray } from "@multiproc/primitives/promise"
 * const a = new SharedArray("i", [1, 2, 3])
 * a[0] = a[2]! * 10
 * console.log(a.length, [...a], a.slice(0, 2)) // 3 [30, 2, 3] [30, 2]
 * ```
 * @category models
 * @since 0.1.0
 */
export class Array<A = any> {
  /** The Effect-API array. */
  readonly handle!: SV.Array<A, SV.AnyLock>;
  /** `a[i]` / `a[i] = x` (negative indices count from the end). */
  [index: number]: A
  constructor(typecode: SV.Typecode | SV.Array<A, SV.AnyLock>, sizeOrInit: number | Iterable<A | number> | string = 0, options: Options = {}) {
    const handle = typecode instanceof SV.Array
      ? typecode
      : runSync(SV.array(typecode, sizeOrInit as any, { lock: toEffectLock(options.lock) })) as any
    Object.defineProperty(this, "handle", { value: handle, enumerable: false })
    return new Proxy(this, {
      get(target, key, receiver) {
        if (typeof key === "string") {
          const i = indexOf(key)
          if (i !== undefined) return target.handle.get(i)
        }
        return Reflect.get(target, key, receiver)
      },
      set(target, key, value, receiver) {
        if (typeof key === "string") {
          const i = indexOf(key)
          if (i !== undefined) {
            target.handle.set(i, value)
            return true
          }
        }
        return Reflect.set(target, key, value, receiver)
      },
      has(target, key) {
        if (typeof key === "string") {
          const i = indexOf(key)
          if (i !== undefined) return i >= 0 && i < target.handle.length
        }
        return Reflect.has(target, key)
      }
    })
  }
  get typecode(): SV.Typecode {
    return this.handle.typecode
  }
  /** Python's `len(a)`. */
  get length(): number {
    return this.handle.length
  }
  /** Whether this handle reads and writes the memory directly. */
  get isShared(): boolean {
    return this.handle.isShared
  }
  /** `a[start:stop:step]` (shared handles). */
  slice(start?: number | null, stop?: number | null, step?: number | null): globalThis.Array<A> {
    return this.handle.slice(start, stop, step)
  }
  /** `a[start:stop:step] = values` (same size only; shared handles). */
  setSlice(start: number | null | undefined, stop: number | null | undefined, values: Iterable<A | number> | ArrayLike<A | number>, step?: number | null): void {
    this.handle.setSlice(start, stop, values, step)
  }
  /** For `c` arrays: the bytes up to the first NUL, as a latin-1 string; for `u` arrays the
   * characters up to the first NUL (Python's `.value`; shared handles, else use `getValue`). */
  get value(): string {
    return this.handle.value
  }
  /** For `c` (and `u`) arrays: writes the characters, then a NUL if there is room (Python's
   * `a.value = b"hello"`; a `c` array takes a string of characters `\x00`-`\xff` or a
   * `Uint8Array`; longer than the array throws `ValueError`, nothing written). */
  set value(s: string | Uint8Array) {
    this.handle.value = s
  }
  /** For `c` arrays: all the bytes (Python's `.raw`; shared handles, else use `getRaw`). */
  get raw(): Uint8Array {
    return this.handle.raw
  }
  /** For `c` arrays: writes the bytes from the start, the rest untouched (Python's
   * `a.raw = b"..."`; a `Uint8Array` or a string of characters `\x00`-`\xff`; longer than the
   * array throws `ValueError`, nothing written). */
  set raw(b: string | ArrayBufferView | ArrayBufferLike) {
    this.handle.raw = b
  }
  /** `a.value` of a `c` / `u` array on any handle, also one served by another process. */
  getValue(): Promise<string> {
    return run(SV.getValue(this.handle as SV.Array<string, SV.AnyLock>))
  }
  /** `a.value = s` of a `c` / `u` array on any handle. */
  setValue(s: string | Uint8Array): Promise<void> {
    return run(SV.setValue(this.handle as SV.Array<string, SV.AnyLock>, s))
  }
  /** `a.raw` of a `c` array on any handle. */
  getRaw(): Promise<Uint8Array> {
    return run(SV.getRaw(this.handle as SV.Array<string, SV.AnyLock>))
  }
  /** `a.raw = bytes` of a `c` array on any handle. */
  setRaw(bytes: string | ArrayBufferView | ArrayBufferLike): Promise<void> {
    return run(SV.setRaw(this.handle as SV.Array<string, SV.AnyLock>, bytes))
  }
  /** `a[i]` on any handle, also one served by another process. */
  getItem(index: number): Promise<A> {
    return run(SV.getItem(this.handle, index))
  }
  /** `a[i] = x` on any handle. */
  setItem(index: number, x: A): Promise<void> {
    return run(SV.setItem(this.handle, index, x))
  }
  /** `a[start:stop:step]` on any handle. */
  getSlice(start?: number | null, stop?: number | null, step?: number | null): Promise<globalThis.Array<A>> {
    return run(SV.getSlice(this.handle, start, stop, step))
  }
  /** `a[start:stop:step] = values` on any handle. */
  assignSlice(start: number | null | undefined, stop: number | null | undefined, values: Iterable<A | number> | ArrayLike<A | number>, step?: number | null): Promise<void> {
    return run(SV.setSlice(this.handle, start, stop, values, step))
  }
  /** `a[:]` on any handle. */
  toArray(): Promise<globalThis.Array<A>> {
    return run(SV.toArray(this.handle))
  }
  /** Python's `get_lock()`; throws `NoLock` on a raw array. */
  getLock(): AnyLock {
    return toFacadeLock(runSync(SV.getLock(this.handle)))
  }
  /** Python's `get_obj()`: the same memory without the lock. */
  getObj(): Array<A> {
    return new Array<A>(SV.getObj(this.handle))
  }
  *[Symbol.iterator](): Iterator<A> {
    yield* this.handle
  }
  /** Python's repr, without the address: `<SynchronizedArray wrapper for c_int_Array_5>`
   * (`SynchronizedString` for `c`; a raw array is the ctypes array alone, `<c_int_Array_5>`). */
  toString(): string {
    const array = `${tc.ctypesNames[this.typecode]}_Array_${this.length}`
    if (this.handle.lockHandle === undefined) return `<${array}>`
    return `<${this.typecode === "c" ? "SynchronizedString" : "SynchronizedArray"} wrapper for ${array}>`
  }
}

const indexOf = (key: string): number | undefined => {
  if (key.length === 0 || key.length > 16) return undefined
  const c = key.charCodeAt(0)
  if (!(c === 45 || (c >= 48 && c <= 57))) return undefined
  const n = Number(key)
  return Number.isInteger(n) && String(n) === key ? n : undefined
}

/**
 * A typed value in shared memory without a lock.
 *
 * Python equivalent: `multiprocessing.RawValue(typecode, value)`.
 *
 * @example
 * ```ts
 * import { RawValue } from "@multiproc/primitives/promise"
 * const v = RawValue("d", 0.5)
 * v.value = 1.5
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const RawValue: {
  <A = any>(typecode: SV.Typecode, initial?: A): Value<A>
  <A = any>(fields: SV.Fields, initial?: SV.StructInit<A> | ReadonlyArray<unknown>): Value<A>
} = (typecode: any, initial?: unknown) => new Value(typecode, initial, { lock: false })

/**
 * A typed array in shared memory without a lock.
 *
 * Python equivalent: `multiprocessing.RawArray(typecode, size_or_initializer)`.
 *
 * @example
 * ```ts
 * import { RawArray } from "@multiproc/primitives/promise"
 * const a = RawArray("B", 16)
 * a[0] = 255
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const RawArray = <A = any>(typecode: SV.Typecode, sizeOrInit: number | Iterable<A | number> | string): Array<A> =>
  new Array<A>(typecode, sizeOrInit, { lock: false })

/**
 * A new raw value, array or structure (no lock) with the same contents in memory of its own; works
 * on every handle (also one served by another process) and on a synchronized one.
 *
 * Python equivalent: `multiprocessing.sharedctypes.copy(obj)`.
 *
 * @example
 * ```ts
 * import { copy, RawValue } from "@multiproc/primitives/promise"
 * const foo = RawValue<{ x: number; y: number }>({ x: "i", y: "d" }, [2, 5])
 * const bar = await copy(foo)
 * foo.value.x = 0 // bar.value.x is still 2
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const copy = <C extends Value | Array>(obj: C): Promise<C> => {
  if (!(obj instanceof Value || obj instanceof Array)) return run(SV.copy(obj as never)) as Promise<never>
  return run(SV.copy(obj.handle as SV.Value)).then((h) => (obj instanceof Array ? new Array(h as SV.Array) : new Value(h as SV.Value)) as C)
}

/**
 * A synchronized wrapper of a raw value, array or structure: the same memory with a new lock, or
 * the one given; throws `SharedValueError` `TypeError` for anything else, `ValueError` for an
 * object that already has a lock.
 *
 * Python equivalent: `multiprocessing.sharedctypes.synchronized(obj, lock=None)`.
 *
 * @example
 * ```ts
 * import { RawValue, synchronized } from "@multiproc/primitives/promise"
 * const raw = RawValue("i", 1)
 * const v = synchronized(raw) // <Synchronized wrapper for c_int(1)>
 * await v.update((n) => n + 1) // raw.value is 2
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const synchronized = <C extends Value | Array>(obj: C, lock?: ValueLock | Lock | RLock | SV.AnyLock | null): C => {
  const handle = obj instanceof Value || obj instanceof Array ? obj.handle : obj
  const h = runSync(SV.synchronized(handle as SV.Value, toEffectLock(lock) as SV.AnyLock | null | undefined))
  return (obj instanceof Array ? new Array(h as SV.Array) : new Value(h as SV.Value)) as C
}

Codec.register<Value>({ tag: "multiproc/promise/Value", Class: Value, encode: (v) => v.handle, decode: (h: SV.Value<any, SV.AnyLock> | SV.Struct<any, SV.AnyLock>) => new Value(h as SV.Value) })
Codec.register<Array>({ tag: "multiproc/promise/Array", Class: Array, encode: (a) => a.handle, decode: (h: SV.Array<any, SV.AnyLock>) => new Array(h) })
Codec.register<ValueLock>({ tag: "multiproc/promise/ValueLock", Class: ValueLock, encode: (l) => l.lock, decode: (l: SV.SharedLock) => new ValueLock(l) })
