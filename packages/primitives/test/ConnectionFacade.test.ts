import { describe, expect, it } from "vitest"
import { Client, ConnectionError, Listener } from "@multiproc/primitives/promise"
import { randomUUID } from "node:crypto"
import { existsSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

describe("Connection facade (async/await Listener / Client)", () => {
  it("round-trips values and bytes, polls, reports EOF, and await using closes both ends", async () => {
    let port = 0
    {
      await using listener = await Listener.listen({ authkey: "secret" })
      port = listener.address.port
      expect(listener.address.host).toBe("127.0.0.1")
      const served = (async () => {
        await using conn = await listener.accept()
        await conn.send(await conn.recv())
        await conn.sendBytes(await conn.recvBytes())
        return listener.lastAccepted
      })()
      {
        await using conn = await Client(listener.address, { authkey: "secret" })
        expect(await conn.poll()).toBe(false)
        await conn.send(new Map([["k", [1, 2n]]]))
        expect(await conn.poll("5 seconds")).toBe(true)
        expect(await conn.recv()).toEqual(new Map([["k", [1, 2n]]]))
        await conn.sendBytes(new TextEncoder().encode("xxhelloxx"), 2, 5)
        expect(new TextDecoder().decode(await conn.recvBytes())).toBe("hello")
        const bad: any = await conn.sendBytes(new Uint8Array(3), 2, 5).catch((e) => e)
        expect(bad).toBeInstanceOf(ConnectionError)
        expect([bad.reason, bad.message]).toEqual(["BadArgument", "buffer length < offset + size"])
        expect((await served)?.host).toBe("127.0.0.1")
        // The server's connection was disposed: EOF here.
        const eof: any = await conn.recv().catch((e) => e)
        expect(eof).toBeInstanceOf(ConnectionError)
        expect(eof.reason).toBe("EOF")
        expect(conn.closed).toBe(false)
        await conn.close()
        expect(conn.closed).toBe(true)
        expect((await conn.send(1).catch((e) => e))._tag).toBe("ConnectionError")
      }
    }
    // Disposed: the port is free again.
    const again = await Listener.listen({ address: { port } })
    await again.close()
    await again.close()
  })

  it("recvBytes(maxlength), recvBytesInto, poll(null) and readable/writable work as on a pipe connection", async () => {
    await using listener = await Listener.listen({ authkey: "k" })
    await using client = await Client(listener.address, { authkey: "k" })
    await using server = await listener.accept()
    expect([client.readable, client.writable, server.readable, server.writable]).toEqual([true, true, true, true])
    await client.sendBytes(new Uint8Array(100))
    const long: any = await server.recvBytes(10).catch((e) => e)
    expect([long.reason, long.message]).toEqual(["MessageTooLong", "bad message length: 100 > 10"])
    await client.sendBytes(new TextEncoder().encode("hello"))
    const buf = new Uint8Array(8)
    expect(await server.recvBytesInto(buf, 3)).toBe(5)
    expect(new TextDecoder().decode(buf.subarray(3))).toBe("hello")
    await client.sendBytes(new Uint8Array(6))
    const short: any = await server.recvBytesInto(buf, 3).catch((e) => e)
    expect([short.reason, (short.data as Uint8Array).length]).toEqual(["BufferTooShort", 6])
    const polled = server.poll(null)
    setTimeout(() => void client.send("late"), 100)
    expect(await polled).toBe(true)
    expect(await server.recv()).toBe("late")
  })

  it("closing the listener keeps an accepted connection working; accept then rejects with Closed", async () => {
    const listener = await Listener.listen({ authkey: "k" })
    try {
      await using client = await Client(listener.address, { authkey: "k" })
      await using accepted = await listener.accept()
      await listener.close()
      await client.send(1729)
      expect(await accepted.recv()).toBe(1729)
      await accepted.sendBytes(new TextEncoder().encode("back"))
      expect(new TextDecoder().decode(await client.recvBytes())).toBe("back")
      expect((await listener.accept().catch((e) => e)).reason).toBe("Closed")
    } finally {
      await listener.close()
    }
  })

  it("a string address is a Unix socket whose file close removes; an address of unknown shape rejects", async () => {
    const path = join(tmpdir(), `multiproc-conn-test-${randomUUID().slice(0, 8)}.sock`)
    const listener = await Listener.listen({ address: path, authkey: "k" })
    try {
      expect(listener.address).toEqual({ path })
      await using client = await Client(path, { authkey: "k" })
      await using server = await listener.accept()
      expect(String(client)).toBe(`<Connection ${path}>`)
      await client.send("over unix")
      expect(await server.recv()).toBe("over unix")
      const taken: any = await Listener.listen({ address: { path } }).catch((e) => e)
      expect([taken.reason, existsSync(path)]).toEqual(["AddressInUse", true])
    } finally {
      await listener.close()
    }
    expect(existsSync(path)).toBe(false)
    const bad: any = await Listener.listen({ address: { file: path } } as any).catch((e) => e)
    expect(bad).toBeInstanceOf(ConnectionError)
    expect(bad.reason).toBe("BadArgument")
    expect((await Client({ host: "127.0.0.1" } as any).catch((e) => e)).reason).toBe("BadArgument")
  })

  it("a wrong authkey rejects on both sides, saying how to fix it; an address in use is a clear error", async () => {
    // The listener has the tree's default key; the client brings its own.
    await using listener = await Listener.listen()
    const serverSide = listener.accept().catch((e) => e)
    const clientSide = await Client(listener.address, { authkey: "wrong" }).catch((e) => e)
    expect(clientSide.reason).toBe("AuthenticationError")
    expect((await serverSide).reason).toBe("AuthenticationError")
    for (const e of [clientSide, await serverSide]) {
      expect(e.message).toContain("pass the same `authkey` to both ends; by default a Listener and a Client use this process tree's key")
    }
    const taken = await Listener.listen({ address: listener.address }).catch((e) => e)
    expect(taken).toBeInstanceOf(ConnectionError)
    expect(taken.reason).toBe("AddressInUse")
  })
})
