// CPython's _TestConnection, _TestListener, _TestListenerClient and _TestPoll
// (Lib/test/_test_multiprocessing.py), ported where they add to Pipe / Connection tests.
import { describe, expect, it } from "@effect/vitest"
import { Connection, Pipe, Process } from "@multiproc/primitives"
import * as PP from "@multiproc/primitives/promise"
import { Effect } from "effect"
import type * as Scope from "effect/Scope"
import * as T from "./fixtures/connection-cpython-tasks.ts"

const backends = ["thread", "process"] as const
const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array) => new TextDecoder().decode(b)

describe("CPython _TestConnection (pipes)", () => {
  it.live("test_sendbytes: offset and size as Python's send_bytes takes them, with its messages", () =>
    Effect.scoped(Effect.gen(function*() {
      const msg = bytes("abcdefghijklmnopqrstuvwxyz")
      const [a, b] = yield* Pipe.make()
      yield* Pipe.sendBytes(a, msg)
      expect(text(yield* Pipe.recvBytes(b))).toBe("abcdefghijklmnopqrstuvwxyz")
      yield* Pipe.sendBytes(a, msg, 5)
      expect(text(yield* Pipe.recvBytes(b))).toBe("fghijklmnopqrstuvwxyz")
      yield* Pipe.sendBytes(a, msg, 7, 8)
      expect(text(yield* Pipe.recvBytes(b))).toBe("hijklmno")
      yield* Pipe.sendBytes(a, msg, 26)
      expect((yield* Pipe.recvBytes(b)).length).toBe(0)
      yield* Pipe.sendBytes(a, msg, 26, 0)
      expect((yield* Pipe.recvBytes(b)).length).toBe(0)
      const bad = [[27, undefined, "buffer length < offset"], [22, 5, "buffer length < offset + size"], [26, 1, "buffer length < offset + size"], [-1, undefined, "offset is negative"], [4, -1, "size is negative"]] as const
      for (const [offset, size, message] of bad) {
        const e = yield* Effect.flip(Pipe.sendBytes(a, msg, offset, size))
        expect([e.reason, e.message]).toEqual(["BadArgument", message])
      }
      // Nothing was sent by the refused calls.
      expect(yield* Pipe.poll(b)).toBe(false)
    })))

  it.live("test_connection: recvBytesInto an Int32Array (offsets in bytes, the count of bytes back), BufferTooShort, poll()", () =>
    Effect.scoped(Effect.gen(function*() {
      const [conn, other] = yield* Pipe.make()
      const arr = new Int32Array([0, 1, 2, 3])
      yield* Pipe.sendBytes(other, arr)
      const buffer = new Int32Array(10)
      expect(yield* Pipe.recvBytesInto(conn, buffer)).toBe(16)
      expect([...buffer]).toEqual([0, 1, 2, 3, 0, 0, 0, 0, 0, 0])
      const longmsg = bytes("hello world".repeat(10))
      yield* Pipe.sendBytes(other, longmsg)
      const e = yield* Effect.flip(Pipe.recvBytesInto(conn, new Uint8Array(40)))
      expect(e.reason).toBe("BufferTooShort")
      expect(text(e.data as Uint8Array)).toBe("hello world".repeat(10))
      // An offset leaving too little room is BufferTooShort too.
      yield* Pipe.sendBytes(other, arr)
      expect((yield* Effect.flip(Pipe.recvBytesInto(conn, new Int32Array(4), 4))).reason).toBe("BufferTooShort")
      const t0 = Date.now()
      expect(yield* Pipe.poll(conn)).toBe(false)
      expect(yield* Pipe.poll(conn, -1)).toBe(false)
      expect(Date.now() - t0).toBeLessThan(100)
      expect(yield* Pipe.send(other, null)).toBe(undefined)
      expect(yield* Pipe.poll(conn, 1_000)).toBe(true)
      expect(yield* Pipe.recv(conn)).toBe(null)
      yield* Pipe.close(other)
      expect([conn.readable, conn.writable]).toEqual([true, true])
      expect((yield* Effect.flip(Pipe.recv(conn))).reason).toBe("EOF")
      expect((yield* Effect.flip(Pipe.recvBytes(conn))).reason).toBe("EOF")
    })))

  it.live("test_duplex_false: the reader cannot send, the writer can neither receive nor poll", () =>
    Effect.scoped(Effect.gen(function*() {
      const [reader, writer] = yield* Pipe.make({ duplex: false })
      expect(yield* Pipe.send(writer, 1)).toBe(undefined)
      expect(yield* Pipe.recv(reader)).toBe(1)
      expect((yield* Effect.flip(Pipe.send(reader, 2))).reason).toBe("NotWritable")
      expect((yield* Effect.flip(Pipe.recv(writer))).reason).toBe("NotReadable")
      expect((yield* Effect.flip(Pipe.poll(writer))).reason).toBe("NotReadable")
      expect((yield* Effect.flip(Pipe.recvBytes(writer))).reason).toBe("NotReadable")
      expect((yield* Effect.flip(Pipe.sendBytes(reader, bytes("x")))).reason).toBe("NotWritable")
    })))

  it("test_context (async/await): `using` closes both ends; closed is true and recv rejects with Closed", async () => {
    const [a, b] = PP.Pipe()
    {
      using a2 = a
      using b2 = b
      await a2.send(1729)
      expect(await b2.recv()).toBe(1729)
      expect([a.closed, b.closed]).toEqual([false, false])
    }
    expect([a.closed, b.closed]).toEqual([true, true])
    await expect(a.recv()).rejects.toMatchObject({ reason: "Closed" })
    await expect(b.recv()).rejects.toMatchObject({ reason: "Closed" })
  })
})

describe("CPython _TestListener", () => {
  it("test_empty_authkey: an empty authkey is a key like any other (bpo-43952), as a string or as bytes", async () => {
    for (const key of ["", new Uint8Array(0)]) {
      const listener = await PP.Listener.listen({ authkey: key })
      const client = await PP.Client(listener.address, { authkey: key })
      const d = await listener.accept()
      await client.send(1729)
      expect(await d.recv()).toBe(1729)
      await client.close()
      await d.close()
      await listener.close()
      await expect(listener.accept()).rejects.toMatchObject({ reason: "Closed" })
    }
    // It is not the default key: a client without it is refused.
    await using listener = await PP.Listener.listen({ authkey: "" })
    const [client, served] = await Promise.allSettled([PP.Client(listener.address), listener.accept()])
    expect(client.status).toBe("rejected")
    expect(served.status).toBe("rejected")
  })
})

describe.each(backends)("CPython _TestListenerClient (%s backend)", (backend) => {
  it.live("test_issue14725: a child that connected, sent and closed before accept: accept still gives its message", () =>
    Effect.scoped(Effect.gen(function*() {
      for (const family of ["AF_INET", "AF_UNIX"] as const) {
        const l = yield* Connection.listen({ family })
        const p = yield* Process.make({ target: T.sayHello, args: [l.address], backend, daemon: true })
        yield* Process.start(p)
        yield* Process.join(p, "10 seconds")
        expect(p.exitCode).toBe(0)
        const conn = yield* Connection.accept(l)
        expect(yield* Connection.recv(conn)).toBe("hello")
        expect((yield* Effect.flip(Connection.recv(conn))).reason).toBe("EOF")
        yield* Connection.closeListener(l)
      }
    })))
})

describe("CPython _TestListenerClient (in one process)", () => {
  it.live("test_issue16955: poll(1) sees bytes sent by the accepted end, for each family", () =>
    Effect.scoped(Effect.gen(function*() {
      for (const family of ["AF_INET", "AF_UNIX"] as const) {
        const l = yield* Connection.listen({ family })
        const c = yield* Connection.connect(l.address)
        const a = yield* Connection.accept(l)
        yield* Connection.sendBytes(a, bytes("hello"))
        expect(yield* Connection.poll(c, 1_000)).toBe(true)
        yield* Connection.close(a)
        yield* Connection.close(c)
        yield* Connection.closeListener(l)
      }
    })))
})

describe("CPython _TestPoll", () => {
  it.live("test_empty_string: an empty message makes poll true, and stays there until received", () =>
    Effect.scoped(Effect.gen(function*() {
      const [a, b] = yield* Pipe.make()
      expect(yield* Pipe.poll(a)).toBe(false)
      yield* Pipe.sendBytes(b, new Uint8Array(0))
      expect(yield* Pipe.poll(a)).toBe(true)
      expect(yield* Pipe.poll(a)).toBe(true)
      expect((yield* Pipe.recvBytes(a)).length).toBe(0)
      expect(yield* Pipe.poll(a)).toBe(false)
      const l = yield* Connection.listen({})
      const c = yield* Connection.connect(l.address)
      const d = yield* Connection.accept(l)
      expect(yield* Connection.poll(d)).toBe(false)
      yield* Connection.sendBytes(c, new Uint8Array(0))
      expect(yield* Connection.poll(d, 1_000)).toBe(true)
      expect(yield* Connection.poll(d)).toBe(true)
      expect((yield* Connection.recvBytes(d)).length).toBe(0)
    })))
})

describe.each(backends)("CPython _TestPoll (%s backend)", (backend) => {
  it.live("test_strings: messages sent one by one by a child, empty ones included, arrive each as sent", () =>
    Effect.scoped(Effect.gen(function*() {
      const strings = ["hello", "", "a", "b", "", "bye", "", "lop"].map(bytes)
      const [a, b] = yield* Pipe.make()
      const p = yield* Process.make({ target: T.sendStrings, args: [b, strings, 5], backend })
      yield* Process.start(p)
      for (const s of strings) {
        for (let i = 0; i < 200; i++) if (yield* Pipe.poll(a, 10)) break
        expect(text(yield* Pipe.recvBytes(a))).toBe(text(s))
      }
      yield* Process.join(p)
      expect(p.exitCode).toBe(0)
    })))

  it.live("test_boundaries: a child polling the reading end takes nothing from it", () =>
    Effect.scoped(Effect.gen(function*() {
      const [r, w] = yield* Pipe.make(false)
      const p = yield* Process.make({ target: T.pollOnly, args: [r, 5_000], backend })
      yield* Process.start(p)
      yield* Effect.sleep(100)
      for (const s of ["first", "second"]) yield* Pipe.sendBytes(w, bytes(s))
      yield* Pipe.close(w)
      expect(yield* Process.result(p)).toBe(true)
      expect(text(yield* Pipe.recvBytes(r))).toBe("first")
      expect(text(yield* Pipe.recvBytes(r))).toBe("second")
      expect((yield* Effect.flip(Pipe.recvBytes(r))).reason).toBe("EOF")
    })))

  it.live("test_dont_merge: messages sent back to back stay apart; poll stays true until each is received", () =>
    Effect.scoped(Effect.gen(function*() {
      const [a, b] = yield* Pipe.make()
      expect(yield* Pipe.poll(a, 0)).toBe(false)
      expect(yield* Pipe.poll(a, 50)).toBe(false)
      const p = yield* Process.make({ target: T.sendThree, args: [b], backend })
      yield* Process.start(p)
      expect(text(yield* Pipe.recvBytes(a))).toBe("a")
      expect(yield* Pipe.poll(a, 1_000)).toBe(true)
      expect(yield* Pipe.poll(a, 1_000)).toBe(true)
      expect(text(yield* Pipe.recvBytes(a))).toBe("b")
      expect(yield* Pipe.poll(a, 1_000)).toBe(true)
      expect(yield* Pipe.poll(a, 1_000)).toBe(true)
      expect(yield* Pipe.poll(a, 0)).toBe(true)
      expect(text(yield* Pipe.recvBytes(a))).toBe("cd")
      yield* Process.join(p)
    })))
})

describe("CPython OtherTest", () => {
  // Python's _FakeConnection replies with bogus bytes; here the peer is a real pipe end or network
  // connection doing the same by hand (what it sends, and that it is told #FAILURE#, are checked).
  interface Peer {
    readonly conn: Connection.Challengeable
    readonly sendBytes: (x: Uint8Array) => Effect.Effect<void, unknown>
    readonly recvBytes: Effect.Effect<Uint8Array, unknown>
  }
  const peers = Effect.gen(function*(): Effect.fn.Return<ReadonlyArray<Peer>, unknown, Scope.Scope> {
    const [a, b] = yield* Pipe.make()
    const listener = yield* Connection.listen({ authkey: "outer" })
    const [c, d] = yield* Effect.all([Connection.connect(listener.address, { authkey: "outer" }), Connection.accept(listener)], { concurrency: 2 })
    return [
      { conn: a, sendBytes: (x: Uint8Array) => Pipe.sendBytes(b, x), recvBytes: Pipe.recvBytes(b) },
      { conn: c, sendBytes: (x: Uint8Array) => Connection.sendBytes(d, x), recvBytes: Connection.recvBytes(d) }
    ]
  })

  it.live("test_deliver_challenge_auth_failure: a reply of bogus bytes fails with AuthenticationError", () =>
    Effect.scoped(Effect.gen(function*() {
      for (const peer of yield* peers) {
        const [error, seen] = yield* Effect.all([
          Effect.flip(Connection.deliverChallenge(peer.conn, bytes("abc"))),
          Effect.gen(function*() {
            const challenge = text(yield* peer.recvBytes)
            yield* peer.sendBytes(bytes("something bogus"))
            return [challenge.slice(0, "#CHALLENGE#{sha256}".length), text(yield* peer.recvBytes)]
          })
        ], { concurrency: 2 })
        expect([error._tag, error.reason]).toEqual(["ConnectionError", "AuthenticationError"])
        expect(seen).toEqual(["#CHALLENGE#{sha256}", "#FAILURE#"])
      }
    })))

  it.live("test_answer_challenge_auth_failure: a bare #CHALLENGE#, or a bogus verdict, fails with AuthenticationError", () =>
    Effect.scoped(Effect.gen(function*() {
      for (const peer of yield* peers) {
        // Python 3.12 refuses the bare challenge as too short (3.11 answered it, then got the bogus verdict).
        yield* peer.sendBytes(bytes("#CHALLENGE#"))
        yield* peer.sendBytes(bytes("something bogus"))
        const short = yield* Effect.flip(Connection.answerChallenge(peer.conn, bytes("abc")))
        expect([short.reason, short.message]).toEqual(["AuthenticationError", "challenge too short: 0 bytes (pass the same authkey to both ends)"])
        // (the bogus verdict is still unread: take it out of the way)
        yield* Connection.answerChallenge(peer.conn, bytes("abc")).pipe(Effect.flip)
        // A real challenge answered, then a bogus verdict.
        yield* peer.sendBytes(bytes("#CHALLENGE#{sha256}" + "x".repeat(40)))
        const [rejected] = yield* Effect.all([
          Effect.flip(Connection.answerChallenge(peer.conn, bytes("abc"))),
          Effect.andThen(peer.recvBytes, peer.sendBytes(bytes("something bogus")))
        ], { concurrency: 2 })
        expect([rejected.reason, rejected.message]).toEqual(["AuthenticationError", "digest sent was rejected (pass the same authkey to both ends)"])
      }
    })))
})
