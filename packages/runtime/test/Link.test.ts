import { describe, expect, it } from "vitest"
import { Link, portEndpoint, receiveData } from "@multiproc/runtime/internal/link"
import { MessageChannel } from "node:worker_threads"

/** Waits until `done()` holds (the machine may be loaded: poll, with a generous deadline). */
const until = async (done: () => boolean, ms = 20_000) => {
  const t0 = Date.now()
  while (!done() && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 10))
}

/** Two links over a channel; `raw` holds what the port delivered (frames or plain messages). */
const pair = () => {
  const { port1, port2 } = new MessageChannel()
  const raw: Array<unknown> = []
  const received: Array<unknown> = []
  const a = new Link(portEndpoint(port1), () => {})
  const b = new Link(portEndpoint(port2), (m) => received.push(m))
  port2.on("message", (d) => {
    raw.push(d)
    receiveData(b, d)
  })
  return { a, raw, received, close: () => (port1.close(), port2.close()) }
}

describe("Link (batched framing)", () => {
  it("the first message of a tick goes at once, the rest of the tick as one batch, in order, boundaries kept", async () => {
    const { a, received, close } = pair()
    for (let i = 0; i < 1000; i++) {
      a.send(i % 3 === 0 ? "" : i % 3 === 1 ? i : [i])
      expect(a.batches).toBe(1)
    }
    await until(() => received.length >= 1000)
    expect(a.batches).toBe(2)
    // The next tick starts over: its first message goes at once again.
    a.send("next")
    expect(a.batches).toBe(3)
    a.send("and another")
    expect(a.batches).toBe(3)
    await until(() => received.length >= 1002)
    expect(a.batches).toBe(4)
    expect(received.slice(1000)).toEqual(["next", "and another"])
    expect(received.length).toBe(1002)
    expect(received.slice(0, 4)).toEqual(["", 1, [2], ""])
    close()
  })

  it("a message sent `later` waits for the end of the tick, and what follows in the tick shares its write", async () => {
    const { a, raw, received, close } = pair()
    a.send([1, "release"], true, true)
    expect(a.batches).toBe(0)
    a.send([0, "acquire"], true)
    expect(a.batches).toBe(0)
    await until(() => received.length >= 2)
    expect(a.batches).toBe(1)
    expect(raw.length).toBe(1)
    expect(received).toEqual([[1, "release"], [0, "acquire"]])
    // Alone in its tick it still goes, at the end of the tick.
    a.send([1, "alone"], true, true)
    expect(a.batches).toBe(1)
    await until(() => received.length >= 3)
    expect(a.batches).toBe(2)
    expect(received[2]).toEqual([1, "alone"])
    close()
  })

  it("a lone plain protocol tuple crosses as it is (no frame), anything else as a frame; both exactly", async () => {
    const { a, raw, received, close } = pair()
    const plain = [2, 7, 0, [81, "ok", true, null, undefined, [1.5, NaN, -Infinity, [Number.MAX_SAFE_INTEGER]]]]
    // Not plain: -0, a lone surrogate, a long string, a nested object, too deep, a hole.
    const framed: Array<unknown> = [
      [2, 8, 0, [-0]],
      [2, 9, 0, ["\ud800"]],
      [2, 10, 0, ["y".repeat(64)]],
      [2, 11, 0, [{ a: 1 }]],
      [2, 12, 0, [[[[[1]]]]]],
      // eslint-disable-next-line no-sparse-arrays
      [2, 13, 0, [1, , 3]]
    ]
    const all = [plain, ...framed]
    for (let i = 0; i < all.length; i++) {
      // Each in a tick of its own: the first message of a tick is the one that may go as it is.
      a.send(all[i])
      await until(() => received.length > i)
    }
    expect(raw[0]).toEqual(plain)
    for (const d of raw.slice(1)) expect(typeof d).toBe("string")
    expect(received).toEqual([plain, ...framed])
    expect(Object.is((received[1] as any)[3][0], -0)).toBe(true)
    expect((received[2] as any)[3][0]).toBe("\ud800")
    const holed = (received[6] as any)[3] as Array<number>
    expect(holed.length).toBe(3)
    expect(1 in holed).toBe(false)
    const first = (received[0] as any)[3] as Array<unknown>
    expect(first[3]).toBe(null)
    expect(4 in first).toBe(true)
    expect(first[4]).toBe(undefined)
    close()
  })

  it("a small batch of plain messages goes as an array of them; a batch with another message is packed, shared references kept", async () => {
    const { a, raw, received, close } = pair()
    const shared = [5, 6]
    // Tick 1: the first goes alone, the next three as one plain batch.
    a.send([1, "first"])
    a.send([2, shared, shared])
    a.send([3, true])
    a.send([4, [7, [8]]])
    await until(() => received.length >= 4)
    expect(raw.length).toBe(2)
    expect(raw[1]).toEqual([[2, shared, shared], [3, true], [4, [7, [8]]]])
    // Tick 2: a plain message queued before a non-plain one is packed with it, its shared array
    // still one array.
    a.send([0, "opens the tick"])
    a.send([5, shared, shared])
    a.send([6, { not: "plain" }])
    await until(() => received.length >= 7)
    expect(raw.length).toBe(4)
    expect(typeof raw[3]).toBe("string")
    expect(received.slice(4)).toEqual([[0, "opens the tick"], [5, shared, shared], [6, { not: "plain" }]])
    const m5 = received[5] as Array<unknown>
    expect(m5[1]).toBe(m5[2])
    const m2 = received[1] as Array<unknown>
    expect(m2[1]).toBe(m2[2])
    close()
  })

  it("a message that cannot be encoded fails at send and leaves the batch intact", async () => {
    const { a, received, close } = pair()
    a.send("before")
    expect(() => a.send({ f: () => 1 })).toThrow(/\$\.f/)
    a.send("after")
    await until(() => received.length >= 2)
    expect(received).toEqual(["before", "after"])
    close()
  })

  it("buffers are copied before transfer, so consecutive batches stay readable", async () => {
    const { a, received, close } = pair()
    const big = "x".repeat(20_000)
    for (let round = 0; round < 5; round++) {
      a.send({ round, big })
      a.flush()
    }
    await until(() => received.length >= 5)
    expect(received.map((m: any) => m.round)).toEqual([0, 1, 2, 3, 4])
    expect(received.every((m: any) => m.big === big)).toBe(true)
    close()
  })

  it("a 16 MiB message crosses", async () => {
    const { a, received, close } = pair()
    const bytes = new Uint8Array(16 * 1024 * 1024).map((_, i) => i & 255)
    a.send(bytes)
    await until(() => received.length >= 1)
    expect((received[0] as Uint8Array).length).toBe(bytes.length)
    expect((received[0] as Uint8Array)[12345]).toBe(12345 & 255)
    close()
  })
})
