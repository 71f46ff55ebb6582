// Connection.deliverChallenge / answerChallenge (Python's deliver_challenge / answer_challenge) on
// their own, over network connections and pipe ends. CPython's OtherTest is in
// ConnectionCPython.test.ts, the tests against Python's own in ConnectionInterop.test.ts.
import { describe, expect, it } from "@effect/vitest"
import { Connection, Pipe, Process } from "@multiproc/primitives"
import * as PP from "@multiproc/primitives/promise"
import { Effect } from "effect"
import { createHmac } from "node:crypto"
import * as T from "./fixtures/challenge-tasks.ts"

const bytes = (s: string) => new TextEncoder().encode(s)
const text = (b: Uint8Array) => new TextDecoder().decode(b)
const concat = (...parts: Array<Uint8Array>) => Buffer.concat(parts)

/** An outcome as the tests compare it: "ok", or the error's tag and reason. */
const outcome = <E extends { readonly _tag: string; readonly reason: string }>(e: Effect.Effect<void, E>) =>
  Effect.match(e, { onSuccess: () => "ok", onFailure: (err) => `${err._tag} ${err.reason}` })

/** A connected, authenticated network pair (client end, accepted end). */
const netPair = Effect.gen(function*() {
  const listener = yield* Connection.listen({ authkey: "outer" })
  const [client, served] = yield* Effect.all([Connection.connect(listener.address, { authkey: "outer" }), Connection.accept(listener)], { concurrency: 2 })
  return [client, served] as const
})

/** Both halves at once, one on each end: [deliverer's outcome, answerer's outcome]. */
const round = <C extends Connection.Challengeable>(deliverer: C, answerer: C, keys: readonly [string | Uint8Array, string | Uint8Array]) =>
  Effect.all([outcome(Connection.deliverChallenge(deliverer, keys[0])), outcome(Connection.answerChallenge(answerer, keys[1]))], { concurrency: 2 })

const AUTH = "ConnectionError AuthenticationError"

describe("deliverChallenge / answerChallenge over a real pair", () => {
  it.live("network connection: the same key authenticates both ways, a wrong one fails on both ends, and the connection stays in step", () =>
    Effect.scoped(Effect.gen(function*() {
      const [a, b] = yield* netPair
      expect(yield* round(a, b, ["k", "k"])).toEqual(["ok", "ok"])
      expect(yield* round(b, a, [bytes("k"), "k"])).toEqual(["ok", "ok"])
      expect(yield* round(a, b, ["k", "wrong"])).toEqual([AUTH, AUTH])
      expect(yield* round(b, a, ["wrong", "k"])).toEqual([AUTH, AUTH])
      // Every handshake message was read by its half: the next message is the program's.
      yield* Connection.sendBytes(a, bytes("after"))
      expect(text(yield* Connection.recvBytes(b))).toBe("after")
      expect(yield* Connection.poll(a)).toBe(false)
    })))

  it.live("pipe end: the same in one process (duplex pipe)", () =>
    Effect.scoped(Effect.gen(function*() {
      const [a, b] = yield* Pipe.make()
      expect(yield* round(a, b, ["k", "k"])).toEqual(["ok", "ok"])
      expect(yield* round(b, a, ["k", "k"])).toEqual(["ok", "ok"])
      expect(yield* round(a, b, ["k", "wrong"])).toEqual([AUTH, AUTH])
      expect(yield* round(b, a, ["wrong", "k"])).toEqual([AUTH, AUTH])
      yield* Pipe.sendBytes(a, bytes("after"))
      expect(text(yield* Pipe.recvBytes(b))).toBe("after")
      expect(yield* Pipe.poll(a)).toBe(false)
    })))

  it.live.each(["thread", "process"] as const)("pipe end held by a %s child: mutual authentication as Client / Listener order it", (backend) =>
    Effect.scoped(Effect.gen(function*() {
      for (const [mine, theirs, expected] of [["k", "k", ["ok", "ok"]], ["k", "wrong", [AUTH, AUTH]]] as const) {
        const [a, b] = yield* Pipe.make()
        const p = yield* Process.make({ target: T.answerThenDeliver, args: [b, theirs], backend })
        yield* Process.start(p)
        const delivered = yield* outcome(Connection.deliverChallenge(a, mine))
        const answered = yield* outcome(Connection.answerChallenge(a, mine))
        expect([delivered, answered]).toEqual(expected)
        const reasons = expected[0] === "ok" ? ["ok", "ok"] : ["AuthenticationError", "AuthenticationError"]
        expect(yield* Process.result(p)).toEqual(reasons)
      }
    })))

  it.live("every digest Python 3.12 allows can be asked for; the answer is prefixed with it", () =>
    Effect.scoped(Effect.gen(function*() {
      const [a, b] = yield* Pipe.make()
      for (const digest of ["md5", "sha256", "sha384", "sha3_256", "sha3_384"] as const) {
        const [delivered, challenge] = yield* Effect.all([
          outcome(Connection.deliverChallenge(a, "k", digest)),
          Effect.gen(function*() {
            // The answering side by hand: the challenge, an answer, the verdict.
            const frame = yield* Pipe.recvBytes(b)
            const message = frame.subarray("#CHALLENGE#".length)
            const node = digest.replace("_", "-")
            yield* Pipe.sendBytes(b, concat(bytes(`{${digest}}`), createHmac(node, "k").update(message).digest()))
            expect(text(yield* Pipe.recvBytes(b))).toBe("#WELCOME#")
            return text(message.subarray(0, digest.length + 2))
          })
        ], { concurrency: 2 })
        expect([delivered, challenge]).toEqual(["ok", `{${digest}}`])
        // And answerChallenge answers each with its own digest.
        expect(yield* round(a, b, ["k", "k"])).toEqual(["ok", "ok"])
      }
    })))

  it.live("legacy peers (Python 3.11 and older): a raw HMAC-MD5 answer is accepted, a 20-byte challenge is answered with one", () =>
    Effect.scoped(Effect.gen(function*() {
      const [a, b] = yield* Pipe.make()
      const legacyAnswer = Effect.gen(function*() {
        const message = (yield* Pipe.recvBytes(b)).subarray("#CHALLENGE#".length)
        yield* Pipe.sendBytes(b, createHmac("md5", "k").update(message).digest())
        return text(yield* Pipe.recvBytes(b))
      })
      expect(yield* Effect.all([outcome(Connection.deliverChallenge(a, "k")), legacyAnswer], { concurrency: 2 })).toEqual(["ok", "#WELCOME#"])
      const legacyChallenge = Effect.gen(function*() {
        const message = Buffer.alloc(20, 7)
        yield* Pipe.sendBytes(b, concat(bytes("#CHALLENGE#"), message))
        const answer = yield* Pipe.recvBytes(b)
        const ok = Buffer.from(answer).equals(createHmac("md5", "k").update(message).digest())
        yield* Pipe.sendBytes(b, bytes(ok ? "#WELCOME#" : "#FAILURE#"))
        return ok
      })
      expect(yield* Effect.all([outcome(Connection.answerChallenge(a, "k")), legacyChallenge], { concurrency: 2 })).toEqual(["ok", true])
    })))

  it.live("a reply longer than a handshake message (256 bytes) is no answer: AuthenticationError, and the peer is told #FAILURE#", () =>
    Effect.scoped(Effect.gen(function*() {
      for (const [a, b] of [yield* Pipe.make(), yield* netPair] as const) {
        const recv = (c: typeof a) => Pipe.isConnection(c) ? Pipe.recvBytes(c) : Connection.recvBytes(c as Connection.Connection)
        const send = (c: typeof a, x: Uint8Array) => Pipe.isConnection(c) ? Pipe.sendBytes(c, x) : Connection.sendBytes(c as Connection.Connection, x)
        const [delivered, verdict] = yield* Effect.all([
          outcome(Connection.deliverChallenge(a, "k")),
          Effect.gen(function*() {
            yield* recv(b)
            yield* send(b, new Uint8Array(300))
            return text(yield* recv(b))
          })
        ], { concurrency: 2 })
        expect([delivered, verdict]).toEqual([AUTH, "#FAILURE#"])
        yield* send(b, new Uint8Array(257))
        expect(yield* outcome(Connection.answerChallenge(a, "k"))).toBe(AUTH)
      }
    })))

  it.live("bad arguments: BadArgument for a missing or non-bytes key, an unknown digest, or something that is no connection", () =>
    Effect.scoped(Effect.gen(function*() {
      const [a] = yield* Pipe.make()
      const bad = "ConnectionError BadArgument"
      expect(yield* outcome(Connection.deliverChallenge(a, undefined as any))).toBe(bad)
      expect(yield* outcome(Connection.answerChallenge(a, 42 as any))).toBe(bad)
      expect(yield* outcome(Connection.deliverChallenge(a, "k", "sha1" as any))).toBe(bad)
      expect(yield* outcome(Connection.deliverChallenge({} as any, "k"))).toBe(bad)
      expect(yield* outcome(Connection.answerChallenge(null as any, "k"))).toBe(bad)
      // Nothing was sent by the refused calls.
      expect(yield* Pipe.poll(a)).toBe(false)
    })))

  it.live("end of the connection: the connection's own error (EOF), not an authentication one", () =>
    Effect.scoped(Effect.gen(function*() {
      const [a, b] = yield* Pipe.make()
      yield* Pipe.close(b)
      expect(yield* outcome(Connection.answerChallenge(a, "k"))).toBe("PipeError EOF")
      const [c, d] = yield* netPair
      yield* Connection.close(d)
      expect(yield* outcome(Connection.answerChallenge(c, "k"))).toBe("ConnectionError EOF")
    })))
})

describe("deliverChallenge / answerChallenge (async/await)", () => {
  it("over facade pipe ends and Client / accept connections; a wrong key rejects with the AuthenticationError kind on both ends", async () => {
    const [a, b] = PP.Pipe()
    await Promise.all([PP.deliverChallenge(a, "k"), PP.answerChallenge(b, "k")])
    const settled = await Promise.allSettled([PP.deliverChallenge(b, "k"), PP.answerChallenge(a, "wrong")])
    for (const s of settled) {
      expect(s.status).toBe("rejected")
      const e = (s as PromiseRejectedResult).reason
      expect(e).toBeInstanceOf(PP.AuthenticationError)
      expect(e).toBeInstanceOf(PP.ConnectionError)
    }
    a.close()
    b.close()
    await using listener = await PP.Listener.listen({ authkey: "outer" })
    const [client, served] = await Promise.all([PP.Client(listener.address, { authkey: "outer" }), listener.accept()])
    try {
      await Promise.all([PP.answerChallenge(client, "inner"), PP.deliverChallenge(served, "inner", "sha384")])
      const wrong = await Promise.allSettled([PP.answerChallenge(client, "inner"), PP.deliverChallenge(served, "other")])
      expect(wrong.map((s) => s.status === "rejected" && s.reason instanceof PP.AuthenticationError)).toEqual([true, true])
    } finally {
      await client.close()
      await served.close()
    }
  })
})
