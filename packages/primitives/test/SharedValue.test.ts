import { describe, expect, it } from "@effect/vitest"
import { Process, SharedValue } from "@multiproc/primitives"
import { Effect, Exit, Fiber } from "effect"
import * as T from "./fixtures/sharedvalue-tasks.ts"

const backends = ["thread", "process"] as const

// CPython test_value's table: (typecode, initial, next), plus the codes it leaves out.
const cases: Array<[SharedValue.Typecode, unknown, unknown]> = [
  ["c", "x", "y"],
  ["b", -7, 7],
  ["B", 200, 3],
  ["h", -1000, 1000],
  ["H", 60000, 1],
  ["i", 2 ** 31 - 1, -(2 ** 31)],
  ["I", 2 ** 32 - 1, 5],
  ["l", -(2n ** 40n), 2n ** 62n],
  ["L", 2n ** 64n - 1n, 3n],
  ["q", -(2n ** 63n), 12345678901234n],
  ["Q", 2n ** 63n, 1n],
  ["f", 0.5, -1.25],
  ["d", 3.625, Math.PI],
  ["u", "é", "\u{1F600}"]
]

describe.each(backends)("SharedValue (%s backend)", (backend) => {
  it.live("a child's writes to a Value are visible to the parent after join, for every typecode", () =>
    Effect.gen(function*() {
      const values = yield* Effect.forEach(cases, ([code, init]) => SharedValue.value(code, init as any))
      for (const [i, v] of values.entries()) expect(v.value).toEqual(cases[i]![1])
      const shared = yield* Process.run({ target: T.writeValues, args: [values, cases.map((c) => c[2])], backend })
      // Thread backend: the child used the memory itself; process backend: served by this process.
      expect(shared).toEqual(values.map(() => backend === "thread"))
      for (const [i, v] of values.entries()) expect(v.value).toEqual(cases[i]![2])
    }))

  it.live("a child's in-place prefix sum over an Array", () =>
    Effect.gen(function*() {
      const a = yield* SharedValue.array("i", Array.from({ length: 10 }, (_, i) => i))
      const shared = yield* Process.run({ target: T.prefixSum, args: [a], backend })
      expect(shared).toBe(backend === "thread")
      expect(a.toArray()).toEqual([0, 1, 3, 6, 10, 15, 21, 28, 36, 45])
    }))

  it.live("increments under the lock from two children are exact", () =>
    Effect.scoped(Effect.gen(function*() {
      const v = yield* SharedValue.value("i", 0)
      const target = backend === "thread" ? T.incrementSync : T.incrementEffect
      const n = backend === "thread" ? 20_000 : 300
      const ps = yield* Effect.forEach([1, 2], () => Process.make({ target: target as typeof T.incrementEffect, args: [v, n], backend }))
      for (const p of ps) yield* Process.start(p)
      // This process increments too, through the same lock.
      for (let i = 0; i < 100; i++) yield* SharedValue.update(v, (x) => x + 1)
      for (const p of ps) yield* Process.result(p)
      expect(v.value).toBe(2 * n + 100)
    })), 60_000)

  it.live("a lock held by a child that dies is not kept (remote holders are released; threads see it free after exit)", () =>
    Effect.gen(function*() {
      const v = yield* SharedValue.value("i", 0)
      const exit = yield* Effect.exit(Process.run({ target: T.lockAndDie, args: [v], backend }))
      expect(Exit.isFailure(exit)).toBe(true)
      const lock = yield* SharedValue.getLock(v)
      if (backend === "process") {
        expect(yield* lock.acquire({ timeout: "10 seconds" })).toBe(true)
        yield* lock.release()
      } else {
        // A thread shares the memory itself: like Python, its death leaves the lock taken.
        expect(yield* lock.acquire({ block: false })).toBe(false)
      }
    }))
})

describe("SharedValue semantics", () => {
  it.live("thread backend: real shared memory, the parent sees writes while the child runs", () =>
    Effect.scoped(Effect.gen(function*() {
      const a = yield* SharedValue.array("i", 1)
      const p = yield* Process.make({ target: T.tick, args: [a, 25] })
      yield* Process.start(p)
      const seen = new Set<number>()
      while (p.isAlive()) {
        seen.add(a.get(0))
        yield* Effect.sleep("5 millis")
      }
      expect(yield* Process.result(p)).toBe(true)
      expect(a.get(0)).toBe(25)
      // Intermediate values were observed: the memory is shared, not copied back at the end.
      expect([...seen].filter((x) => x > 0 && x < 25).length).toBeGreaterThan(3)
    })))

  it.live("lock options: default RLock, no lock, a shared lock, a bad lock; getObj", () =>
    Effect.gen(function*() {
      const v = yield* SharedValue.value("i", 5)
      const lock = yield* SharedValue.getLock(v)
      expect(yield* lock.acquire()).toBe(true)
      expect(yield* lock.acquire()).toBe(true) // recursive
      yield* lock.release()
      yield* lock.release()
      expect((yield* Effect.flip(lock.release())).reason).toBe("Unlocked")
      const raw = yield* SharedValue.value("i", 5, { lock: false })
      expect((yield* Effect.flip(SharedValue.getLock(raw))).reason).toBe("NoLock")
      const shared = SharedValue.makeLock()
      const a = yield* SharedValue.value("d", 1, { lock: shared })
      const b = yield* SharedValue.array("d", 3, { lock: shared })
      expect(yield* SharedValue.getLock(a)).toBe(shared)
      expect(yield* SharedValue.getLock(b)).toBe(shared)
      const bad = yield* Effect.flip(SharedValue.value("i", 1, { lock: "navalue" as any }))
      expect(bad.reason).toBe("TypeError")
      const obj = SharedValue.getObj(v)
      obj.value = 9
      expect(v.value).toBe(9)
      expect((yield* Effect.flip(SharedValue.getLock(obj))).reason).toBe("NoLock")
      const plain = SharedValue.makeLock({ recursive: false })
      expect(plain.acquireSync()).toBe(true)
      expect(plain.acquireSync({ block: false })).toBe(false)
      plain.releaseSync()
    }))

  it.live("Array: zero-filled from a size, length, index, slices, slice assignment, errors; RawValue / RawArray; c arrays", () =>
    Effect.gen(function*() {
      const a = yield* SharedValue.array("i", 10)
      expect(a.length).toBe(10)
      expect(a.toArray()).toEqual(new Array(10).fill(0))
      a.setSlice(2, 5, [1, 2, 3])
      expect(a.slice(1, 6)).toEqual([0, 1, 2, 3, 0])
      expect(a.slice(null, null, -3)).toEqual([0, 0, 2, 0])
      a.set(-1, 42)
      expect(a.get(9)).toBe(42)
      expect(() => a.get(10)).toThrow(/out of range/)
      expect(() => a.setSlice(0, 2, [1])).toThrow(/same size/)
      expect(() => a.set(0, 1.5)).toThrow(/int expected/)
      expect((yield* Effect.flip(SharedValue.setSlice(a, 0, 2, [1]))).reason).toBe("ValueError")
      expect(yield* SharedValue.getSlice(a, 2, 5)).toEqual([1, 2, 3])
      const rv = yield* SharedValue.rawValue("d")
      expect(rv.value).toBe(0)
      const ra = yield* SharedValue.rawArray("B", [1, 2, 300])
      expect(ra.toArray()).toEqual([1, 2, 44]) // ctypes wraps silently
      // any iterable, as Python takes any sequence (CPython's test_getobj_getlock_obj: range(10))
      const fromSet = yield* SharedValue.array("i", new Set([3, 1, 2]))
      expect(fromSet.toArray()).toEqual([3, 1, 2])
      const range = function*(n: number) {
        for (let i = 0; i < n; i++) yield i
      }
      expect((yield* SharedValue.rawArray("i", range(10))).toArray()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      expect((yield* SharedValue.array("d", Float64Array.of(0.5, 1.5))).toArray()).toEqual([0.5, 1.5])
      const c = yield* SharedValue.array("c", "hello\x00world")
      expect(c.value).toBe("hello")
      expect(c.raw.length).toBe(11)
      expect((yield* Effect.flip(SharedValue.value("z" as any))).reason).toBe("TypeError")
      const small = yield* SharedValue.value("b", 200)
      expect(small.value).toBe(-56)
    }))

  it.live("a contended lock: three threads and this thread's asynchronous acquires lose no increment and leave no waiter counted", () =>
    Effect.scoped(Effect.gen(function*() {
      const v = yield* SharedValue.value("i", 0, { lock: SharedValue.makeLock({ recursive: false }) })
      const lock = yield* SharedValue.getLock(v)
      const n = 30_000
      const ps = yield* Effect.forEach([1, 2, 3], () => Process.make({ target: T.incrementMixed, args: [v, n] }))
      for (const p of ps) yield* Process.start(p)
      for (let i = 0; i < 300; i++) yield* SharedValue.update(v, (x) => x + 1)
      for (const p of ps) yield* Process.result(p)
      expect(v.value).toBe(3 * n + 300)
      // The lock's words: [owner, waiters, count]. Sleepers are counted exactly, so none is left.
      expect(Array.from(new Int32Array((lock.where as { sab: SharedArrayBuffer }).sab, lock.offset, 3))).toEqual([0, 0, 0])
    })), 60_000)

  it.live("an interrupted acquire does not keep the lock", () =>
    Effect.gen(function*() {
      // Non-recursive: an RLock is owned per thread, and every fiber here runs on this one.
      const v = yield* SharedValue.value("i", 0, { lock: SharedValue.makeLock({ recursive: false }) })
      const lock = yield* SharedValue.getLock(v)
      const worker = yield* Effect.forkChild(Process.run({ target: T.incrementEffect, args: [v, 1], backend: "process" }))
      yield* lock.acquire()
      const waiting = yield* Effect.forkChild(lock.acquire())
      yield* Effect.sleep("50 millis")
      yield* Fiber.interrupt(waiting)
      yield* lock.release()
      yield* Fiber.join(worker)
      expect(v.value).toBe(1)
      expect(yield* lock.acquire({ block: false })).toBe(true)
      yield* lock.release()
    }))
})
