import { describe, expect, it } from "@effect/vitest"
import { Connection, Pipe, Pool, Process } from "@multiproc/primitives"
import * as PP from "@multiproc/primitives/promise"
import { Effect, Exit, Fiber, Scope } from "effect"
import * as T from "./fixtures/pipe-tasks.ts"

const backends = ["thread", "process"] as const
const text = (s: string) => new TextEncoder().encode(s)

describe("Pipe (in one process)", () => {
  it.live("send/recv of objects and bytes; message boundaries kept, an empty message is a message", () =>
    Effect.scoped(Effect.gen(function*() {
      const [a, b] = yield* Pipe.make()
      const objects = [1, "two", { three: [3] }, new Map([[4, 4]]), null, undefined, -0]
      for (const o of objects) yield* Pipe.send(a, o)
      for (const o of objects) expect(yield* Pipe.recv(b)).toEqual(o)
      yield* Pipe.sendBytes(b, text("hello"))
      yield* Pipe.sendBytes(b, new Uint8Array(0))
      yield* Pipe.sendBytes(b, text("abcdefgh"), 2, 3)
      yield* Pipe.sendBytes(b, text("abcdefgh"), 5)
      expect(new TextDecoder().decode(yield* Pipe.recvBytes(a))).toBe("hello")
      expect((yield* Pipe.recvBytes(a)).length).toBe(0)
      expect(new TextDecoder().decode(yield* Pipe.recvBytes(a))).toBe("cde")
      expect(new TextDecoder().decode(yield* Pipe.recvBytes(a))).toBe("fgh")
      expect((yield* Effect.flip(Pipe.sendBytes(a, text("abc"), 4))).reason).toBe("BadArgument")
      expect((yield* Effect.flip(Pipe.sendBytes(a, text("abc"), 1, 5))).reason).toBe("BadArgument")
      expect((yield* Effect.flip(Pipe.sendBytes(a, text("abc"), -1))).reason).toBe("BadArgument")
    })))

  it.live("recvBytesInto writes at the offset; a buffer too short gives BufferTooShort carrying the message; maxlength", () =>
    Effect.scoped(Effect.gen(function*() {
      const [a, b] = yield* Pipe.make()
      yield* Pipe.sendBytes(a, text("12345"))
      const buf = new Uint8Array(8)
      expect(yield* Pipe.recvBytesInto(b, buf, 2)).toBe(5)
      expect(new TextDecoder().decode(buf.subarray(2, 7))).toBe("12345")
      yield* Pipe.sendBytes(a, text("too long for it"))
      const e = yield* Effect.flip(Pipe.recvBytesInto(b, new Uint8Array(4)))
      expect(e.reason).toBe("BufferTooShort")
      expect(new TextDecoder().decode(e.data as Uint8Array)).toBe("too long for it")
      yield* Pipe.sendBytes(a, text("0123456789"))
      expect((yield* Effect.flip(Pipe.recvBytes(b, 4))).reason).toBe("MessageTooLong")
    })))

  it.live("poll with and without a timeout", () =>
    Effect.scoped(Effect.gen(function*() {
      const [a, b] = yield* Pipe.make()
      expect(yield* Pipe.poll(b)).toBe(false)
      const t0 = Date.now()
      expect(yield* Pipe.poll(b, "200 millis")).toBe(false)
      expect(Date.now() - t0).toBeGreaterThanOrEqual(180)
      yield* Effect.forkChild(Effect.delay(Pipe.send(a, "x"), "100 millis"))
      expect(yield* Pipe.poll(b, null)).toBe(true)
      expect(yield* Pipe.poll(b)).toBe(true)
      expect(yield* Pipe.recv(b)).toBe("x")
      expect(yield* Pipe.poll(b, -1)).toBe(false)
    })))

  it.live("end-of-file after the peer closes; a closed connection refuses use", () =>
    Effect.scoped(Effect.gen(function*() {
      const [a, b] = yield* Pipe.make()
      yield* Pipe.send(a, "last")
      yield* Pipe.close(a)
      yield* Pipe.close(a)
      expect(yield* Pipe.poll(b)).toBe(true)
      expect(yield* Pipe.recv(b)).toBe("last")
      expect((yield* Effect.flip(Pipe.recv(b))).reason).toBe("EOF")
      expect((yield* Effect.flip(Pipe.send(a, 1))).reason).toBe("Closed")
      expect((yield* Effect.flip(Pipe.send(b, 1))).reason).toBe("BrokenPipe")
    })))

  it.live("one-way pipe: using the wrong end is a clear error", () =>
    Effect.scoped(Effect.gen(function*() {
      const [reader, writer] = yield* Pipe.make({ duplex: false })
      expect([reader.readable, reader.writable, writer.readable, writer.writable]).toEqual([true, false, false, true])
      const e1 = yield* Effect.flip(Pipe.send(reader, 1))
      expect(e1._tag === "PipeError" && e1.reason).toBe("NotWritable")
      const e2 = yield* Effect.flip(Pipe.recv(writer))
      expect(e2.reason).toBe("NotReadable")
      yield* Pipe.send(writer, "ok")
      expect(yield* Pipe.recv(reader)).toBe("ok")
    })))

  it.live("Pipe.make(false) is Python's positional Pipe(False): one-way; true and {} are two-way", () =>
    Effect.scoped(Effect.gen(function*() {
      const [reader, writer] = yield* Pipe.make(false)
      expect([reader.readable, reader.writable, writer.readable, writer.writable]).toEqual([true, false, false, true])
      yield* Pipe.send(writer, "ok")
      expect(yield* Pipe.recv(reader)).toBe("ok")
      for (const options of [true, {}, { duplex: true }] as const) {
        const [a, b] = yield* Pipe.make(options)
        expect([a.readable, a.writable, b.readable, b.writable]).toEqual([true, true, true, true])
      }
      const [r] = PP.Pipe(false)
      expect([r.readable, r.writable]).toEqual([true, false])
      // Python's Pipe(0) / Pipe(1): a number is read as `if duplex:` (0 gave a two-way pipe).
      const [r0] = yield* Pipe.make(0 as unknown as boolean)
      expect([r0.readable, r0.writable]).toEqual([true, false])
      const [r1] = yield* Pipe.make(1 as unknown as boolean)
      expect([r1.readable, r1.writable]).toEqual([true, true])
    })))

  it.live("wait takes network connections too, mixed with pipes (Python's wait takes any connection)", () =>
    Effect.scoped(Effect.gen(function*() {
      const listener = yield* Connection.listen({})
      const client = yield* Connection.connect(listener.address)
      const served = yield* Connection.accept(listener)
      const [a, b] = yield* Pipe.make()
      expect(yield* Pipe.wait([served, a], 50)).toEqual([])
      yield* Connection.send(client, "over the network")
      expect(yield* Pipe.wait([a, served], "5 seconds")).toEqual([served])
      expect(yield* Connection.recv(served)).toBe("over the network")
      yield* Effect.forkChild(Effect.delay(Pipe.send(b, "over the pipe"), 50))
      expect(yield* Pipe.wait([served, a], "5 seconds")).toEqual([a])
      yield* Connection.close(client)
      expect(yield* Pipe.wait([served], "5 seconds")).toEqual([served])
      const [ca, cb] = PP.Pipe()
      const [facadeServed] = yield* Effect.promise(async () => {
        const { Client, Listener } = PP
        const l = await Listener.listen({})
        const c = await Client(l.address)
        const s = await l.accept()
        await c.send(1)
        return [s, c, l] as const
      })
      expect(yield* Effect.promise(() => PP.wait([ca, facadeServed], "5 seconds"))).toEqual([facadeServed])
      cb.close()
    })))

  it.live("a pipe made in a Scope that is already closed is shut at once (use fails with Unavailable, no defect)", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      yield* Scope.close(scope, Exit.void)
      const exit = yield* Effect.exit(Scope.provide(scope)(Pipe.make()))
      expect(exit._tag).toBe("Success")
      const [a, b] = (exit as Exit.Success<readonly [Pipe.Connection, Pipe.Connection]>).value
      expect((yield* Effect.flip(Pipe.send(a, 1))).reason).toBe("Unavailable")
      expect((yield* Effect.flip(Pipe.recv(b))).reason).toBe("Unavailable")
    }))

  it.live("the promise facade", () =>
    Effect.promise(async () => {
      const [a, b] = PP.Pipe()
      await a.send({ n: 1 })
      expect(await b.poll(1000)).toBe(true)
      expect(await b.recv()).toEqual({ n: 1 })
      a.close()
      await expect(b.recv()).rejects.toMatchObject({ _tag: "PipeError", reason: "EOF" })
      expect(await PP.wait([b], 0)).toEqual([b])
    }))
})

describe.each(backends)("Pipe across processes (%s backend)", (backend) => {
  it.live("echo through a child until end-of-file; the parent closes its copy of the child's end", () =>
    Effect.scoped(Effect.gen(function*() {
      const [parent, child] = yield* Pipe.make()
      const p = yield* Process.make({ target: T.echoUntilEof, args: [child], backend })
      yield* Process.start(p)
      yield* Pipe.close(child)
      const messages = [1, "two", { three: 3 }, new Uint8Array([4, 4]), new Uint8Array(0)]
      for (const m of messages) {
        yield* Pipe.send(parent, m)
        expect(yield* Pipe.recv(parent)).toEqual(m)
      }
      yield* Pipe.close(parent)
      expect(yield* Process.result(p)).toBe(messages.length)
    })))

  it.live("a send to an end nobody holds any more fails with BrokenPipe, as Python's BrokenPipeError", () =>
    Effect.scoped(Effect.gen(function*() {
      const [r, w] = yield* Pipe.make()
      const [goOut, goIn] = yield* Pipe.make()
      const p = yield* Process.make({ target: T.sendWhenTold, args: [w, goIn], backend })
      yield* Process.start(p)
      yield* Pipe.close(r)
      yield* Pipe.send(goOut, "go")
      expect(yield* Process.result(p)).toBe("BrokenPipe")
    })))

  it.live("a connection as the argument of a Pool task: echoed until the parent closes its end", () =>
    Effect.scoped(Effect.gen(function*() {
      const [a, b] = yield* Pipe.make()
      const pool = yield* Pool.make({ processes: 1, backend })
      const task = yield* Effect.forkChild(Pool.apply(pool, T.echoUntilEof, [b]))
      for (const m of ["one", { two: 2 }, new Uint8Array([3])]) {
        yield* Pipe.send(a, m)
        expect(yield* Pipe.recv(a)).toEqual(m)
        // The task holds its copy now: the parent's own copy of b can go (as in Python).
        yield* Pipe.close(b)
      }
      yield* Pipe.close(a)
      expect(yield* Fiber.join(task)).toBe(3)
    })))

  it.live("a 16 MiB message round-trips", () =>
    Effect.scoped(Effect.gen(function*() {
      const [parent, child] = yield* Pipe.make()
      const p = yield* Process.make({ target: T.echoBytesUntilEof, args: [child], backend })
      yield* Process.start(p)
      const big = new Uint8Array(16 << 20)
      for (let i = 0; i < big.length; i += 4099) big[i] = i & 255
      yield* Pipe.sendBytes(parent, big)
      const back = yield* Pipe.recvBytes(parent)
      expect(back.length).toBe(big.length)
      expect(Buffer.compare(back, big)).toBe(0)
      yield* Pipe.close(parent)
      yield* Process.join(p)
    })), 60_000)

  it.live("a message is its bytes (Python's test_connection): values echoed as bytes come back as values", () =>
    Effect.scoped(Effect.gen(function*() {
      const [conn, child] = yield* Pipe.make()
      const p = yield* Process.make({ target: T.echoBytesUntilEof, args: [child], backend })
      yield* Process.start(p)
      yield* Pipe.close(child)
      const seq = [1, 2.25, null, { a: [new Map([[1, "x"]])] }]
      yield* Pipe.send(conn, seq)
      expect(yield* Pipe.recv(conn)).toEqual(seq)
      // A value's bytes taken here and sent on as bytes are received as the value.
      const [x, y] = yield* Pipe.make()
      yield* Pipe.send(x, "relayed")
      yield* Pipe.sendBytes(conn, yield* Pipe.recvBytes(y))
      expect(yield* Pipe.recv(conn)).toBe("relayed")
      const arr = new Int32Array([0, 1, 2, 3])
      yield* Pipe.sendBytes(conn, arr)
      const buffer = new Int32Array(10)
      expect(yield* Pipe.recvBytesInto(conn, buffer, 3 * 4)).toBe(16)
      expect([...buffer]).toEqual([0, 0, 0, 0, 1, 2, 3, 0, 0, 0])
      // Bytes that are no encoded value: recv fails with InvalidMessage (Python: an unpickling
      // error) and the next message still arrives.
      yield* Pipe.sendBytes(conn, text("hello"))
      expect((yield* Effect.flip(Pipe.recv(conn))).reason).toBe("InvalidMessage")
      yield* Pipe.send(conn, null)
      expect(yield* Pipe.recv(conn)).toBe(null)
      yield* Pipe.close(conn)
      expect(yield* Process.result(p)).toBe(5)
    })))

  it.live("end-of-file when the child closes, and when a child dies holding the other end", () =>
    Effect.scoped(Effect.gen(function*() {
      const [r, w] = yield* Pipe.make({ duplex: false })
      const p = yield* Process.make({ target: T.sendAndClose, args: [w, ["a", text("b")], 0], backend })
      yield* Process.start(p)
      yield* Pipe.close(w)
      expect(yield* Pipe.recv(r)).toBe("a")
      expect(new TextDecoder().decode(yield* Pipe.recvBytes(r))).toBe("b")
      expect((yield* Effect.flip(Pipe.recv(r))).reason).toBe("EOF")
      const [r2, w2] = yield* Pipe.make({ duplex: false })
      // The child fails (it tries to read the write-only end) and dies holding it.
      const q = yield* Process.make({ target: T.echoUntilEof, args: [w2], backend })
      yield* Process.start(q)
      yield* Process.join(q)
      yield* Pipe.close(w2)
      expect((yield* Effect.flip(Pipe.recv(r2))).reason).toBe("EOF")
    })))

  it.live("wait multiplexes 4 pipes until all are closed, and process sentinels", () =>
    Effect.scoped(Effect.gen(function*() {
      const readers: Array<Pipe.Connection> = []
      const procs: Array<Process.Process<number, unknown>> = []
      for (let i = 0; i < 4; i++) {
        const [r, w] = yield* Pipe.make({ duplex: false })
        const p = yield* Process.make({ target: T.sendAndClose, args: [w, [i, i * 10, i * 100], 20 + i * 10], backend })
        yield* Process.start(p)
        yield* Pipe.close(w)
        readers.push(r)
        procs.push(p as any)
      }
      const got = new Map<number, Array<unknown>>(readers.map((_, i) => [i, []]))
      let open = [...readers]
      while (open.length > 0) {
        const ready = yield* Pipe.wait(open, "20 seconds")
        expect(ready.length).toBeGreaterThan(0)
        for (const r of ready) {
          const m = yield* Effect.result(Pipe.recv(r))
          if (m._tag === "Failure") {
            expect(m.failure.reason).toBe("EOF")
            open = open.filter((x) => x !== r)
          } else got.get(readers.indexOf(r))!.push(m.success)
        }
      }
      for (let i = 0; i < 4; i++) expect(got.get(i)).toEqual([i, i * 10, i * 100])
      const ended = yield* Pipe.wait(procs, "20 seconds")
      expect(ended.length).toBeGreaterThan(0)
      expect(yield* Pipe.wait(readers.slice(0, 0), 0)).toEqual([])
      const [idle] = yield* Pipe.make()
      const t0 = Date.now()
      expect(yield* Pipe.wait([idle], "150 millis")).toEqual([])
      expect(Date.now() - t0).toBeGreaterThanOrEqual(130)
      // A closed connection is an error, as Python's OSError (not an object never ready).
      yield* Pipe.close(readers[0]!)
      expect((yield* Effect.flip(Pipe.wait([idle, readers[0]!], 0))).reason).toBe("Closed")
    })))
})
