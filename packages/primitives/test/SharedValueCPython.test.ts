// CPython's _TestValue and _TestArray (Lib/test/_test_multiprocessing.py), ported: the same
// values, the same checks, on both backends where a child is involved.
import { describe, expect, it } from "@effect/vitest"
import { Lock, Process, SharedValue } from "@multiproc/primitives"
import { Array as SharedArray, Lock as PLock, Process as PProcess, RawArray, RawValue, Value } from "@multiproc/primitives/promise"
import { Effect } from "effect"
import * as FT from "./fixtures/sharedvalue-facade-tasks.ts"
import * as T from "./fixtures/sharedvalue-tasks.ts"

// _TestValue.codes_values: (typecode, initial, what the child writes).
const codesValues: Array<[SharedValue.Typecode, unknown, unknown]> = [
  ["i", 4343, 24234],
  ["d", 3.625, -4.25],
  ["h", -232, 234],
  ["q", 2n ** 33n, 2n ** 34n],
  ["c", "x", "y"]
]

// _TestArray.test_array's sequence, and its in-place prefix sum (the child's `f`).
const seq = [680, 626, 934, 821, 150, 233, 548, 982, 714, 831]
const prefixSums = (xs: Array<number>) => xs.map((_, i) => xs.slice(0, i + 1).reduce((a, b) => a + b, 0))

function* range(n: number) {
  for (let i = 0; i < n; i++) yield i
}

describe.each(["thread", "process"] as const)("CPython _TestValue / _TestArray (%s backend)", (backend) => {
  it.live.each([false, true])("test_value / test_rawvalue (raw: %s): a child's writes are seen after join", (raw) =>
    Effect.gen(function*() {
      const values = yield* Effect.forEach(codesValues, ([code, init]) => raw ? SharedValue.rawValue(code, init as any) : SharedValue.value(code, init as any))
      values.forEach((v, i) => expect(v.value).toEqual(codesValues[i]![1]))
      yield* Process.run({ target: T.writeValues, args: [values, codesValues.map((c) => c[2])], backend })
      values.forEach((v, i) => expect(v.value).toEqual(codesValues[i]![2]))
    }))

  it.live.each([false, true])("test_array / test_rawarray (raw: %s): len, index, slices, slice assignment from a typed array, a child's prefix sum", (raw) =>
    Effect.gen(function*() {
      const arr = yield* (raw ? SharedValue.rawArray("i", seq) : SharedValue.array("i", seq))
      const expected = [...seq]
      expect(arr.length).toBe(seq.length)
      expect(arr.get(3)).toBe(seq[3])
      expect(arr.slice(2, 7)).toEqual(seq.slice(2, 7))
      // arr[4:8] = seq[4:8] = array.array('i', [1, 2, 3, 4])
      arr.setSlice(4, 8, Int32Array.of(1, 2, 3, 4))
      expected.splice(4, 4, 1, 2, 3, 4)
      expect(arr.slice()).toEqual(expected)
      yield* Process.run({ target: T.prefixSum, args: [arr], backend })
      expect(arr.slice()).toEqual(prefixSums(expected))
    }))

  it("async/await: test_array's prefix sum in a child, on a RawArray and an Array with a given Lock", async () => {
    for (const arr of [RawArray<number>("i", seq), new SharedArray<number>("i", seq, { lock: new PLock() })]) {
      const p = new PProcess({ target: FT.facadePrefixSum, args: [arr], backend })
      await p.start()
      expect(await p.join()).toBe(0)
      expect([...arr]).toEqual(prefixSums(seq))
    }
  })
})

describe("CPython _TestValue / _TestArray: construction", () => {
  it.live("test_getobj_getlock / test_getobj_getlock_obj: lock=None makes a lock as lock=True does; a given Lock is get_lock(); lock=False and Raw* have none; a bad lock fails", () =>
    Effect.gen(function*() {
      // Python's `Value('i', 5, lock=None)`: None is "make one", not "no lock".
      const v2 = yield* SharedValue.value<"i", SharedValue.SharedLock>("i", 5, { lock: null })
      const lock2 = yield* SharedValue.getLock(v2)
      expect(lock2).toBeInstanceOf(SharedValue.SharedLock)
      expect(yield* lock2.acquire({ block: false })).toBe(true)
      yield* lock2.release()
      expect(SharedValue.getObj(v2).value).toBe(5)
      const arr2 = yield* SharedValue.array("i", [...range(10)], { lock: null })
      expect(yield* SharedValue.getLock(arr2)).toBeInstanceOf(SharedValue.SharedLock)
      expect(SharedValue.getObj(arr2).toArray()).toEqual([...range(10)])
      // lock=lock: get_lock() is that very lock.
      const lock = yield* Lock.make()
      expect(yield* SharedValue.getLock(yield* SharedValue.value("i", 5, { lock }))).toBe(lock)
      expect(yield* SharedValue.getLock(yield* SharedValue.array("i", [...range(10)], { lock }))).toBe(lock)
      // lock=False and RawValue / RawArray: no lock (Python: no get_lock attribute).
      for (const raw of [yield* SharedValue.value("i", 5, { lock: false }), yield* SharedValue.rawValue("i", 5), yield* SharedValue.array("i", range(10), { lock: false }), yield* SharedValue.rawArray("i", range(10))]) {
        expect((yield* Effect.flip(SharedValue.getLock(raw as SharedValue.Value<number>))).reason).toBe("NoLock")
      }
      // lock='navalue' / 'notalock': Python's AttributeError, our TypeError, at the call.
      expect((yield* Effect.flip(SharedValue.value("i", 5, { lock: "navalue" as any }))).reason).toBe("TypeError")
      expect((yield* Effect.flip(SharedValue.array("i", range(10), { lock: "notalock" as any }))).reason).toBe("TypeError")
    }))

  it.live("test_invalid_typecode: Value / RawValue / Array / RawArray('x') fail with 'bad typecode'", () =>
    Effect.gen(function*() {
      for (const make of [SharedValue.value("x" as any, undefined), SharedValue.rawValue("x" as any), SharedValue.array("x" as any, []), SharedValue.rawArray("x" as any, [])]) {
        const e = yield* Effect.flip(make as Effect.Effect<unknown, SharedValue.SharedValueError>)
        expect([e.reason, e.message]).toEqual(["TypeError", expect.stringContaining("bad typecode")])
      }
    }))

  it.live("test_array_from_size: zero-filled every time; arr[:] = range(10) (any iterable, also through the Effect function)", () =>
    Effect.gen(function*() {
      for (let k = 0; k < 3; k++) {
        const arr = yield* SharedValue.array("i", 10)
        expect(arr.length).toBe(10)
        expect(arr.toArray()).toEqual(new Array(10).fill(0))
        arr.setSlice(null, null, range(10))
        expect(arr.toArray()).toEqual([...range(10)])
        yield* SharedValue.setSlice(arr, null, null, new Set([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]))
        expect(arr.toArray()).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0])
      }
      const arr = yield* SharedValue.array("i", 3)
      expect(() => arr.setSlice(null, null, range(4))).toThrow(expect.objectContaining({ reason: "ValueError" }))
      expect(() => arr.setSlice(null, null, 5 as any)).toThrow(expect.objectContaining({ reason: "TypeError" }))
      expect((yield* Effect.flip(SharedValue.setSlice(arr, 0, 2, range(3)))).reason).toBe("ValueError")
      expect(arr.toArray()).toEqual([0, 0, 0]) // nothing written by a refused assignment
    }))

  it.live("an int too big for its cell wraps as ctypes does, a bigint past 2 ** 53 included (c_int(2 ** 60 + 5) is 5)", () =>
    Effect.gen(function*() {
      const cases: Array<[SharedValue.Typecode, bigint, number]> = [
        ["i", 2n ** 60n + 5n, 5],
        ["i", -(2n ** 60n) - 5n, -5],
        ["I", 2n ** 64n - 1n, 2 ** 32 - 1],
        ["b", 2n ** 62n + 130n, -126],
        ["H", 3n * 2n ** 55n + 7n, 7]
      ]
      for (const [code, big, wrapped] of cases) {
        expect((yield* SharedValue.value(code, big as any)).value).toBe(wrapped)
        const a = yield* SharedValue.rawArray(code, [big as any])
        expect(a.get(0)).toBe(wrapped)
      }
    }))

  it("async/await: Value / Array with lock: null have a lock; slice assignment from any iterable", () => {
    const v = new Value("i", 5, { lock: null })
    expect(v.getLock()).toBeDefined()
    const a = new SharedArray<number>("i", 10, { lock: null })
    expect(a.getLock()).toBeDefined()
    a.setSlice(null, null, range(10))
    expect([...a]).toEqual([...range(10)])
    expect(() => RawValue("x" as any, 1)).toThrow(/bad typecode/)
    return a.assignSlice(0, 2, new Set([7, 8])).then(() => expect(a.slice(0, 3)).toEqual([7, 8, 2]))
  })
})
