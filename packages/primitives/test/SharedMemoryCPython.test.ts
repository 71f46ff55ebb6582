// CPython's _TestSharedMemory (Lib/test/_test_multiprocessing.py), ported: the same names, sizes
// and items, on both backends where a child is involved.
import { describe, expect, it } from "@effect/vitest"
import { Process, SharedMemory } from "@multiproc/primitives"
import { SharedMemory as PSharedMemory, ShareableList as PShareableList } from "@multiproc/primitives/promise"
import { Effect } from "effect"
import * as T from "./fixtures/sharedmemory-tasks.ts"

const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array) => new TextDecoder().decode(b)
const waitFor = (pred: (names: ReadonlyArray<string>) => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 250; i++) {
      if (pred(yield* SharedMemory.names())) return true
      yield* Effect.sleep("20 millis")
    }
    return false
  })

describe("CPython _TestSharedMemory", () => {
  it.live("test_shared_memory_basics / test_invalid_shared_memory_creation: attributes, attach, sizes, collisions, unknown names", () =>
    Effect.gen(function*() {
      const name = `test01_tsmb${process.pid}`
      const sms = yield* SharedMemory.create({ name, size: 512 })
      expect([sms.name, sms.size, sms.buf.length]).toEqual([name, 512, 512])
      expect(String(sms)).toContain(name)
      expect(String(sms)).toContain("512")
      sms.buf[0] = 42
      const also = yield* SharedMemory.attach(name)
      expect(also.buf[0]).toBe(42)
      also.close()
      // SharedMemory(name, size=20*sms.size): the size is ignored when attaching.
      const same = yield* Effect.promise(() => PSharedMemory.open({ name, size: 20 * sms.size }))
      expect(same.size).toBe(512)
      same.close()
      // Negative, zero and missing sizes; attaching without a name.
      for (const size of [-2, -1, 0, undefined]) expect((yield* Effect.flip(SharedMemory.create({ size } as any))).reason).toBe("ValueError")
      expect((yield* Effect.promise(() => PSharedMemory.open({ create: true }).catch((e) => e))).reason).toBe("ValueError")
      expect((yield* Effect.promise(() => PSharedMemory.open({}).catch((e) => e))).reason).toBe("ValueError")
      // Only one block per name; unlinking twice is FileNotFoundError; an unknown name too.
      expect((yield* Effect.flip(SharedMemory.create({ name, size: 512 }))).reason).toBe("FileExists")
      const dbl = `test01_dblunlink${process.pid}`
      const uno = yield* SharedMemory.create({ name: dbl, size: 5000 })
      const duo = yield* SharedMemory.attach(dbl)
      yield* SharedMemory.unlink(duo)
      duo.close()
      uno.close()
      expect((yield* Effect.flip(SharedMemory.unlink(uno))).reason).toBe("FileNotFound")
      expect((yield* Effect.flip(SharedMemory.attach("test01_notthere"))).reason).toBe("FileNotFound")
      yield* SharedMemory.unlink(sms)
    }))

  it.live("test_shared_memory_name_with_embedded_null: a name with a NUL is a ValueError at create, attach and unlink", () =>
    Effect.gen(function*() {
      const name = `test01_null${process.pid}`
      const sms = yield* SharedMemory.create({ name, size: 512 })
      const before = yield* SharedMemory.names()
      for (const e of [
        yield* Effect.flip(SharedMemory.attach(`${name}\0a`)),
        yield* Effect.flip(SharedMemory.create({ name: `${name}\0a`, size: 512 })),
        yield* Effect.flip(SharedMemory.unlink(`${name}\0a`))
      ]) expect([e.reason, e.message]).toEqual(["ValueError", "embedded null character"])
      expect(yield* SharedMemory.names()).toEqual(before)
      expect((yield* Effect.promise(() => PSharedMemory.attach(`${name}\0a`).catch((e) => e))).reason).toBe("ValueError")
      yield* SharedMemory.unlink(sms)
    }))

  it.live.each(["thread", "process"] as const)("test_shared_memory_across_processes (%s): a child writes by name, then through the block object sent to it", (backend) =>
    Effect.gen(function*() {
      const sms = yield* SharedMemory.create({ size: 512 })
      yield* Process.run({ target: T.attachAndWrite, args: [sms.name, "howdy"], backend })
      expect(text(sms.buf.subarray(0, 5))).toBe("howdy")
      yield* Process.run({ target: T.writeThroughHandle, args: [sms, "HELLO"], backend })
      expect(text(sms.buf.subarray(0, 5))).toBe("HELLO")
      sms.close()
      yield* SharedMemory.unlink(sms)
    }))

  it.live.each(["thread", "process"] as const)("test_shared_memory_ShareableList_pickling (%s): the list a child receives is the same list, both ways", (backend) =>
    Effect.gen(function*() {
      const sl = yield* SharedMemory.shareableList([...Array(10).keys()])
      expect(yield* Process.run({ target: T.changeReceivedList, args: [sl], backend })).toBe(9)
      expect(yield* sl.get(4)).toBe("changed")
      yield* SharedMemory.unlink(sl.shm)
    }))

  it.live.each(["thread", "process"] as const)("test_shared_memory_cleaned_after_process_termination (%s): a terminated creator's block is gone", (backend) =>
    Effect.scoped(Effect.gen(function*() {
      const name = `test_terminated_${backend}_${process.pid}`
      const p = yield* Process.make({ target: T.createAndWait, args: [name], backend })
      yield* Process.start(p)
      expect(yield* waitFor((ns) => ns.includes(name))).toBe(true)
      yield* Process.terminate(p)
      yield* Process.join(p)
      expect(yield* waitFor((ns) => !ns.includes(name))).toBe(true)
      expect((yield* Effect.flip(SharedMemory.attach(name))).reason).toBe("FileNotFound")
    })))

  it.live("test_shared_memory_ShareableList_basics: index errors, slot storage, count / index, a named copy, a second handle, the empty list", () =>
    Effect.gen(function*() {
      const sl = yield* SharedMemory.shareableList(["howdy", bytes("HoWdY"), -273.154, 100, null, true, 42])
      expect(String(sl)).toContain(sl.shm.name)
      expect((yield* Effect.flip(sl.get(7))).reason).toBe("IndexError")
      expect((yield* Effect.flip(sl.set(7, 2))).reason).toBe("IndexError")
      yield* sl.set(0, "howdy")
      expect(yield* sl.format).toBe("8s8sdqxxxxxx?xxxxxxxx?q")
      expect(sl.length).toBe(7)
      expect((yield* Effect.flip(sl.indexOf("100"))).reason).toBe("ValueError")
      expect(yield* sl.indexOf(100)).toBe(3)
      expect([yield* sl.get(0), yield* sl.get(-2)]).toEqual(["howdy", true])
      expect(yield* sl.toArray()).toEqual(["howdy", bytes("HoWdY"), -273.154, 100, null, true, 42])
      yield* sl.set(3, 42)
      yield* sl.set(4, "some")
      expect(yield* sl.format).toBe("8s8sdq8sxxxxxxx?q")
      expect((yield* Effect.flip(sl.set(4, "far too many"))).message).toContain("exceeds available storage")
      expect(yield* sl.get(4)).toBe("some")
      yield* sl.set(0, "encodés") // exactly 8 bytes of UTF-8
      expect(yield* sl.get(0)).toBe("encodés")
      expect(yield* sl.get(1)).toEqual(bytes("HoWdY")) // no spillage
      expect((yield* Effect.flip(sl.set(0, "encodées"))).message).toContain("exceeds available storage")
      expect((yield* Effect.flip(sl.set(1, bytes("123456789")))).message).toContain("exceeds available storage")
      expect(yield* sl.get(1)).toEqual(bytes("HoWdY"))
      // count: bytes by content; an int however it is written (42 and 42n are one int).
      expect([yield* sl.count(42), yield* sl.count(42n), yield* sl.count(bytes("HoWdY")), yield* sl.count(bytes("adios"))]).toEqual([2, 2, 1, 0])
      expect(yield* sl.indexOf(42n)).toBe(3)
      // A named duplicate is a copy; a second handle by name is the same list.
      const dupName = `test03_duplicate${process.pid}`
      const copy = yield* SharedMemory.shareableList(sl, { name: dupName })
      expect(copy.shm.name).toBe(dupName)
      expect(yield* copy.toArray()).toEqual(yield* sl.toArray())
      expect(yield* copy.format).toBe(yield* sl.format)
      yield* copy.set(-1, 77)
      expect(yield* sl.get(-1)).toBe(42)
      yield* SharedMemory.unlink(copy.shm)
      const tethered = yield* SharedMemory.attachList(sl.shm.name)
      yield* tethered.set(-1, 880)
      expect(yield* sl.get(-1)).toBe(880)
      // A str Python would cut short (7 characters, 14 bytes: Python's slot is 8) gets room for its bytes.
      const wide = yield* SharedMemory.shareableList(["é".repeat(7)])
      expect([yield* wide.format, yield* wide.get(0)]).toEqual(["16s", "é".repeat(7)])
      yield* SharedMemory.unlink(wide.shm)
      // The empty list.
      const empty = yield* SharedMemory.shareableList([])
      expect([empty.length, yield* empty.format, yield* empty.count("any")]).toEqual([0, "", 0])
      expect((yield* Effect.flip(empty.indexOf(null))).reason).toBe("ValueError")
      yield* SharedMemory.unlink(empty.shm)
      yield* SharedMemory.unlink(sl.shm)
    }))

  it.live("test_shared_memory_SharedMemoryManager_basics: lists and blocks reachable by name while it runs, gone after shutdown", () =>
    Effect.gen(function*() {
      const held = yield* Effect.scoped(Effect.gen(function*() {
        const smm = yield* SharedMemory.manager()
        const lol = yield* Effect.forEach([5, 6, 7, 8, 9], (i) => smm.shareableList([...Array(i).keys()]))
        const lom = yield* Effect.forEach([32, 48, 64, 80, 96, 112], (j) => smm.sharedMemory(j))
        expect((yield* SharedMemory.attachList(lol[0]!.shm.name)).length).toBe(5)
        expect((yield* SharedMemory.attach(lom[0]!.name)).buf.length).toBeGreaterThanOrEqual(32)
        return [lom[0]!.name, lol[0]!.shm.name]
      }))
      for (const name of held) expect((yield* Effect.flip(SharedMemory.attach(name))).reason).toBe("FileNotFound")
      expect((yield* Effect.flip(SharedMemory.attachList(held[1]!))).reason).toBe("FileNotFound")
    }))

  it("async/await: count / index find an int written as a bigint", async () => {
    const sl = await PShareableList.create([1, 2, 3])
    expect(await sl.count(2n)).toBe(1)
    expect(await sl.index(3n)).toBe(2)
    await sl.shm.unlink()
  })
})
