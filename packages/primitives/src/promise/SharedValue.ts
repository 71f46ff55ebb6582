/**
 * Shared values and arrays for async/await code: `Value`, `Array`, `RawValue`, `RawArray` as thin
 * classes over the Effect API (`SharedValue`). An `Array` is indexable (`a[0]`, `a[0] = 1`,
 * `a.length`, `[...a]`).
 *
 * Synchronous access (`v.value`, `a[i]`, `a.slice(...)`) reads and writes the memory itself and
 * works wherever the memory is shared (the creating process and its worker threads); on a handle
 * served by another process it throws `SharedValueError` `NotShared`: use the promise methods
 * (`get`, `set`, `getItem`, `setItem`, `getSlice`, `assignSlice`, `toArray`), which work everywhere.
 *
 * Python equivalent: `multiprocessing.Value`, `Array`, `RawValue`, `RawArray`.
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
export type { Element, Typecode } from "../SharedValue.ts"

/** A held lock; releases it when disposed (`using` / `await using`). */
export type { Held } from "../internal/facade.ts"

/**
 * The shared-memory lock of a value (the default lock of `Value` / `Array`).
 *
 * Python equivalent: the `RLock` returned by `get_lock()`.
 *
 * @example
 * ```ts
 * import { Value } from "@multiproc/primitives/promise"
 * const v = new Value("i", 0)
 * const lock = v.getLock()
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
 * A typed value in shared memory, with a lock unless `lock: false`.
 *
 * Python equivalent: `multiprocessing.Value(typecode, value, lock=True)`.
 *
 * @example
 * ```ts
 * import { Value } from "@multiproc/primitives/promise"
 * const counter = new Value("i", 0)
 * await counter.getLock().withLock(() => { counter.value += 1 })
 * ```
 * @category models
 * @since 0.1.0
 */
export class Value<A = any> {
  /** The Effect-API value. */
  readonly handle: SV.Value<A, SV.AnyLock>
  constructor(typecode: SV.Typecode | SV.Value<A, SV.AnyLock>, initial?: A, options: Options = {}) {
    // Anything but a handle goes to SV.value, which refuses a bad typecode (a number was taken
    // for a handle, giving an object whose every call failed).
    this.handle = typecode instanceof SV.Value
      ? typecode
      : runSync(SV.value(typecode, initial as any, { lock: toEffectLock(options.lock) })) as any
  }
  get typecode(): SV.Typecode {
    return this.handle.typecode
  }
  /** Whether this handle reads and writes the memory directly. */
  get isShared(): boolean {
    return this.handle.isShared
  }
  /** Python's `v.value` (shared handles; `NotShared` otherwise: use `get` / `set`). */
  get value(): A {
    return this.handle.value
  }
  set value(x: A) {
    this.handle.value = x
  }
  /** Reads the value on any handle, also one served by another process. */
  get(): Promise<A> {
    return run(SV.get(this.handle))
  }
  /** Writes the value on any handle. */
  set(x: A): Promise<void> {
    return run(SV.set(this.handle, x))
  }
  /** Read-modify-write under the value's lock; resolves to the new value. */
  update(f: (a: A) => A): Promise<A> {
    return run(SV.update(this.handle, f))
  }
  /** Python's `get_lock()`; throws `NoLock` on a raw value. */
  getLock(): AnyLock {
    return toFacadeLock(runSync(SV.getLock(this.handle)))
  }
  /** Python's `get_obj()`: the same memory without the lock. */
  getObj(): Value<A> {
    return new Value<A>(SV.getObj(this.handle))
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
  constructor(typecode: SV.Typecode | SV.Array<A, SV.AnyLock>, sizeOrInit: number | Iterable<A> | string = 0, options: Options = {}) {
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
  setSlice(start: number | null | undefined, stop: number | null | undefined, values: Iterable<A> | ArrayLike<A>, step?: number | null): void {
    this.handle.setSlice(start, stop, values, step)
  }
  /** For `c` arrays: the bytes up to the first NUL (Python's `.value`). */
  get value(): string {
    return this.handle.value
  }
  /** For `c` arrays: all the bytes (Python's `.raw`). */
  get raw(): Uint8Array {
    return this.handle.raw
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
  assignSlice(start: number | null | undefined, stop: number | null | undefined, values: Iterable<A> | ArrayLike<A>, step?: number | null): Promise<void> {
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
export const RawValue = <A = any>(typecode: SV.Typecode, initial?: A): Value<A> => new Value<A>(typecode, initial, { lock: false })

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
export const RawArray = <A = any>(typecode: SV.Typecode, sizeOrInit: number | Iterable<A> | string): Array<A> =>
  new Array<A>(typecode, sizeOrInit, { lock: false })

Codec.register<Value>({ tag: "multiproc/promise/Value", Class: Value, encode: (v) => v.handle, decode: (h: SV.Value<any, SV.AnyLock>) => new Value(h) })
Codec.register<Array>({ tag: "multiproc/promise/Array", Class: Array, encode: (a) => a.handle, decode: (h: SV.Array<any, SV.AnyLock>) => new Array(h) })
Codec.register<ValueLock>({ tag: "multiproc/promise/ValueLock", Class: ValueLock, encode: (l) => l.lock, decode: (l: SV.SharedLock) => new ValueLock(l) })
