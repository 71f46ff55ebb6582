import { describe, expect, it } from "@effect/vitest"
import { Actor, Child } from "@multiproc/runtime"
import { Effect } from "effect"
import * as A from "./fixtures/actor-tasks.ts"

const N = 2000
const range = Array.from({ length: N }, (_, i) => i)

describe("direct links between sibling workers", () => {
  it.live("two thread workers switch to a direct channel mid-stream and keep FIFO order", () =>
    Effect.scoped(Effect.gen(function*() {
      const host = yield* Child.spawn({ backend: "thread" })
      const client = yield* Child.spawn({ backend: "thread" })
      const ref = yield* host.call(A.serveRecorder, [])
      const clientPeers = yield* client.call(A.pushMany, [ref, N])
      // Both ends use the link (the host, the smaller address, offered it).
      expect(clientPeers).toEqual([host.address])
      expect(yield* host.call(A.directPeers, [])).toEqual([client.address])
      expect(yield* Actor.ask(ref, { op: "log" })).toEqual(range)
      expect(yield* client.call(A.pushMany, [ref, N])).toEqual([host.address])
      expect(yield* Actor.ask(ref, { op: "log" })).toEqual([...range, ...range])
    })))

  it.live("what a peer answered just before it died arrives before the news of its death", () =>
    Effect.scoped(Effect.gen(function*() {
      const host = yield* Child.spawn({ backend: "thread" })
      const client = yield* Child.spawn({ backend: "thread" })
      const ref = yield* host.call(A.serveRecorder, [])
      expect(yield* client.call(A.pushMany, [ref, 200])).toEqual([host.address])
      expect(yield* client.call(A.lastWords, [ref])).toBe("last words")
      expect(yield* host.exited).toBe(3)
    })))

  it.live.each([["process", "process"], ["thread", "process"], ["process", "thread"]] as const)(
    "host on %s, client on %s: no channel can cross an OS process, the tree carries everything in order",
    ([hostBackend, clientBackend]) =>
      Effect.scoped(Effect.gen(function*() {
        const host = yield* Child.spawn({ backend: hostBackend })
        const client = yield* Child.spawn({ backend: clientBackend })
        const ref = yield* host.call(A.serveRecorder, [])
        expect(yield* client.call(A.pushMany, [ref, N])).toEqual([])
        expect(yield* host.call(A.directPeers, [])).toEqual([])
        expect(yield* Actor.ask(ref, { op: "log" })).toEqual(range)
      }))
  )
})

describe("Actor.flush", () => {
  it("takes the ref of any actor (type-level: an ActorRef<number> is accepted)", () => {
    // ActorRef is contravariant in its message: flush took only an ActorRef<unknown> before.
    const flushNumbers: (ref: Actor.ActorRef<number>) => void = Actor.flush
    expect(typeof flushNumbers).toBe("function")
  })

  it.live("writes what was sent at once, not at the end of the sender's tick", () =>
    Effect.scoped(Effect.gen(function*() {
      const child = yield* Child.spawn({ backend: "thread" })
      const flag = new SharedArrayBuffer(4)
      const word = new Int32Array(flag)
      const ref = yield* child.call(A.serveFlagger, [flag])
      // This thread blocks after sending: a message can only arrive if it was written already.
      // The first message of a tick is written at once; the next ones wait for the end of the
      // tick, unless flushed.
      const [first, unflushed, flushed] = yield* Effect.sync(() => {
        Effect.runSync(Actor.tell(ref, 1))
        const first = Atomics.wait(word, 0, 0, 5000)
        const seen = Atomics.load(word, 0)
        Effect.runSync(Actor.tell(ref, 2))
        const before = Atomics.wait(word, 0, seen, 300)
        Actor.flush(ref)
        const after = Atomics.wait(word, 0, seen, 5000)
        return [first, before, after]
      })
      // "not-equal": it arrived before this thread even started waiting.
      expect(["ok", "not-equal"]).toContain(first)
      expect(unflushed).toBe("timed-out")
      expect(["ok", "not-equal"]).toContain(flushed)
      expect(Atomics.load(word, 0)).toBe(2)
    })))
})
