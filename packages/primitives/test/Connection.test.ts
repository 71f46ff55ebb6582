import { describe, expect, it } from "@effect/vitest"
import { Connection, Process } from "@multiproc/primitives"
import { Effect, Exit, Fiber } from "effect"
import { createHmac, randomUUID } from "node:crypto"
import { existsSync, statSync } from "node:fs"
import * as net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as T from "./fixtures/connection-tasks.ts"

/** A fresh Unix socket path for one test. */
const socketPath = () => join(tmpdir(), `multiproc-conn-test-${randomUUID().slice(0, 8)}.sock`)

const frame = (payload: Uint8Array): Buffer => {
  const head = Buffer.alloc(4)
  head.writeUInt32BE(payload.length, 0)
  return Buffer.concat([head, payload])
}

/** A raw TCP peer that records everything it receives. */
const rawPeer = (port: number) =>
  new Promise<{ socket: net.Socket; received: () => Buffer; closed: Promise<void> }>((resolve, reject) => {
    const chunks: Array<Buffer> = []
    const socket = net.connect({ host: "127.0.0.1", port })
    const closed = new Promise<void>((r) => socket.on("close", () => r()))
    socket.on("data", (c) => chunks.push(c))
    socket.on("error", () => {})
    socket.once("connect", () => resolve({ socket, received: () => Buffer.concat(chunks), closed }))
    socket.once("error", reject)
  })

/** Reads length-prefixed frames from a raw socket, one `next()` at a time. */
const frames = (socket: net.Socket) => {
  const queued: Array<Buffer> = []
  const waiters: Array<(b: Buffer) => void> = []
  let buf = Buffer.alloc(0)
  socket.on("data", (c) => {
    buf = Buffer.concat([buf, c])
    while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
      const f = buf.subarray(4, 4 + buf.readUInt32BE(0))
      buf = buf.subarray(4 + f.length)
      const w = waiters.shift()
      if (w) w(f)
      else queued.push(f)
    }
  })
  return () => new Promise<Buffer>((r) => queued.length ? r(queued.shift()!) : waiters.push(r))
}

describe("Connection (Listener / Client)", () => {
  it.live("round-trips values and raw bytes, keeps message boundaries, polls, and reports EOF", () =>
    Effect.scoped(Effect.gen(function*() {
      const listener = yield* Connection.listen({ authkey: "secret" })
      expect(listener.address.host).toBe("127.0.0.1")
      expect(listener.address.port).toBeGreaterThan(0)
      const server = yield* Effect.forkChild(Effect.scoped(Effect.gen(function*() {
        const conn = yield* Connection.accept(listener)
        for (let i = 0; i < 3; i++) yield* Connection.send(conn, yield* Connection.recv(conn))
        // An empty frame, then frames around the small-frame threshold and a large one.
        for (let i = 0; i < 5; i++) yield* Connection.sendBytes(conn, yield* Connection.recvBytes(conn))
        return listener.lastAccepted
      })))
      const conn = yield* Connection.connect(listener.address, { authkey: "secret" })
      expect(yield* Connection.poll(conn)).toBe(false)
      const values = [new Map<unknown, unknown>([[1, "a"], ["k", [1, 2]]]), -0, { nested: { deep: new Set([1n, 2n]) } }]
      for (const v of values) {
        yield* Connection.send(conn, v)
        expect(yield* Connection.poll(conn, "5 seconds")).toBe(true)
        expect(yield* Connection.recv(conn)).toEqual(v)
      }
      yield* Connection.sendBytes(conn, new Uint8Array(0))
      expect((yield* Connection.recvBytes(conn)).length).toBe(0)
      // Small frames are copied behind their header, large ones written as two chunks: both
      // sides of the threshold, back to back.
      const sizes = [16_383, 16_384, 16_385, 300_000]
      for (const n of sizes) yield* Connection.sendBytes(conn, new Uint8Array(n).map((_, i) => (i + n) & 255))
      for (const n of sizes) expect(yield* Connection.recvBytes(conn)).toEqual(new Uint8Array(n).map((_, i) => (i + n) & 255))
      const accepted = yield* Fiber.join(server)
      expect(accepted?.host).toBe("127.0.0.1")
      // The server's scope closed its end: the next receive is EOF, poll says readable.
      expect(yield* Connection.poll(conn, "5 seconds")).toBe(true)
      const eof = yield* Effect.flip(Connection.recv(conn))
      expect(eof.reason).toBe("EOF")
      yield* Connection.close(conn)
      expect(conn.closed).toBe(true)
      expect((yield* Effect.flip(Connection.send(conn, 1)))._tag).toBe("ConnectionError")
    })))

  it.live("a poll that a frame woke, then a receive and a new poll at once: the new poll waits for the next frame", () =>
    Effect.scoped(Effect.gen(function*() {
      const listener = yield* Connection.listen({})
      const client = yield* Connection.connect(listener.address)
      const served = yield* Connection.accept(listener)
      yield* Effect.forkChild(Effect.delay(Connection.send(client, "x"), 20))
      expect(yield* Connection.poll(served, null)).toBe(true)
      // The fiber resumes inside the frame's delivery: this receive and poll run there too.
      expect(yield* Connection.recv(served)).toBe("x")
      expect(yield* Connection.poll(served, 150)).toBe(false)
      yield* Connection.send(client, "y")
      expect(yield* Connection.poll(served, "5 seconds")).toBe(true)
      expect(yield* Connection.recv(served)).toBe("y")
    })))

  it.live("a wrong authkey fails on both sides with AuthenticationError, and the listener keeps serving", () =>
    Effect.scoped(Effect.gen(function*() {
      const listener = yield* Connection.listen({ authkey: "right" })
      const serverSide = yield* Effect.forkChild(Effect.scoped(Effect.flip(Connection.accept(listener))))
      const clientSide = yield* Effect.flip(Connection.connect(listener.address, { authkey: "wrong" }))
      expect(clientSide.reason).toBe("AuthenticationError")
      const serverError = yield* Fiber.join(serverSide)
      expect(serverError.reason).toBe("AuthenticationError")
      // Both ends say how to fix it (our default key is the tree's, where Python's is none).
      const hint = "(pass the same `authkey` to both ends; by default a Listener and a Client use this process tree's key)"
      expect(clientSide.message).toBe(`digest sent was rejected ${hint}`)
      expect(serverError.message).toBe(`digest received was wrong ${hint}`)
      // A good client still gets through.
      const good = yield* Effect.forkChild(Effect.scoped(Effect.gen(function*() {
        const c = yield* Connection.accept(listener)
        return yield* Connection.recv(c)
      })))
      const conn = yield* Connection.connect(listener.address, { authkey: "right" })
      yield* Connection.send(conn, "hello")
      expect(yield* Fiber.join(good)).toBe("hello")
    })))

  it.live("the handshake is Python's HMAC-SHA256 challenge-response (checked against a hand-written client)", () =>
    Effect.scoped(Effect.gen(function*() {
      const listener = yield* Connection.listen({ authkey: "k3y" })
      const accepted = yield* Effect.forkChild(Effect.scoped(Effect.gen(function*() {
        const c = yield* Connection.accept(listener)
        return yield* Connection.recvBytes(c)
      })))
      const result = yield* Effect.promise(async () => {
        const socket = net.connect({ host: "127.0.0.1", port: listener.address.port })
        const next = frames(socket)
        await new Promise((r) => socket.once("connect", r))
        const challenge = await next()
        expect(challenge.subarray(0, 11).toString()).toBe("#CHALLENGE#")
        const message = challenge.subarray(11)
        expect(message.subarray(0, 8).toString()).toBe("{sha256}")
        socket.write(frame(Buffer.concat([Buffer.from("{sha256}"), createHmac("sha256", "k3y").update(message).digest()])))
        expect((await next()).toString()).toBe("#WELCOME#")
        // Now challenge the server.
        const mine = Buffer.concat([Buffer.from("{sha256}"), Buffer.alloc(40, 7)])
        socket.write(frame(Buffer.concat([Buffer.from("#CHALLENGE#"), mine])))
        const answer = await next()
        const expected = Buffer.concat([Buffer.from("{sha256}"), createHmac("sha256", "k3y").update(mine).digest()])
        const ok = answer.equals(expected)
        socket.write(frame(Buffer.from(ok ? "#WELCOME#" : "#FAILURE#")))
        socket.write(frame(Buffer.from("payload")))
        return ok
      })
      expect(result).toBe(true)
      expect(Buffer.from(yield* Fiber.join(accepted)).toString()).toBe("payload")
    })))

  it.live("a legacy peer (Python 3.11 and older: raw HMAC-MD5, unprefixed challenge) is answered and accepted on both ends, as Python 3.12 does", () =>
    Effect.scoped(Effect.gen(function*() {
      const md5 = (m: Buffer) => createHmac("md5", "k3y").update(m).digest()
      // A legacy client of our Listener: answers the {sha256} challenge with a raw HMAC-MD5 of it.
      const listener = yield* Connection.listen({ authkey: "k3y" })
      const accepted = yield* Effect.forkChild(Effect.scoped(Effect.flatMap(Connection.accept(listener), Connection.recvBytes)))
      const answered = yield* Effect.promise(async () => {
        const socket = net.connect({ host: "127.0.0.1", port: listener.address.port })
        const next = frames(socket)
        await new Promise((r) => socket.once("connect", r))
        socket.write(frame(md5((await next()).subarray(11))))
        expect((await next()).toString()).toBe("#WELCOME#")
        const mine = Buffer.alloc(20, 9)
        socket.write(frame(Buffer.concat([Buffer.from("#CHALLENGE#"), mine])))
        const ok = (await next()).equals(md5(mine))
        socket.write(frame(Buffer.from(ok ? "#WELCOME#" : "#FAILURE#")))
        socket.write(frame(Buffer.from("legacy client")))
        return ok
      })
      expect(answered).toBe(true)
      expect(Buffer.from(yield* Fiber.join(accepted)).toString()).toBe("legacy client")
      // Our Client against a legacy server: a 20-byte unprefixed challenge, a raw HMAC-MD5 answer.
      const server = net.createServer()
      const got = new Promise<{ ok: boolean; payload: string }>((resolve) =>
        server.on("connection", async (socket) => {
          const next = frames(socket)
          const mine = Buffer.alloc(20, 3)
          socket.write(frame(Buffer.concat([Buffer.from("#CHALLENGE#"), mine])))
          const ok = (await next()).equals(md5(mine))
          socket.write(frame(Buffer.from(ok ? "#WELCOME#" : "#FAILURE#")))
          socket.write(frame(md5((await next()).subarray(11))))
          expect((await next()).toString()).toBe("#WELCOME#")
          resolve({ ok, payload: (await next()).toString() })
        })
      )
      yield* Effect.addFinalizer(() => Effect.sync(() => server.close()))
      yield* Effect.promise(() => new Promise<void>((r) => server.listen(0, "127.0.0.1", r)))
      const client = yield* Connection.connect({ host: "127.0.0.1", port: (server.address() as net.AddressInfo).port }, { authkey: "k3y" })
      yield* Connection.sendBytes(client, Buffer.from("to a legacy server"))
      expect(yield* Effect.promise(() => got)).toEqual({ ok: true, payload: "to a legacy server" })
    })))

  it.live("an unauthenticated peer's frames never reach accept; garbage, oversized and truncated frames are dropped", () =>
    Effect.scoped(Effect.gen(function*() {
      const listener = yield* Connection.listen({ authkey: "secret", handshakeTimeout: "2 seconds" })
      const peers = yield* Effect.promise(() => Promise.all([
        rawPeer(listener.address.port),
        rawPeer(listener.address.port),
        rawPeer(listener.address.port),
        rawPeer(listener.address.port)
      ]))
      peers[0]!.socket.write(frame(Buffer.from("{sha256}" + "x".repeat(32))))
      const huge = Buffer.alloc(4)
      huge.writeUInt32BE(0xfffffff0, 0)
      peers[1]!.socket.write(huge)
      peers[2]!.socket.write(Buffer.from([0, 0, 0, 50, 1, 2, 3]))
      peers[2]!.socket.end()
      peers[3]!.socket.write(Buffer.from("GET / HTTP/1.1\r\n\r\n"))
      const errors = []
      for (let i = 0; i < 4; i++) errors.push((yield* Effect.scoped(Effect.flip(Connection.accept(listener)))).reason)
      expect(errors).toEqual(["AuthenticationError", "AuthenticationError", "AuthenticationError", "AuthenticationError"])
      yield* Effect.promise(() => Promise.all(peers.map((p) => p.closed)))
      for (const p of peers) {
        // All they ever got: the challenge frame and at most a FAILURE frame.
        const got = p.received()
        const first = got.readUInt32BE(0)
        expect(got.subarray(4, 15).toString()).toBe("#CHALLENGE#")
        const rest = got.subarray(4 + first)
        if (rest.length > 0) expect(rest.subarray(4).toString()).toBe("#FAILURE#")
      }
    })))

  it.live("a silent peer is dropped after the handshake timeout", () =>
    Effect.scoped(Effect.gen(function*() {
      const listener = yield* Connection.listen({ authkey: "secret", handshakeTimeout: "300 millis" })
      const peer = yield* Effect.promise(() => rawPeer(listener.address.port))
      const e = yield* Effect.scoped(Effect.flip(Connection.accept(listener)))
      expect(e.reason).toBe("AuthenticationError")
      yield* Effect.promise(() => peer.closed)
    })))

  it.live("binds 127.0.0.1 by default; an address in use is a clear error; the port is free again after close", () =>
    Effect.gen(function*() {
      const port = yield* Effect.scoped(Effect.gen(function*() {
        const a = yield* Connection.listen()
        const err = yield* Effect.flip(Connection.listen({ address: { port: a.address.port } }))
        expect(err.reason).toBe("AddressInUse")
        expect(err.message).toContain(`127.0.0.1:${a.address.port}`)
        expect(err.message).toContain("already in use")
        return a.address.port
      }))
      // Restart on the same port at once.
      yield* Effect.scoped(Effect.gen(function*() {
        const again = yield* Connection.listen({ address: { port } })
        expect(again.address.port).toBe(port)
      }))
    }))

  it.live.skipIf(process.platform === "win32")("Listener(family=...) without an address takes an arbitrary one of that family; binding it twice is AddressInUse (test_multiple_bind)", () =>
    Effect.gen(function*() {
      let unixPath = ""
      yield* Effect.scoped(Effect.gen(function*() {
        const unix = yield* Connection.listen({ family: "AF_UNIX", authkey: "k" })
        unixPath = unix.address.path
        expect(unixPath.startsWith(join(tmpdir(), "listener-"))).toBe(true)
        expect(statSync(unixPath).isSocket()).toBe(true)
        const inet = yield* Connection.listen({ family: "AF_INET" })
        expect(inet.address.host).toBe("127.0.0.1")
        for (const l of [unix, inet]) {
          expect((yield* Effect.flip(Connection.listen({ address: l.address }))).reason).toBe("AddressInUse")
        }
        const client = yield* Connection.connect(unix.address, { authkey: "k" })
        const server = yield* Connection.accept(unix)
        yield* Connection.send(client, 1729)
        expect(yield* Connection.recv(server)).toBe(1729)
        // Another listener of the family gets another address.
        expect((yield* Connection.listen({ family: "AF_UNIX" })).address.path).not.toBe(unixPath)
      }))
      expect(existsSync(unixPath)).toBe(false)
      // A family this platform does not have, or that the address is not of, is refused.
      const refused = yield* Effect.forEach([
        { family: "AF_PIPE" },
        { family: "AF_BLUETOOTH" },
        { family: "AF_UNIX", address: { port: 0 } },
        { family: "AF_INET", address: socketPath() }
      ], (options) => Effect.scoped(Effect.flip(Connection.listen(options as any))))
      expect(refused.map((e) => e.reason)).toEqual(Array(4).fill("BadArgument"))
      expect(refused[0]!.message).toBe("Family AF_PIPE is not recognized.")
      expect(refused[2]!.message).toContain("is not an AF_UNIX address")
    }))

  it.live("a frame above the maximum size ends the connection on the receiver; the sender is refused up front", () =>
    Effect.scoped(Effect.gen(function*() {
      const listener = yield* Connection.listen({ authkey: "k", maxFrameSize: 1024 })
      const server = yield* Effect.forkChild(Effect.scoped(Effect.gen(function*() {
        const c = yield* Connection.accept(listener)
        const first = yield* Connection.recvBytes(c)
        const second = yield* Effect.flip(Connection.recvBytes(c))
        return [first.length, second.reason] as const
      })))
      const conn = yield* Connection.connect(listener.address, { authkey: "k", maxFrameSize: 1 << 20 })
      yield* Connection.sendBytes(conn, new Uint8Array(1000))
      yield* Connection.sendBytes(conn, new Uint8Array(5000))
      expect(yield* Fiber.join(server)).toEqual([1000, "FrameTooLarge"])
      const small = yield* Connection.connect(listener.address, { authkey: "k", maxFrameSize: 10 })
      const refused = yield* Effect.flip(Connection.sendBytes(small, new Uint8Array(11)))
      expect(refused.reason).toBe("FrameTooLarge")
    })))

  it.live("the bytes API is the pipe connection's: offset/size, maxlength, recvBytesInto, poll(null), readable/writable", () =>
    Effect.scoped(Effect.gen(function*() {
      const listener = yield* Connection.listen({ authkey: "k" })
      const a = yield* Connection.connect(listener.address, { authkey: "k" })
      const b = yield* Connection.accept(listener)
      expect([a.readable, a.writable, b.readable, b.writable]).toEqual([true, true, true, true])
      const text = (u: Uint8Array) => new TextDecoder().decode(u)
      const msg = new TextEncoder().encode("abcdefghijklmnopqrstuvwxyz")
      // Python's send_bytes(buf, offset, size) checks, as Pipe.sendBytes makes them.
      const bad = [[27, undefined, "buffer length < offset"], [22, 5, "buffer length < offset + size"], [-1, undefined, "offset is negative"], [4, -1, "size is negative"]] as const
      for (const [offset, size, message] of bad) {
        const e = yield* Effect.flip(Connection.sendBytes(a, msg, offset, size))
        expect([e.reason, e.message]).toEqual(["BadArgument", message])
      }
      yield* Connection.sendBytes(a, msg, 26)
      yield* Connection.sendBytes(a, msg, 20, 3)
      yield* Connection.sendBytes(a, new DataView(msg.buffer, 1, 2))
      expect((yield* Connection.recvBytes(b)).length).toBe(0)
      expect(text(yield* Connection.recvBytes(b))).toBe("uvw")
      expect(text(yield* Connection.recvBytes(b))).toBe("bc")
      // recv_bytes(maxlength): a longer message fails with Python's "bad message length" and is dropped.
      yield* Connection.sendBytes(a, new Uint8Array(100))
      yield* Connection.sendBytes(a, msg, 0, 10)
      const long = yield* Effect.flip(Connection.recvBytes(b, 10))
      expect([long.reason, long.message]).toEqual(["MessageTooLong", "bad message length: 100 > 10"])
      expect(text(yield* Connection.recvBytes(b, 10))).toBe("abcdefghij")
      expect((yield* Effect.flip(Connection.recvBytes(b, -1))).reason).toBe("BadArgument")
      // recv_bytes_into(buf, offset).
      const buf = new Uint8Array(8)
      yield* Connection.sendBytes(a, msg, 0, 6)
      expect(yield* Connection.recvBytesInto(b, buf, 2)).toBe(6)
      expect(text(buf.subarray(2))).toBe("abcdef")
      yield* Connection.sendBytes(a, msg, 0, 7)
      const short = yield* Effect.flip(Connection.recvBytesInto(b, buf, 2))
      expect(short.reason).toBe("BufferTooShort")
      expect(text(short.data as Uint8Array)).toBe("abcdefg")
      expect((yield* Effect.flip(Connection.recvBytesInto(b, buf, 9))).message).toBe("offset too large")
      expect((yield* Effect.flip(Connection.recvBytesInto(b, buf, -1))).message).toBe("negative offset")
      // poll(null) waits for ever, as Pipe.poll(null) does.
      const started = Date.now()
      const polling = yield* Effect.forkChild(Connection.poll(b, null))
      yield* Effect.sleep("150 millis")
      yield* Connection.send(a, "late")
      expect(yield* Fiber.join(polling)).toBe(true)
      expect(Date.now() - started).toBeGreaterThanOrEqual(140)
      expect(yield* Connection.poll(b, null)).toBe(true)
      expect(yield* Connection.recv(b)).toBe("late")
    })))

  it.live("closing the listener keeps the connections it accepted and drops the ones still in their handshake", () =>
    Effect.scoped(Effect.gen(function*() {
      const listener = yield* Connection.listen({ authkey: "k" })
      const client = yield* Connection.connect(listener.address, { authkey: "k" })
      const accepted = yield* Connection.accept(listener)
      const silent = yield* Effect.promise(() => rawPeer(listener.address.port))
      // Wait until the silent peer got its challenge: it is in its handshake when the listener closes.
      yield* Effect.promise(async () => {
        while (silent.received().length === 0) await new Promise((r) => setTimeout(r, 5))
      })
      yield* Connection.closeListener(listener)
      yield* Effect.promise(() => silent.closed)
      // Python's CPython _TestListener: an accepted connection outlives its listener, both ways.
      yield* Connection.send(client, 1729)
      expect(yield* Connection.recv(accepted)).toBe(1729)
      yield* Connection.send(accepted, "back")
      expect(yield* Connection.recv(client)).toBe("back")
      expect((yield* Effect.scoped(Effect.flip(Connection.accept(listener)))).reason).toBe("Closed")
      // The port is free at once although a connection accepted on it is still open.
      const again = yield* Connection.listen({ address: { port: listener.address.port } })
      expect(again.address.port).toBe(listener.address.port)
    })))

  it.live("listens and connects over a Unix socket (a string or { path }), also from a child process; close removes the file", () =>
    Effect.gen(function*() {
      const path = socketPath()
      yield* Effect.scoped(Effect.gen(function*() {
        const listener = yield* Connection.listen({ address: path, authkey: "k" })
        expect(listener.address).toEqual({ path })
        expect(statSync(path).isSocket()).toBe(true)
        // A path in use is a clear error, and the failed listener leaves the other one's file alone.
        const taken = yield* Effect.flip(Connection.listen({ address: { path }, authkey: "k" }))
        expect(taken.reason).toBe("AddressInUse")
        expect(taken.message).toBe(`cannot listen on ${path}: the address is already in use`)
        expect(statSync(path).isSocket()).toBe(true)
        const client = yield* Connection.connect(path, { authkey: "k" })
        const server = yield* Connection.accept(listener)
        expect(client.peer).toEqual({ path })
        expect(server.peer).toEqual({ path: "" })
        expect(listener.lastAccepted).toEqual({ path: "" })
        yield* Connection.send(client, new Map([["over", "unix"]]))
        expect(yield* Connection.recv(server)).toEqual(new Map([["over", "unix"]]))
        // A child process (its own OS process) connects to the same path.
        const child = yield* Effect.forkChild(Process.run({ target: T.ask, args: [{ path }, "k", "from the child"], backend: "process" }))
        const fromChild = yield* Connection.accept(listener)
        expect(yield* Connection.recv(fromChild)).toBe("from the child")
        yield* Connection.send(fromChild, "answer")
        expect(yield* Fiber.join(child)).toBe("answer")
      }))
      expect(existsSync(path)).toBe(false)
      // Closed: nothing listens there any more.
      expect((yield* Effect.flip(Effect.scoped(Connection.connect(path, { authkey: "k" })))).reason).toBe("ConnectFailed")
    }))

  it.live("a process that ends without closing its listener removes the socket file (Python's Listener does at exit)", () =>
    Effect.gen(function*() {
      for (const backend of ["process", "thread"] as const) {
        const path = socketPath()
        yield* Process.run({ target: T.listenThenExit, args: [path], backend })
        expect(existsSync(path)).toBe(false)
        // And the address is free for the next run.
        yield* Effect.scoped(Connection.listen({ address: path, authkey: "k" }))
      }
    }))

  it.live.skipIf(process.platform !== "linux")("listens on a Linux abstract socket name (\\0name)", () =>
    Effect.scoped(Effect.gen(function*() {
      const name = `\0multiproc-conn-test-${randomUUID().slice(0, 8)}`
      const listener = yield* Connection.listen({ address: { path: name }, authkey: "k" })
      expect(listener.address).toEqual({ path: name })
      const taken = yield* Effect.flip(Connection.listen({ address: name, authkey: "k" }))
      expect(taken.message).toBe(`cannot listen on @${name.slice(1)}: the address is already in use`)
      const client = yield* Connection.connect({ path: name }, { authkey: "k" })
      const server = yield* Connection.accept(listener)
      yield* Connection.sendBytes(server, new Uint8Array([1, 2, 3]))
      expect(yield* Connection.recvBytes(client)).toEqual(new Uint8Array([1, 2, 3]))
    })))

  it.live("an address of an unknown shape fails with BadArgument at the entry instead of listening on a random port", () =>
    Effect.gen(function*() {
      const reasons = yield* Effect.forEach([
        { address: { file: "/tmp/x.sock" } },
        { path: "/tmp/x.sock" },
        { port: 0 },
        { address: "" },
        { address: { path: "/tmp/x.sock", port: 1 } },
        { address: { host: "127.0.0.1", port: 70_000 } },
        { address: ["127.0.0.1"] },
        { address: 6000 }
      ], (options) => Effect.scoped(Effect.flip(Connection.listen(options as any))))
      for (const e of reasons) {
        expect(e.reason).toBe("BadArgument")
        expect(e.message).toContain("pass a Unix socket path (a string or { path }), or a TCP address ({ host, port } or [host, port])")
      }
      expect(reasons[0]!.message).toContain(`address type of {"file":"/tmp/x.sock"} unrecognized`)
      expect(reasons[1]!.message).toContain(`address type of {"path":"/tmp/x.sock"} given outside \`address\``)
      const connects = yield* Effect.forEach(
        [{ host: "127.0.0.1" }, { port: 1 }, 42, null, { path: 1 }, ["127.0.0.1", "80"]],
        (address) => Effect.scoped(Effect.flip(Connection.connect(address as any)))
      )
      expect(connects.map((e) => e.reason)).toEqual(Array(6).fill("BadArgument"))
      // TestInvalidFamily: a Windows named pipe's address (Python's AF_PIPE) is refused elsewhere
      // by both ends (Python: ValueError), not taken for a socket file of that name.
      if (process.platform !== "win32") {
        const pipe = "\\\\.\\test"
        const refused = yield* Effect.all([
          Effect.scoped(Effect.flip(Connection.listen({ address: pipe }))),
          Effect.scoped(Effect.flip(Connection.listen({ address: { path: pipe } }))),
          Effect.scoped(Effect.flip(Connection.connect(pipe)))
        ])
        expect(refused.map((e) => e.reason)).toEqual(["BadArgument", "BadArgument", "BadArgument"])
        expect(refused[0]!.message).toContain("is a Windows named pipe, which this platform does not have")
      }
      // Python's (host, port) tuple is a TCP address.
      yield* Effect.scoped(Effect.gen(function*() {
        const listener = yield* Connection.listen({ address: ["127.0.0.1", 0], authkey: "k" })
        expect(listener.address.host).toBe("127.0.0.1")
        const client = yield* Connection.connect([listener.address.host, listener.address.port], { authkey: "k" })
        const server = yield* Connection.accept(listener)
        yield* Connection.send(client, "tuple")
        expect(yield* Connection.recv(server)).toBe("tuple")
      }))
    }))

  it.live("connecting to a closed port fails with ConnectFailed", () =>
    Effect.gen(function*() {
      const port = yield* Effect.scoped(Effect.map(Connection.listen(), (l) => l.address.port))
      const exit = yield* Effect.exit(Effect.scoped(Connection.connect({ host: "127.0.0.1", port })))
      expect(Exit.isFailure(exit)).toBe(true)
      const e = yield* Effect.flip(Effect.scoped(Connection.connect({ host: "127.0.0.1", port })))
      expect(e.reason).toBe("ConnectFailed")
    }))
})
