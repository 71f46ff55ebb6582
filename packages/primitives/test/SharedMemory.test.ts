import { describe, expect, it } from "@effect/vitest"
import { Process, SharedMemory } from "@multiproc/primitives"
import { Effect, Exit } from "effect"
import { inspect } from "node:util"
import * as T from "./fixtures/sharedmemory-tasks.ts"

describe("SharedMemory", () => {
  it.live("create / attach / close / unlink rules", () =>
    Effect.gen(function*() {
      expect((yield* Effect.flip(SharedMemory.create({ size: 0 }))).reason).toBe("ValueError")
      const a = yield* SharedMemory.create({ size: 100 })
      expect(a.name).toMatch(/^psm_/)
      expect(a.size).toBe(100)
      expect(a.buf.every((b) => b === 0)).toBe(true)
      const exists = yield* Effect.flip(SharedMemory.create({ name: a.name, size: 10 }))
      expect(exists.reason).toBe("FileExists")
      const b = yield* SharedMemory.attach(a.name)
      a.buf.set([1, 2, 3])
      expect([...b.buf.subarray(0, 3)]).toEqual([1, 2, 3]) // the same memory
      b.close()
      expect(() => b.buf).toThrow(/closed/)
      expect((yield* Effect.flip(b.read())).reason).toBe("Closed")
      yield* SharedMemory.unlink(a)
      expect((yield* Effect.flip(SharedMemory.unlink(a))).reason).toBe("FileNotFound")
      expect((yield* Effect.flip(SharedMemory.attach(a.name))).reason).toBe("FileNotFound")
      expect(a.buf[0]).toBe(1) // an open handle outlives the name
      expect((yield* Effect.flip(a.read(99, 2))).reason).toBe("IndexError")
    }))

  it.live.each(["thread", "process"] as const)("a child (%s) attaches by name and writes", (backend) =>
    Effect.gen(function*() {
      const shm = yield* SharedMemory.create({ size: 32 })
      const shared = yield* Process.run({ target: T.attachAndWrite, args: [shm.name, "hello"], backend })
      expect(shared).toBe(backend === "thread")
      expect(new TextDecoder().decode(shm.buf.subarray(0, 5))).toBe("hello")
      yield* SharedMemory.unlink(shm)
    }))

  it.live.each(["thread", "process"] as const)("blocks of a child (%s) that crashes or exits without unlinking are not leaked", (backend) =>
    Effect.gen(function*() {
      const crashed = yield* Effect.exit(Process.run({ target: T.createAndLeave, args: [`leak-crash-${backend}`, true], backend }))
      expect(Exit.isFailure(crashed)).toBe(true)
      yield* Process.run({ target: T.createAndLeave, args: [`leak-exit-${backend}`, false], backend })
      // The registry hears of the deaths asynchronously.
      for (let i = 0; i < 100 && (yield* SharedMemory.names()).some((n) => n.startsWith("leak-")); i++) yield* Effect.sleep("20 millis")
      expect((yield* SharedMemory.names()).filter((n) => n.startsWith("leak-"))).toEqual([])
    }))

  it.live("ShareableList with mixed types, slot limits and index errors; attached by a child", () =>
    Effect.gen(function*() {
      const sl = yield* SharedMemory.shareableList(["howdy", 42, -1.5, true, null, new Uint8Array([1, 2]), 2n ** 60n])
      expect(sl.length).toBe(7)
      expect(yield* sl.toArray()).toEqual(["howdy", 42, -1.5, true, null, new Uint8Array([1, 2]), 2n ** 60n])
      expect(yield* sl.get(-1)).toBe(2n ** 60n)
      expect((yield* Effect.flip(sl.get(7))).reason).toBe("IndexError")
      // Python: sl[1.5] is a TypeError ("list indices must be integers or slices, not float"), not an IndexError
      for (const e of [yield* Effect.flip(sl.get(1.5)), yield* Effect.flip(sl.set(1.5, 0)), yield* Effect.flip(sl.get(NaN))]) {
        expect([e.reason, e.message]).toEqual(["TypeError", "list indices must be integers or slices, not float"])
      }
      expect((yield* Effect.flip(sl.get("1" as any))).message).toBe("list indices must be integers or slices, not str")
      expect((yield* Effect.flip(sl.set(7.5, 0))).reason).toBe("TypeError") // the type is checked before the range
      expect(yield* sl.get(1n as any)).toBe(42) // a bigint is a Python int
      expect((yield* Effect.flip(sl.set(0, "x".repeat(9)))).reason).toBe("ValueError")
      yield* sl.set(0, "x".repeat(8)) // the slot holds 8 bytes
      yield* sl.set(2, 3) // a slot's type may change (numbers take 8 bytes)
      expect(yield* sl.count(3)).toBe(1)
      expect(yield* sl.indexOf(true)).toBe(3)
      expect((yield* Effect.flip(sl.indexOf("nope"))).reason).toBe("ValueError")
      for (const backend of ["thread", "process"] as const) {
        const seen = yield* Process.run({ target: T.listInChild, args: [sl.shm.name], backend })
        expect(seen.items[0]).toBe("hi")
        expect(seen.format).toBe("8sqqxxxxxxx?xxxxxx?x8sq") // set(2, 3) made slot 2 an int
        // a process-backend child is served the memory: its items cannot be read synchronously
        expect(seen.repr).toBe(backend === "thread" ? String(sl) : `ShareableList(<remote>, name='${sl.shm.name}')`)
      }
      expect(yield* sl.get(1)).toBe(44)
      yield* SharedMemory.unlink(sl.shm)
    }))

  it.live("ShareableList format, repr and sources: Python's for the same content", () =>
    Effect.gen(function*() {
      // CPython: test_shared_memory_ShareableList_basics
      const sl = yield* SharedMemory.shareableList(["howdy", new TextEncoder().encode("HoWdY"), -273.154, 100, null, true, 42])
      expect(yield* sl.format).toBe("8s8sdqxxxxxx?xxxxxxxx?q")
      expect(String(sl)).toBe(`ShareableList(['howdy', b'HoWdY', -273.154, 100, None, True, 42], name='${sl.shm.name}')`)
      expect(inspect(sl)).toBe(String(sl))
      yield* sl.set(2, 1) // a float slot becomes an int slot, a str keeps its capacity
      yield* sl.set(4, "some")
      yield* sl.set(0, 2.5)
      expect(yield* sl.format).toBe("d8sqq8sxxxxxxx?q")
      expect(String(sl)).toContain("[2.5, b'HoWdY', 1, 100, 'some', True, 42]")
      // 8 bytes get 16, as in Python (len // 8 + 1 blocks of 8); floats print as Python's
      const more = yield* SharedMemory.shareableList(["12345678", "", 1e20, 2.0 ** 53, -0, "it's"])
      expect(yield* more.format).toBe("16s8sddd8s")
      expect(String(more)).toContain("['12345678', '', 1e+20, 9007199254740992.0, -0.0, \"it's\"]")
      // any iterable: range(10), a string's characters, a Set, another ShareableList (a copy)
      const range = yield* SharedMemory.shareableList({ *[Symbol.iterator]() { for (let i = 0; i < 10; i++) yield i } })
      expect(yield* range.toArray()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      const letters = yield* SharedMemory.shareableList("howdy")
      expect([yield* letters.toArray(), yield* letters.format]).toEqual([["h", "o", "w", "d", "y"], "8s8s8s8s8s"])
      expect(yield* (yield* SharedMemory.shareableList(new Set([1, 1, 2]))).toArray()).toEqual([1, 2])
      const copy = yield* SharedMemory.shareableList(sl)
      expect(copy.shm.name).not.toBe(sl.shm.name)
      expect(yield* copy.toArray()).toEqual(yield* sl.toArray())
      const empty = yield* SharedMemory.shareableList([])
      expect([yield* empty.format, String(empty)]).toEqual(["", `ShareableList([], name='${empty.shm.name}')`])
      expect((yield* Effect.flip(SharedMemory.shareableList(5 as any))).message).toBe("'number' object is not iterable")
      for (const l of [sl, more, range, letters, copy, empty]) yield* SharedMemory.unlink(l.shm)
    }))

  it.live("ShareableList never changes a number: big ones stay floats, a bigint past int64 fails", () =>
    Effect.gen(function*() {
      const numbers = [2 ** 53, 2 ** 63, 2 ** 64, 2 ** 64 + 8192, -(2 ** 64), 1e20, 1e300, Number.MAX_VALUE, -0, NaN, Infinity]
      const sl = yield* SharedMemory.shareableList([...numbers, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2n ** 63n - 1n, -(2n ** 63n)])
      const back = yield* sl.toArray()
      numbers.forEach((n, i) => expect(Object.is(back[i], n)).toBe(true))
      expect(back.slice(numbers.length)).toEqual([Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2n ** 63n - 1n, -(2n ** 63n)])
      // set: the same rules, and a failed set leaves the item as it was
      yield* sl.set(0, 2 ** 64 + 12345 * 4096)
      expect(yield* sl.get(0)).toBe(2 ** 64 + 12345 * 4096)
      yield* sl.set(0, 7)
      for (const big of [2n ** 63n, -(2n ** 63n) - 1n, 2n ** 64n]) {
        const e = yield* Effect.flip(sl.set(0, big))
        expect([e.reason, e.message]).toEqual(["ValueError", expect.stringContaining("'q' format requires")])
      }
      expect(yield* sl.get(0)).toBe(7)
      // creating with one fails without creating a block
      const before = (yield* SharedMemory.names()).length
      expect((yield* Effect.flip(SharedMemory.shareableList([1, 2n ** 64n]))).reason).toBe("ValueError")
      expect((yield* SharedMemory.names()).length).toBe(before)
      yield* SharedMemory.unlink(sl.shm)
    }))

  it.live("SharedMemoryManager unlinks what it created at shutdown", () =>
    Effect.gen(function*() {
      const created = yield* Effect.scoped(Effect.gen(function*() {
        const smm = yield* SharedMemory.manager()
        const a = yield* smm.sharedMemory(16)
        const l = yield* smm.shareableList([1, "two"])
        expect(yield* SharedMemory.attach(a.name)).toBeDefined()
        return [a.name, l.shm.name]
      }))
      for (const name of created) expect((yield* Effect.flip(SharedMemory.attach(name))).reason).toBe("FileNotFound")
    }))

  it.live("a SharedMemoryManager that was shut down creates nothing (it would never unlink it)", () =>
    Effect.gen(function*() {
      const smm = yield* Effect.scoped(SharedMemory.manager())
      const before = (yield* SharedMemory.names()).length
      expect((yield* Effect.flip(smm.sharedMemory(16))).reason).toBe("Closed")
      expect((yield* Effect.flip(smm.shareableList([1, 2]))).reason).toBe("Closed")
      expect((yield* SharedMemory.names()).length).toBe(before)
      expect(smm.names()).toEqual([])
    }))
})
