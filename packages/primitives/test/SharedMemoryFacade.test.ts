import { describe, expect, it } from "vitest"
import { Process, ShareableList, SharedMemory, SharedMemoryError, SharedMemoryManager } from "@multiproc/primitives/promise"
import { SharedMemory as SM } from "@multiproc/primitives"
import { Effect } from "effect"
import { inspect } from "node:util"
import * as T from "./fixtures/sharedvalue-facade-tasks.ts"

const names = () => Effect.runPromise(SM.names())

describe("SharedMemory facade (async/await)", () => {
  it("create / attach / open / close / unlink rules", async () => {
    const block = await SharedMemory.create({ size: 8 })
    expect(block.name).toMatch(/^psm_/)
    expect(block.size).toBe(8)
    block.buf[0] = 42
    const same = await SharedMemory.open({ name: block.name })
    expect(same.buf[0]).toBe(42)
    expect(await same.read(0, 2)).toEqual(new Uint8Array([42, 0]))
    await same.write(1, new Uint8Array([7]))
    expect(block.buf[1]).toBe(7)
    same.close()
    expect(() => same.buf).toThrow(expect.objectContaining({ reason: "Closed" }))
    const taken = await SharedMemory.create({ name: block.name, size: 4 }).catch((e) => e)
    expect(taken).toBeInstanceOf(SharedMemoryError)
    expect(taken.reason).toBe("FileExists")
    expect((await SharedMemory.create({ size: 0 }).catch((e) => e)).reason).toBe("ValueError")
    expect((await SharedMemory.open({}).catch((e) => e)).reason).toBe("ValueError")
    await block.unlink()
    expect((await block.unlink().catch((e) => e)).reason).toBe("FileNotFound")
    expect((await SharedMemory.attach(block.name).catch((e) => e)).reason).toBe("FileNotFound")
    const opened = await SharedMemory.open({ create: true, size: 2 })
    await opened.unlink()
  })

  it.each(["thread", "process"] as const)("a child (%s) attaches by name and writes", async (backend) => {
    const block = await SharedMemory.create({ size: 4 })
    const p = new Process({ target: T.writeBlock, args: [block.name, [1, 2, 3]], backend })
    await p.start()
    expect(await p.join()).toBe(0)
    expect(await p.result()).toBe(backend === "thread")
    expect([...block.buf]).toEqual([1, 2, 3, 0])
    await block.unlink()
  })

  it("ShareableList: mixed types, slot limits, index errors, attached by a child", async () => {
    const sl = await ShareableList.create(["howdy", 42, -1.5, true, null, 2n ** 60n])
    expect(sl.length).toBe(6)
    expect(await sl.toArray()).toEqual(["howdy", 42, -1.5, true, null, 2n ** 60n])
    await sl.set(0, "hi")
    expect(await sl.get(0)).toBe("hi")
    expect((await sl.set(0, "a string that is far too long").catch((e) => e)).reason).toBe("ValueError")
    expect((await sl.get(6).catch((e) => e)).reason).toBe("IndexError")
    expect((await sl.get(1.5).catch((e) => e)).reason).toBe("TypeError")
    expect(await sl.get(-1)).toBe(2n ** 60n)
    expect(await sl.count(42)).toBe(1)
    expect(await sl.index(true)).toBe(3)
    expect((await sl.index("nope").catch((e) => e)).reason).toBe("ValueError")
    const p = new Process({ target: T.setListItem, args: [sl.shm.name, 1, 99] })
    await p.start()
    expect(await p.join()).toBe(0)
    expect(await p.result()).toBe(6)
    expect(await (await ShareableList.attach(sl.shm.name)).get(1)).toBe(99)
    expect(await sl.format).toBe("8sqdxxxxxxx?xxxxxx?xq")
    expect(String(sl)).toBe(`ShareableList(['hi', 99, -1.5, True, None, 1152921504606846976], name='${sl.shm.name}')`)
    expect(inspect(sl)).toBe(String(sl))
    // Python: ShareableList('howdy'), ShareableList(range(3)), ShareableList(sl)
    const letters = await ShareableList.create("howdy")
    const range = await ShareableList.create([0, 1, 2].values())
    const copy = await ShareableList.create(sl)
    expect([await letters.toArray(), await range.toArray(), await copy.toArray()]).toEqual([["h", "o", "w", "d", "y"], [0, 1, 2], await sl.toArray()])
    for (const l of [sl, letters, range, copy]) await l.shm.unlink()
  })

  it("SharedMemoryManager unlinks what it created at shutdown (await using)", async () => {
    let created: ReadonlyArray<string> = []
    {
      await using smm = await SharedMemoryManager.start()
      const block = await smm.SharedMemory(16)
      const sl = await smm.ShareableList([1, "two"])
      created = smm.names()
      expect(created).toEqual([block.name, sl.shm.name])
      expect(await names()).toEqual(expect.arrayContaining(created as Array<string>))
    }
    const left = await names()
    for (const n of created) expect(left).not.toContain(n)
  })
})
