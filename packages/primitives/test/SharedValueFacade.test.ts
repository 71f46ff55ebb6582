// The async/await constructors of shared values: Python's Value / Array / RawValue / RawArray.
import { describe, expect, it } from "vitest"
import { Array as SharedArray, Process, RawArray, RawValue, Value } from "@multiproc/primitives/promise"
import { SharedValue } from "@multiproc/primitives"
import { Effect } from "effect"
import * as T from "./fixtures/sharedvalue-facade-tasks.ts"

describe("SharedValue facade", () => {
  it("Value / Array from a size, values, an iterable or a string; Raw ones have no lock", async () => {
    const v = Value("d", 0.5)
    expect(v.value).toBe(0.5)
    const a = SharedArray("i", [1, 2, 3][Symbol.iterator]())
    expect(a.toArray()).toEqual([1, 2, 3])
    expect(SharedArray("h", 4).toArray()).toEqual([0, 0, 0, 0])
    expect(SharedArray("c", "ab").value).toBe("ab")
    expect(() => Value("i", 1.5)).toThrow(SharedValue.SharedValueError)
    await expect(Effect.runPromise(SharedValue.getLock(RawValue("i", 1)))).rejects.toMatchObject({ reason: "NoLock" })
    await expect(Effect.runPromise(SharedValue.getLock(RawArray("i", 2)))).rejects.toMatchObject({ reason: "NoLock" })
  })

  it("a worker thread writes the parent's memory (Python's Value/Array example)", async () => {
    const num = Value("d", 0.0)
    const arr = SharedArray("i", [0, 1, 2, 3])
    const p = new Process({ target: T.negate, args: [num, arr] })
    await p.start()
    expect(await p.join()).toBe(0)
    expect(num.value).toBe(3.1415927)
    expect(arr.toArray()).toEqual([0, -1, -2, -3])
  })
})
