// Character values and arrays as Python's ctypes has them (`Array('c', b'hello')`, `.value`,
// `.raw`, `Value('c', b'x')`, `Array('u', 'text')`): a string stands for bytes in a `c` array (one
// character each, '\x00' to '\xff'), a Uint8Array too. The expected values and messages are
// Python 3.11's; `getValue` / `setValue` / `getRaw` / `setRaw` work on every handle, also one
// served to a process child.
import { describe, expect, it } from "@effect/vitest"
import { Process, SharedValue } from "@multiproc/primitives"
import { Array as SharedArray, Process as PProcess, RawArray, Value } from "@multiproc/primitives/promise"
import { Effect } from "effect"
import * as FT from "./fixtures/sharedvalue-facade-tasks.ts"
import * as T from "./fixtures/sharedvalue-tasks.ts"

const latin1 = (bytes: ReadonlyArray<number>) => String.fromCharCode(...bytes)

/** What the child reports, and the state it leaves (the same through both APIs). */
const expectChild = (got: any, backend: "thread" | "process") => {
  expect(got.sync).toBe(backend === "thread" ? "hello" : "NotShared")
  expect(got.shared).toBe(backend === "thread")
  expect(got.first).toEqual(["hello", [104, 101, 108, 108, 111, 0, 121, 122]])
  expect(got.afterValue).toEqual(["hi", [104, 105, 0, 108, 111, 0, 121, 122]])
  // Python's raw setter writes the bytes given, the rest untouched: b'AB\x00Clo\x00yz'.
  expect(got.afterRaw).toEqual(["AB", [65, 66, 0, 67, 111, 0, 121, 122]])
  expect(got.afterBytes).toEqual(["x\xff", [120, 255, 0, 67, 111, 0, 121, 122]])
  expect(got.errors).toEqual([
    "ValueError: byte string too long",
    "ValueError: byte string too long",
    "TypeError: bytes expected instead of int instance",
    "TypeError: bytes expected: a string stands for bytes in a 'c' array, one character each from '\\x00' to '\\xff', not 'ā'",
    "TypeError: a bytes-like object is required, not 'int'",
    "TypeError: 'c_int_Array_3' object has no attribute 'value'",
    "TypeError: 'c_int_Array_3' object has no attribute 'value'",
    "TypeError: 'c_wchar_Array_3' object has no attribute 'raw'",
    "TypeError: 'c_wchar_Array_3' object has no attribute 'raw'",
    "TypeError: unicode string expected instead of Uint8Array instance",
    "ValueError: string too long"
  ])
  // A refused write writes nothing.
  expect(got.untouched).toEqual(got.afterBytes)
  expect(got.wide).toBe("abc")
}

describe.each(["thread", "process"] as const)("character arrays in a child (%s backend)", (backend) => {
  it.live("getValue / setValue / getRaw / setRaw on the handle a child is given, and their errors", () =>
    Effect.gen(function*() {
      const c = yield* SharedValue.array("c", "hello\x00yz")
      const w = yield* SharedValue.rawArray("u", "abc")
      const ints = yield* SharedValue.array("i", 3)
      expectChild(yield* Process.run({ target: T.charsInChild, args: [c, w, ints], backend }), backend)
      expect([c.value, [...c.raw], w.value]).toEqual(["x\xff", [120, 255, 0, 67, 111, 0, 121, 122], "é😀"])
      expect(yield* SharedValue.getValue(c)).toBe("x\xff")
    }))

  it("async/await: getValue / setValue / getRaw / setRaw on the handle a child is given, and their errors", async () => {
    const c = new SharedArray<string>("c", new TextEncoder().encode("hello\x00yz"))
    const w = RawArray<string>("u", "abc")
    const ints = new SharedArray<number>("i", 3)
    const p = new PProcess({ target: FT.facadeCharsInChild, args: [c, w, ints], backend })
    await p.start()
    expect(await p.join()).toBe(0)
    expectChild(await p.result(), backend)
    expect([c.value, [...c.raw], w.value, await w.getValue()]).toEqual(["x\xff", [120, 255, 0, 67, 111, 0, 121, 122], "é😀", "é😀"])
  })
})

describe("character values and arrays here (Python's behaviour)", () => {
  it.live("creation from a string, bytes, a size or a list; Value('c', ...); the wrong types", () =>
    Effect.gen(function*() {
      // Array('c', b'hello'): len 5, value and raw b'hello'.
      const a = yield* SharedValue.array("c", "hello")
      expect([a.length, a.value, latin1([...a.raw])]).toEqual([5, "hello", "hello"])
      expect((yield* SharedValue.array("c", new Uint8Array([104, 105]))).value).toBe("hi")
      expect((yield* SharedValue.array("c", [97, "b"])).value).toBe("ab") // Array('c', [97, b'b'])
      expect([...(yield* SharedValue.array("c", 10)).raw]).toEqual(new Array(10).fill(0)) // Array('c', 10)
      expect((yield* SharedValue.array("c", "\xe9")).raw).toEqual(new Uint8Array([233]))
      expect([...(yield* SharedValue.array("c", "")).raw]).toEqual([])
      const bad = "TypeError: one character bytes, bytearray or integer expected"
      for (const init of ["\u0101", [1.5], ["ab"]]) {
        const e = yield* Effect.flip(SharedValue.array("c", init as any))
        expect(`${e.reason}: ${e.message}`).toContain(bad)
      }
      // Value('c', b'x'), Value('c', 120), Value('c') is b'\x00'; Value('c', b'xy') TypeError.
      expect((yield* SharedValue.value("c", "x")).value).toBe("x")
      expect((yield* SharedValue.value("c", 120)).value).toBe("x")
      expect((yield* SharedValue.value("c")).value).toBe("\x00")
      expect(yield* Effect.flip(SharedValue.value("c", "xy"))).toMatchObject({ reason: "TypeError" })
      expect(yield* Effect.flip(SharedValue.value("c", 256))).toMatchObject({ reason: "TypeError" })
      const v = yield* SharedValue.value("c", "a")
      yield* SharedValue.set(v, new Uint8Array([98]) as any)
      expect(yield* SharedValue.get(v)).toBe("b")
      // Array('u', 'text'): value 'text'; from bytes TypeError (their items are ints).
      const u = yield* SharedValue.array("u", "text")
      expect([u.length, u.value, u.slice(1, 3)]).toEqual([4, "text", ["e", "x"]])
      expect(yield* Effect.flip(SharedValue.array("u", new Uint8Array([116]) as any))).toMatchObject({ reason: "TypeError" })
      expect((yield* SharedValue.value("u", "é")).value).toBe("é")
    }))

  it.live("value and raw, read and written directly (raw and synchronized), slices, slice assignment from a string; other arrays have none", () =>
    Effect.gen(function*() {
      for (const lock of [false, true]) {
        const a = yield* SharedValue.array("c", "hello", { lock })
        a.value = "hi" // a.value = b'hi': b'hi\x00lo'
        expect(latin1([...a.raw])).toBe("hi\x00lo")
        a.value = "h\x00i" // b'h\x00i\x00o', value b'h'
        expect([a.value, latin1([...a.raw])]).toEqual(["h", "h\x00i\x00o"])
        a.value = "" // b'\x00i\x00o'
        expect(a.raw[0]).toBe(0)
        a.value = new Uint8Array([65, 66])
        expect(a.value).toBe("AB")
        a.raw = "xy" // a.raw = b'xy': the rest untouched
        expect(latin1([...a.raw])).toBe("xy\x00\x00o")
        a.raw = Uint8Array.of(1, 2, 3, 4, 5)
        expect([...a.raw]).toEqual([1, 2, 3, 4, 5])
        a.raw = new Uint8Array([9, 9, 9, 9, 9, 9]).subarray(1, 3) // a view: its own bytes
        expect([...a.raw]).toEqual([9, 9, 3, 4, 5])
        a.raw = new DataView(new Uint8Array([7]).buffer)
        expect(a.raw[0]).toBe(7)
        expect(() => { a.raw = "abcdef" }).toThrow(expect.objectContaining({ reason: "ValueError", message: "byte string too long" }))
        expect(() => { a.raw = 5 as any }).toThrow(expect.objectContaining({ reason: "TypeError", message: "a bytes-like object is required, not 'int'" }))
        expect(() => { a.raw = [97] as any }).toThrow(expect.objectContaining({ reason: "TypeError", message: "a bytes-like object is required, not 'Array'" }))
        expect(() => { a.value = 5 as any }).toThrow(expect.objectContaining({ reason: "TypeError", message: "bytes expected instead of int instance" }))
        expect([...a.raw]).toEqual([7, 9, 3, 4, 5])
        // Slices: a[0:2] = b'HI'; the wrong size is ValueError.
        a.raw = "hello"
        a.setSlice(0, 2, "HI")
        expect(a.value).toBe("HIllo")
        yield* SharedValue.setSlice(a, 3, 5, new Uint8Array([76, 79]))
        expect(a.value).toBe("HIlLO")
        expect(() => a.setSlice(0, 2, "HIJ")).toThrow(expect.objectContaining({ reason: "ValueError", message: "Can only assign sequence of same size" }))
        expect(a.slice(1, 3).join("")).toBe("Il") // Python's a[1:3] is b'Il'
        expect(a.slice(null, null, -1).join("")).toBe("OLlIH")
      }
      const ints = yield* SharedValue.rawArray("i", 3)
      expect(() => ints.value).toThrow(expect.objectContaining({ reason: "TypeError", message: "'c_int_Array_3' object has no attribute 'value'" }))
      expect(() => ints.raw).toThrow(expect.objectContaining({ reason: "TypeError", message: "'c_int_Array_3' object has no attribute 'raw'" }))
      expect(() => ints.setSlice(0, 2, "12" as any)).toThrow(expect.objectContaining({ reason: "TypeError" }))
      const u = yield* SharedValue.rawArray("u", "text")
      expect(() => u.raw).toThrow(expect.objectContaining({ reason: "TypeError", message: "'c_wchar_Array_4' object has no attribute 'raw'" }))
      expect(() => { u.value = new Uint8Array([104]) }).toThrow(expect.objectContaining({ reason: "TypeError", message: "unicode string expected instead of Uint8Array instance" }))
      u.value = "h\x00i" // 'h\x00i\x00', value 'h'
      expect([u.value, u.slice().join("")]).toEqual(["h", "h\x00i\x00"])
      u.setSlice(0, 2, "hé")
      expect(u.value).toBe("héi") // "h\x00i\x00" with its first two replaced
    }))

  it("async/await: Array('c', bytes), value / raw and their promise forms, Value('c', 'x')", async () => {
    const a = new SharedArray<string>("c", "hello")
    expect([a.length, a.value, a.slice(1, 3)]).toEqual([5, "hello", ["e", "l"]])
    a.raw = new Uint8Array([72])
    expect(await a.getValue()).toBe("Hello")
    await a.setRaw("J")
    await a.setValue("hi")
    expect([...await a.getRaw()]).toEqual([104, 105, 0, 108, 111])
    a.value = new Uint8Array([65])
    expect(a.value).toBe("A")
    await expect(a.setValue("toolong")).rejects.toMatchObject({ reason: "ValueError", message: "byte string too long" })
    await expect(a.setRaw("toolong")).rejects.toMatchObject({ reason: "ValueError", message: "byte string too long" })
    expect(() => { a.raw = "toolong" }).toThrow(expect.objectContaining({ reason: "ValueError" }))
    await expect(new SharedArray("d", 2).getValue()).rejects.toMatchObject({ reason: "TypeError" })
    expect(new Value<string>("c", "x").value).toBe("x")
    expect(() => new Value("c", "xy")).toThrow(expect.objectContaining({ reason: "TypeError" }))
  })
})
