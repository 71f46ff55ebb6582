import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import * as wire from "../src/internal/wire.ts"

const KEY = Buffer.from("wire-test")

/** A listener and one authenticated client (read through `onread`) with the server's end of it. */
const pair = async (maxFrame = wire.DEFAULT_MAX_FRAME) => {
  const listener = new wire.WireListener({ host: "127.0.0.1", port: 0, backlog: 8, key: KEY, maxFrame, handshakeTimeoutMs: 5000 })
  await listener.listen()
  const served = new Promise<wire.FrameSocket>((resolve, reject) => listener.accept((a) => a.ok ? resolve(a.conn) : reject(a.error)))
  const client = await wire.connect({ host: "127.0.0.1", port: listener.port, key: KEY, maxFrame, handshakeTimeoutMs: 5000 })
  const server = await served
  return {
    client,
    server,
    close: async () => {
      client.close()
      server.close()
      await listener.close()
    }
  }
}

const framed = (payloads: ReadonlyArray<Uint8Array>): Buffer =>
  Buffer.concat(payloads.flatMap((p) => {
    const head = Buffer.alloc(4)
    head.writeUInt32BE(p.length, 0)
    return [head, Buffer.from(p)]
  }))

/** Writes `bytes` in pieces cut at `cuts`, each piece once the previous one has been flushed. */
const writeInPieces = async (socket: import("node:net").Socket, bytes: Buffer, cuts: ReadonlyArray<number>) => {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b)
  let from = 0
  for (const to of [...at, bytes.length]) {
    if (to <= from) continue
    await new Promise<void>((r) => socket.write(bytes.subarray(from, to), () => r()))
    // Let the client read this piece on its own (a separate read into its reused buffer).
    await new Promise((r) => setTimeout(r, 1))
    from = to
  }
}

describe("wire: a client reads frames through one reused buffer", () => {
  it("frames cut anywhere (inside a header, across reads, several per read, larger than the read buffer) arrive whole and unchanged", async () => {
    const { client, server, close } = await pair()
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 60_000, max: 140_000 }).map((n) => new Uint8Array(n).map((_, i) => (i * 7 + n) & 255))), { minLength: 1, maxLength: 6 }),
          fc.array(fc.nat(), { maxLength: 8 }),
          async (payloads, cuts) => {
            await writeInPieces(server.socket, framed(payloads), cuts)
            for (const p of payloads) {
              const got = await client.recv()
              expect(Buffer.compare(got, Buffer.from(p))).toBe(0)
            }
            expect(client.available).toBe(0)
          }
        ),
        { numRuns: 40 }
      )
      // A frame received earlier is the receiver's own: later reads (into the same buffer) leave it alone.
      await writeInPieces(server.socket, framed([Buffer.from("first")]), [])
      const first = await client.recv()
      await writeInPieces(server.socket, framed([Buffer.from("SECOND")]), [])
      expect((await client.recv()).toString()).toBe("SECOND")
      expect(first.toString()).toBe("first")
    } finally {
      await close()
    }
  }, 60_000)

  it("a frame above the client's maximum ends the connection with FrameTooLarge; the frames before it arrive", async () => {
    const { client, server, close } = await pair(1000)
    try {
      const bytes = Buffer.concat([framed([Buffer.from("ok")]), framed([new Uint8Array(1001)])])
      server.socket.write(bytes)
      expect((await client.recv()).toString()).toBe("ok")
      const error = await client.recv().then(() => undefined, (e: wire.WireError) => e)
      expect(error?.reason).toBe("FrameTooLarge")
      expect(client.ended?.reason).toBe("FrameTooLarge")
    } finally {
      await close()
    }
  })
})
