// CPython's _TestSharedCTypes (Lib/test/_test_multiprocessing.py), ported: test_sharedctypes with
// lock=False and lock=True (test_synchronize), test_copy; a structure as `_Foo`
// (`_fields_ = [('x', c_int), ('y', c_double), ('z', c_longlong)]`), on both backends where a child
// is involved. Then `copy` / `synchronized` beyond the port, and their errors.
import { describe, expect, it } from "@effect/vitest"
import { Lock, Process, SharedValue } from "@multiproc/primitives"
import {
  Array as SharedArray,
  copy,
  Lock as PLock,
  Process as PProcess,
  RawArray,
  RawValue,
  SharedValueError,
  synchronized,
  Value,
  ValueLock
} from "@multiproc/primitives/promise"
import { Effect } from "effect"
import * as FT from "./fixtures/sharedvalue-facade-tasks.ts"
import * as T from "./fixtures/sharedvalue-tasks.ts"

const Foo = { x: "i", y: "d", z: "q" } as const
type Foo = { x: number; y: number; z: bigint }

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

/** test_sharedctypes' objects: x, y, z, foo, arr, string ('hello' in a 20-byte c array). */
const makeAll = (lock: boolean) =>
  Effect.gen(function*() {
    const x = yield* SharedValue.value("i", 7, { lock })
    const y = yield* SharedValue.value("d", 1 / 3, { lock })
    const z = yield* SharedValue.value("q", 2n ** 33n, { lock })
    const foo = yield* SharedValue.value(Foo, [3, 2], { lock }) // Value(_Foo, 3, 2)
    const arr = yield* SharedValue.array("d", range(10), { lock })
    const string = yield* SharedValue.array("c", 20, { lock })
    string.value = "hello"
    return [x, y, z, foo, arr, string] as const
  })

const checkDoubled = ([x, y, z, foo, arr, string]: Effect.Success<ReturnType<typeof makeAll>>) => {
  expect(x.value).toBe(14)
  expect(y.value).toBeCloseTo(2 / 3)
  expect(z.value).toBe(2n ** 34n)
  expect(foo.value.x).toBe(6)
  expect(foo.value.y).toBeCloseTo(4)
  expect(foo.value.z).toBe(0n) // not initialised: zero, as ctypes
  range(10).forEach((i) => expect(arr.get(i)).toBeCloseTo(i * 2))
  expect(string.value).toBe("hellohello")
}

describe.each(["thread", "process"] as const)("CPython _TestSharedCTypes (%s backend)", (backend) => {
  it.live.each([false, true])("test_sharedctypes (lock: %s; true is test_synchronize): a child doubles ints, a double, a 2**33 q, a structure's fields, a d array, a c array's value", (lock) =>
    Effect.gen(function*() {
      const all = yield* makeAll(lock)
      expect(all.map((o) => o.lockHandle === undefined)).toEqual(new Array(6).fill(!lock))
      const shared = yield* Process.run({ target: T.doubleCTypes, args: [...all], backend })
      // A worker thread maps the memory; a process is served it.
      expect(shared).toEqual(new Array(6).fill(backend === "thread"))
      checkDoubled(all)
    }))

  it.each([false, true])("async/await: test_sharedctypes (lock: %s) through the promise API", async (lock) => {
    const x = new Value<number>("i", 7, { lock })
    const y = new Value<number>("d", 1 / 3, { lock })
    const z = new Value<bigint>("q", 2n ** 33n, { lock })
    const foo = new Value<Foo>(Foo, [3, 2], { lock })
    const arr = new SharedArray<number>("d", range(10), { lock })
    const string = new SharedArray<string>("c", 20, { lock })
    string.value = "hello"
    const p = new PProcess({ target: FT.facadeDoubleCTypes, args: [x, y, z, foo, arr, string], backend })
    await p.start()
    expect(await p.join()).toBe(0)
    expect(await p.result()).toBe(backend === "thread")
    expect([x.value, z.value, foo.value.x, foo.value.y, foo.value.z, string.value]).toEqual([14, 2n ** 34n, 6, 4, 0n, "hellohello"])
    expect(y.value).toBeCloseTo(2 / 3)
    expect([...arr]).toEqual(range(10).map((i) => i * 2))
  })

  it.live("test_copy: a copy keeps its contents when the original's fields are zeroed (copied here and in the child, from a synchronized original)", () =>
    Effect.gen(function*() {
      const foo = yield* SharedValue.rawValue(Foo, [2, 5.0, 2n ** 33n]) // _Foo(2, 5.0, 2 ** 33)
      const bar = yield* SharedValue.copy(foo)
      foo.value = { x: 0, y: 0, z: 0 }
      expect([bar.value.x, bar.value.y, bar.value.z]).toEqual([2, 5, 2n ** 33n])
      expect(bar.lockHandle).toBeUndefined()
      // In a child, from a synchronized structure: the copy is raw, in the child's own memory.
      const synced = yield* SharedValue.value(Foo, { x: 2, y: 5, z: 2n ** 33n })
      const [copied, copyShared, fooShared, repr] = yield* Process.run({ target: T.copyThenZero, args: [synced], backend })
      expect(copied).toEqual({ x: 2, y: 5, z: 2n ** 33n })
      expect([copyShared, fooShared]).toEqual([true, backend === "thread"])
      expect(repr).toBe("Structure(x=2, y=5.0, z=8589934592)")
      expect({ ...synced.value }).toEqual({ x: 0, y: 0, z: 0n })
    }))

  it.live("a synchronized structure crosses to two children updating one field under its lock (the other field untouched)", () =>
    Effect.gen(function*() {
      const foo = yield* SharedValue.value({ n: "i", tag: "c" }, { tag: "t" })
      yield* Effect.all([
        Process.run({ target: T.incrementField, args: [foo, 150], backend }),
        Process.run({ target: T.incrementField, args: [foo, 150], backend })
      ], { concurrency: "unbounded" })
      expect({ ...foo.value }).toEqual({ n: 300, tag: "t" })
    }))

  it.live("synchronized(raw) with a new lock: the same memory, and its lock keeps two children's updates whole", () =>
    Effect.gen(function*() {
      const raw = yield* SharedValue.rawValue("i", 0)
      const v = yield* SharedValue.synchronized(raw)
      yield* Effect.all([
        Process.run({ target: T.incrementEffect, args: [v, 150], backend }),
        Process.run({ target: T.incrementEffect, args: [v, 150], backend })
      ], { concurrency: "unbounded" })
      expect(raw.value).toBe(300)
    }))
})

describe("CPython _TestSharedCTypes: the thread backend with Python's own child", () => {
  it.live.each([false, true])("test_sharedctypes (lock: %s) with the synchronous accessors: x.value *= 2, foo.value.x *= 2, string.value = string.value * 2", (lock) =>
    Effect.gen(function*() {
      const all = yield* makeAll(lock)
      const repr = yield* Process.run({ target: T.doubleCTypesSync, args: [...all], backend: "thread" })
      expect(repr).toBe(lock ? "<SynchronizedStructure wrapper for Structure(x=6, y=4.0, z=0)>" : "Structure(x=6, y=4.0, z=0)")
      checkDoubled(all)
    }))

  it.live("a structure served to a process child: .value is NotShared there, as v.value is", () =>
    Effect.gen(function*() {
      const foo = yield* SharedValue.value({ x: "i" }, { x: 4 })
      expect(yield* Process.run({ target: T.structValueOrReason, args: [foo], backend: "process" })).toBe("NotShared")
      expect(yield* Process.run({ target: T.structValueOrReason, args: [foo], backend: "thread" })).toEqual({ x: 4 })
    }))
})

describe("sharedctypes: structures, copy, synchronized", () => {
  it.live("a structure: C's layout, zero-filled, positional or named initialisers, live fields, get / set / update, getObj, repr", () =>
    Effect.gen(function*() {
      const s = yield* SharedValue.value({ a: "b", b: "d", c: "h", d: "c", e: "u", f: "Q" }, [1, 2.5])
      expect({ ...s.value }).toEqual({ a: 1, b: 2.5, c: 0, d: "\x00", e: "\x00", f: 0n })
      expect(s.fields).toEqual({ a: "b", b: "d", c: "h", d: "c", e: "u", f: "Q" })
      // a@0 (1 byte), b@8, c@16, d@18, e@20, f@24: 32 bytes, after the 16 bytes of the lock.
      const sab = (s.where as { sab: SharedArrayBuffer }).sab
      expect(sab.byteLength).toBe(16 + 32)
      expect(new Float64Array(sab, 16 + 8, 1)[0]).toBe(2.5)
      s.value.d = "x"
      s.value.e = "é"
      s.value.f = 2n ** 64n - 1n
      expect(new Uint8Array(sab, 16 + 18, 1)[0]).toBe(120)
      yield* SharedValue.set(s, { a: 300, c: -1 }) // ints wrap as ctypes'
      expect(yield* SharedValue.get(s)).toEqual({ a: 44, b: 2.5, c: -1, d: "x", e: "é", f: 2n ** 64n - 1n })
      expect(yield* SharedValue.update(s, (r) => ({ ...r, b: r.b * 2 }))).toMatchObject({ b: 5 })
      expect(String(s)).toBe("<SynchronizedStructure wrapper for Structure(a=44, b=5.0, c=-1, d=b'x', e='é', f=18446744073709551615)>")
      const obj = SharedValue.getObj(s)
      expect(String(obj)).toBe("Structure(a=44, b=5.0, c=-1, d=b'x', e='é', f=18446744073709551615)")
      obj.value.a = 7
      expect(s.value.a).toBe(7)
      expect((yield* Effect.flip(SharedValue.getLock(obj))).message).toBe("'Structure' object has no attribute 'get_lock'")
      // A given lock; Raw: none.
      const lock = yield* Lock.make()
      expect(yield* SharedValue.getLock(yield* SharedValue.value({ x: "i" }, {}, { lock }))).toBe(lock)
      expect((yield* SharedValue.rawValue({ x: "i" })).lockHandle).toBeUndefined()
    }))

  it.live("structure errors: a bad typecode, too many initialisers, an unknown field, a value of the wrong type (nothing written), a field not in the view", () =>
    Effect.gen(function*() {
      const reasonOf = (e: Effect.Effect<unknown, SharedValue.SharedValueError>) => Effect.map(Effect.flip(e), (x) => [x.reason, x.message])
      expect(yield* reasonOf(SharedValue.value({ x: "i", y: "w" } as any))).toEqual(["TypeError", expect.stringContaining("bad typecode for field 'y'")])
      expect(yield* reasonOf(SharedValue.value({ x: "i" }, [1, 2]))).toEqual(["TypeError", "too many initializers"])
      expect(yield* reasonOf(SharedValue.value({ x: "i" }, { y: 1 } as any))).toEqual(["TypeError", "structure has no field 'y'"])
      expect(yield* reasonOf(SharedValue.value({ x: "i" }, { x: 1.5 }))).toEqual(["TypeError", "int expected instead of float"])
      expect(yield* reasonOf(SharedValue.value({ x: "i" }, 5 as any))).toEqual(["TypeError", "a structure takes a record of its fields, not int"])
      const s = yield* SharedValue.rawValue({ x: "i", y: "d" }, { x: 1, y: 1 })
      expect(yield* reasonOf(SharedValue.set(s, { x: 2, y: "no" } as any))).toEqual(["TypeError", "must be real number, not str of length 2"])
      expect({ ...s.value }).toEqual({ x: 1, y: 1 }) // x not written either
      expect(() => { s.value = { x: 2.5 } }).toThrow(expect.objectContaining({ reason: "TypeError" }))
      expect(() => { s.value.x = 2.5 }).toThrow(expect.objectContaining({ reason: "TypeError" }))
      expect(() => { (s.value as any).w = 1 }).toThrow(TypeError) // sealed: no new field
      expect({ ...s.value }).toEqual({ x: 1, y: 1 })
    }))

  it.live("copy: values and arrays, raw or synchronized, get memory of their own with the same contents and no lock", () =>
    Effect.gen(function*() {
      for (const lock of [false, true]) {
        const v = yield* SharedValue.value("q", 2n ** 40n, { lock })
        const a = yield* SharedValue.array("h", [1, -2, 3], { lock })
        const s = yield* SharedValue.array("c", 6, { lock })
        s.value = "hi"
        const [cv, ca, cs] = [yield* SharedValue.copy(v), yield* SharedValue.copy(a), yield* SharedValue.copy(s)]
        expect([cv.typecode, cv.value, String(cv)]).toEqual(["q", 2n ** 40n, "c_long(1099511627776)"])
        expect([ca.typecode, ca.length, ca.toArray()]).toEqual(["h", 3, [1, -2, 3]])
        expect([cs.value, cs.raw]).toEqual(["hi", new Uint8Array([104, 105, 0, 0, 0, 0])])
        v.value = 0n
        a.set(0, 9)
        s.value = "ho"
        expect([cv.value, ca.get(0), cs.value]).toEqual([2n ** 40n, 1, "hi"])
        for (const c of [cv, ca, cs]) expect(c.lockHandle).toBeUndefined()
      }
      for (const bad of [5, "i", { typecode: "i" }, null]) {
        const e = yield* Effect.flip(SharedValue.copy(bad as any))
        expect([e.reason, e.message]).toEqual(["TypeError", expect.stringMatching(/^copy\(\) takes a shared value, array or structure, not /)])
      }
    }))

  it.live("synchronized: the same memory with a new or given lock, Python's wrapper reprs; a lock of the Lock module; errors for what is not raw shared memory, or a bad lock", () =>
    Effect.gen(function*() {
      const raw = yield* SharedValue.rawValue("i", 1)
      const v = yield* SharedValue.synchronized(raw)
      expect([String(raw), String(v)]).toEqual(["c_int(1)", "<Synchronized wrapper for c_int(1)>"])
      v.value = 5
      expect(raw.value).toBe(5)
      expect(yield* SharedValue.update(v, (n) => n + 1)).toBe(6)
      expect(raw.value).toBe(6)
      const lock = yield* SharedValue.getLock(v)
      expect(lock).toBeInstanceOf(SharedValue.SharedLock)
      expect(lock.recursive).toBe(true) // Python's default RLock
      // A given lock is get_lock(): a shared lock, or the Lock module's.
      const arr = yield* SharedValue.rawArray("i", [1, 2])
      const given = SharedValue.makeLock({ recursive: false })
      const sa = yield* SharedValue.synchronized(arr, given)
      expect(yield* SharedValue.getLock(sa)).toBe(given)
      sa.set(0, 10)
      expect(arr.get(0)).toBe(10)
      const real = yield* Lock.makeRLock()
      const sr = yield* SharedValue.synchronized(arr, real)
      expect(yield* SharedValue.getLock(sr)).toBe(real)
      // null is Python's lock=None: a new lock.
      expect(yield* SharedValue.getLock(yield* SharedValue.synchronized(arr, null))).toBeInstanceOf(SharedValue.SharedLock)
      // getObj of a synchronized object gives a raw one that can be synchronized again.
      expect(yield* Effect.exit(SharedValue.synchronized(SharedValue.getObj(v)))).toMatchObject({ _tag: "Success" })
      // Not a shared object: TypeError. Already synchronized: Python's assertion, our ValueError.
      for (const bad of [5, "i", [1, 2], {}, undefined]) {
        const e = yield* Effect.flip(SharedValue.synchronized(bad as any))
        expect([e.reason, e.message]).toEqual(["TypeError", expect.stringMatching(/^synchronized\(\) takes a shared value, array or structure, not /)])
      }
      expect(yield* Effect.flip(SharedValue.synchronized(v))).toMatchObject({ reason: "ValueError", message: "object already synchronized" })
      expect(yield* Effect.flip(SharedValue.synchronized(yield* SharedValue.array("c", 3)))).toMatchObject({ reason: "ValueError" })
      for (const badLock of ["notalock", {}, false]) {
        expect(yield* Effect.flip(SharedValue.synchronized(raw, badLock as any))).toMatchObject({ reason: "TypeError" })
      }
      // Reprs of the synchronized array kinds.
      const chars = yield* SharedValue.synchronized(yield* SharedValue.rawArray("c", 3))
      expect(chars.lockHandle).toBeInstanceOf(SharedValue.SharedLock)
    }))

  it.live("a c array's value setter: a NUL after the characters when there is room, none when full; too long is ValueError, nothing written", () =>
    Effect.gen(function*() {
      const s = yield* SharedValue.rawArray("c", 5)
      s.value = "abcde"
      expect([s.value, s.raw]).toEqual(["abcde", new Uint8Array([97, 98, 99, 100, 101])])
      s.value = "xy"
      expect([s.value, s.raw]).toEqual(["xy", new Uint8Array([120, 121, 0, 100, 101])])
      expect(() => { s.value = "abcdef" }).toThrow(expect.objectContaining({ reason: "ValueError", message: "byte string too long" }))
      expect(() => { s.value = "\u0101" }).toThrow(expect.objectContaining({ reason: "TypeError" }))
      expect(s.value).toBe("xy")
      const w = yield* SharedValue.rawArray("u", 3)
      w.value = "é😀"
      expect(w.value).toBe("é😀")
      expect(() => { w.value = "abcd" }).toThrow(expect.objectContaining({ reason: "ValueError", message: "string too long" }))
      const ints = yield* SharedValue.rawArray("i", 3)
      expect(() => { ints.value = "ab" }).toThrow(expect.objectContaining({ reason: "TypeError" }))
    }))

  it("async/await: Value of a structure, RawValue of one, copy and synchronized (reprs, same memory, errors)", async () => {
    const foo = new Value<Foo>(Foo, { x: 3, y: 2 })
    expect(foo.typecode).toEqual(Foo)
    foo.value.x *= 2
    expect(await foo.get()).toEqual({ x: 6, y: 2, z: 0n })
    await foo.set({ z: 2 ** 33 })
    expect(await foo.update((f) => ({ ...f, y: f.y + 1 }))).toEqual({ x: 6, y: 3, z: 2n ** 33n })
    expect(foo.getLock()).toBeInstanceOf(ValueLock)
    expect(String(foo)).toBe("<SynchronizedStructure wrapper for Structure(x=6, y=3.0, z=8589934592)>")
    const bar = await copy(foo)
    expect(bar).toBeInstanceOf(Value)
    foo.value = { x: 0 }
    expect(String(bar)).toBe("Structure(x=6, y=3.0, z=8589934592)")
    const rawFoo = RawValue<Foo>(Foo, [1])
    expect(() => rawFoo.getLock()).toThrow(expect.objectContaining({ reason: "NoLock" }))
    const syncFoo = synchronized(rawFoo)
    syncFoo.value.x = 9
    expect(rawFoo.value.x).toBe(9)
    // Values and arrays.
    const raw = RawValue<number>("i", 1)
    const v = synchronized(raw)
    expect(String(v)).toBe("<Synchronized wrapper for c_int(1)>")
    expect(await v.update((n) => n + 1)).toBe(2)
    expect(raw.value).toBe(2)
    const arr = RawArray<number>("i", [1, 2, 3])
    const given = new PLock()
    const sa = synchronized(arr, given)
    expect(sa).toBeInstanceOf(SharedArray)
    expect(String(sa)).toBe("<SynchronizedArray wrapper for c_int_Array_3>")
    expect((sa.getLock() as PLock).handle).toBe(given.handle)
    sa[0] = 10
    expect(arr[0]).toBe(10)
    expect(String(synchronized(RawArray("c", 4)))).toBe("<SynchronizedString wrapper for c_char_Array_4>")
    const ca = await copy(sa)
    expect([ca instanceof SharedArray, String(ca), [...ca]]).toEqual([true, "<c_int_Array_3>", [10, 2, 3]])
    // Errors: throws for synchronized, rejects for copy.
    expect(() => synchronized(5 as any)).toThrow(expect.objectContaining({ reason: "TypeError" }))
    expect(() => synchronized(v)).toThrow(expect.objectContaining({ reason: "ValueError" }))
    expect(() => synchronized(raw, "notalock" as any)).toThrow(SharedValueError)
    await expect(copy(5 as any)).rejects.toMatchObject({ reason: "TypeError" })
    expect(() => new Value({ x: "w" } as any)).toThrow(expect.objectContaining({ reason: "TypeError" }))
  })
})
