import { describe, expect, it } from "vitest"
import {
  Array as SharedArray,
  Lock,
  Process,
  RawArray,
  RawValue,
  RLock,
  SharedValueError,
  Value,
  ValueLock
} from "@multiproc/primitives/promise"
import * as T from "./fixtures/sharedvalue-facade-tasks.ts"

const runChild = async <R>(p: Process<any>): Promise<R> => {
  await p.start()
  expect(await p.join()).toBe(0)
  return await p.result() as R
}

describe("SharedValue facade (async/await)", () => {
  it("Value: .value, get/set/update, typecode errors, lock options, getObj", async () => {
    const v = new Value("i", 7)
    expect(v.value).toBe(7)
    v.value = 8
    expect(await v.get()).toBe(8)
    await v.set(9)
    expect(await v.update((x) => x * 2)).toBe(18)
    expect(() => new Value("i", 1.5)).toThrow(SharedValueError)
    expect(() => new Value("x" as any)).toThrow(SharedValueError)
    const lock = v.getLock()
    expect(lock).toBeInstanceOf(ValueLock)
    expect(await lock.acquire()).toBe(true)
    expect(await lock.acquire()).toBe(true) // the default lock is recursive
    await lock.release()
    await lock.release()
    expect(await (lock as ValueLock).withLock(() => 1)).toBe(1)
    {
      using _held = await lock.hold()
      expect((lock as ValueLock).withLockSync(() => v.value)).toBe(18)
    }
    // A shared lock, no lock, the project's Lock and RLock.
    const shared = new Value("d", 1.5, { lock: lock })
    expect((shared.getLock() as ValueLock).lock).toBe((lock as ValueLock).lock)
    const raw = RawValue("b", -3)
    expect(raw.value).toBe(-3)
    expect(() => raw.getLock()).toThrow(expect.objectContaining({ reason: "NoLock" }))
    const real = new Lock()
    const withReal = new Value("q", 5n, { lock: real })
    const got = withReal.getLock()
    expect(got).toBeInstanceOf(Lock)
    expect((got as Lock).handle).toBe(real.handle)
    expect(await withReal.update((x) => x + 1n)).toBe(6n)
    const rl = new RLock()
    const withRLock = new SharedArray("i", 3, { lock: rl })
    expect(withRLock.getLock()).toBeInstanceOf(RLock)
    expect(() => new Value("i", 0, { lock: {} as any })).toThrow(expect.objectContaining({ reason: "TypeError" }))
    const obj = v.getObj()
    obj.value = 1
    expect(v.value).toBe(1)
    expect(() => obj.getLock()).toThrow(expect.objectContaining({ reason: "NoLock" }))
  })

  it("Array: zero-filled, index get/set (negative too), in, length, slices, slice assignment, iteration, c arrays", async () => {
    const z = new SharedArray("d", 4)
    expect([...z]).toEqual([0, 0, 0, 0])
    const a = new SharedArray<number>("i", [1, 2, 3, 4, 5])
    expect(a.length).toBe(5)
    expect(a[0]).toBe(1)
    expect(a[-1]).toBe(5)
    a[1] = 20
    a[-2] = 40
    expect([...a]).toEqual([1, 20, 3, 40, 5])
    expect(0 in a).toBe(true)
    expect(5 in a).toBe(false)
    expect(a.slice(1, 4)).toEqual([20, 3, 40])
    expect(a.slice(null, null, -2)).toEqual([5, 3, 1])
    a.setSlice(0, 2, [7, 8])
    expect(await a.toArray()).toEqual([7, 8, 3, 40, 5])
    expect(() => a.setSlice(0, 2, [1])).toThrow(expect.objectContaining({ reason: "ValueError" }))
    expect(() => a[9]).toThrow(expect.objectContaining({ reason: "IndexError" }))
    expect(() => { a[0] = 1.5 }).toThrow(expect.objectContaining({ reason: "TypeError" }))
    expect(await a.getItem(-1)).toBe(5)
    await a.setItem(0, 70)
    expect(await a.getSlice(0, 1)).toEqual([70])
    await a.assignSlice(3, 5, [0, 0])
    expect(a.slice()).toEqual([70, 8, 3, 0, 0])
    const c = RawArray("c", "hi\x00!")
    expect(c.value).toBe("hi")
    expect(c.raw).toEqual(new Uint8Array([104, 105, 0, 33]))
    expect(() => c.getLock()).toThrow(expect.objectContaining({ reason: "NoLock" }))
    expect(a.getObj()[0]).toBe(70)
    expect(String(a)).toBe("<SynchronizedArray wrapper for c_int_Array_5>")
  })

  it("reprs name the ctypes types as Python does", () => {
    expect(String(new Value("i", 5))).toBe("<Synchronized wrapper for c_int(5)>")
    expect(String(RawValue("i", 5))).toBe("c_int(5)")
    const cases: Array<[any, unknown, string]> = [
      ["b", -1, "c_byte(-1)"], ["B", 255, "c_ubyte(255)"], ["h", 7, "c_short(7)"], ["H", 7, "c_ushort(7)"],
      ["I", 7, "c_uint(7)"], ["l", 7n, "c_long(7)"], ["L", 7n, "c_ulong(7)"], ["q", -(2n ** 40n), "c_long(-1099511627776)"],
      ["Q", 7n, "c_ulong(7)"], ["d", 1, "c_double(1.0)"], ["d", 2.5, "c_double(2.5)"], ["f", 0.5, "c_float(0.5)"],
      ["c", "x", "c_char(b'x')"], ["u", "é", "c_wchar('é')"]
    ]
    for (const [code, v, repr] of cases) expect(String(new Value(code, v))).toBe(`<Synchronized wrapper for ${repr}>`)
    expect(String(new SharedArray("c", 3))).toBe("<SynchronizedString wrapper for c_char_Array_3>")
    expect(String(RawArray("d", 2))).toBe("<c_double_Array_2>")
    expect(() => RawValue("i", 1).getLock()).toThrow("'c_int' object has no attribute 'get_lock'")
  })

  it("thread backend: a child indexes the same memory", async () => {
    const a = new SharedArray<number>("i", [1, 2, 3])
    expect(await runChild(new Process({ target: T.doubleAll, args: [a] }))).toEqual([2, 4, 6])
    expect([...a]).toEqual([2, 4, 6])
  })

  it.each(["thread", "process"] as const)("%s backend: prefix sum and locked increments from two children (default lock and a Lock)", async (backend) => {
    const a = new SharedArray<number>("i", [1, 1, 1, 1, 1])
    expect(await runChild(new Process({ target: T.facadePrefixSum, args: [a], backend }))).toBe(backend === "thread")
    expect([...a]).toEqual([1, 2, 3, 4, 5])
    const n = backend === "thread" ? 200 : 40
    const v = new Value("i", 0)
    const ps = [0, 1].map(() => new Process({ target: T.facadeIncrement, args: [v, n], backend }))
    await Promise.all(ps.map((p) => p.start()))
    for (const p of ps) expect(await p.join()).toBe(0)
    expect(v.value).toBe(2 * n)
    const lock = new Lock()
    const w = new Value("i", 0, { lock })
    const qs = [0, 1].map(() => new Process({ target: T.incrementUnder, args: [w, lock, n], backend }))
    await Promise.all(qs.map((p) => p.start()))
    for (const p of qs) expect(await p.join()).toBe(0)
    expect(w.value).toBe(2 * n)
  }, 60_000)
})
