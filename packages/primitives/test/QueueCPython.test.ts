// CPython's Lib/test/_test_multiprocessing.py, the queue tests (_TestQueue, TestSimpleQueue) that
// Queue.test.ts does not cover yet, ported to both APIs and, where a child is involved, both backends.
import { describe, expect, it } from "@effect/vitest"
import { Event, Process, Queue } from "@multiproc/primitives"
import * as F from "@multiproc/primitives/promise"
import { Effect } from "effect"
import * as C from "./fixtures/cpython-sync-tasks.ts"
import * as T from "./fixtures/queue-tasks.ts"

const backends = ["thread", "process"] as const

/** The failure's reason and how long the call took, in milliseconds. */
const failsWith = <A, E extends { readonly reason?: string }>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const t0 = Date.now()
    const e = yield* Effect.flip(effect)
    return [e.reason, Date.now() - t0] as const
  })

describe.each(backends)("_TestQueue (%s backend)", (backend) => {
  it.live("test_put: every put form fills the queue; Full at once when not blocking (timeout or not), after the timeout when blocking", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<number>({ maxsize: 6 })
      const [childCanStart, parentCanContinue] = [yield* Event.make(), yield* Event.make()]
      const p = yield* Process.make({ target: C.getAfter, args: [q, 6, childCanStart, parentCanContinue], backend, daemon: true })
      yield* Process.start(p)
      expect([yield* Queue.empty(q), yield* Queue.full(q)]).toEqual([true, false])
      yield* Queue.put(q, 1)
      yield* Queue.put(q, 2, { block: true })
      yield* Queue.put(q, 3, { block: true, timeout: null as any })
      yield* Queue.put(q, 4, { block: false })
      yield* Queue.put(q, 5, { block: false, timeout: null as any })
      yield* Queue.putNowait(q, 6)
      expect([yield* Queue.empty(q), yield* Queue.full(q)]).toEqual([false, true])
      for (const put of [Queue.put(q, 7, { block: false }), Queue.put(q, 7, { block: false, timeout: null as any }), Queue.putNowait(q, 7), Queue.put(q, 7, { block: false, timeout: 100 })]) {
        const [reason, took] = yield* failsWith(put)
        expect(reason).toBe("Full")
        expect(took).toBeLessThan(60)
      }
      for (const put of [Queue.put(q, 7, { block: true, timeout: 100 }), Queue.put(q, 7, { timeout: 100 })]) {
        const [reason, took] = yield* failsWith(put)
        expect(reason).toBe("Full")
        expect(took).toBeGreaterThanOrEqual(90)
      }
      yield* Event.set(childCanStart)
      yield* Event.wait(parentCanContinue)
      expect([yield* Queue.empty(q), yield* Queue.full(q)]).toEqual([true, false])
      yield* Process.join(p)
    })))

  it.live("test_get: every get form takes what the child put; Empty at once when not blocking, after the timeout when blocking", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<number>()
      const [childCanStart, parentCanContinue] = [yield* Event.make(), yield* Event.make()]
      const p = yield* Process.make({ target: C.putAfter, args: [q, [2, 3, 4, 5], childCanStart, parentCanContinue], backend, daemon: true })
      yield* Process.start(p)
      expect(yield* Queue.empty(q)).toBe(true)
      yield* Event.set(childCanStart)
      yield* Event.wait(parentCanContinue)
      expect(yield* Queue.empty(q)).toBe(false)
      expect(yield* Queue.get(q, { block: true, timeout: null as any })).toBe(2)
      expect(yield* Queue.get(q, { block: true })).toBe(3)
      expect(yield* Queue.get(q, { timeout: 1_000 })).toBe(4)
      expect(yield* Queue.getNowait(q)).toBe(5)
      expect(yield* Queue.empty(q)).toBe(true)
      for (const get of [Queue.get(q, { block: false }), Queue.get(q, { block: false, timeout: null as any }), Queue.getNowait(q), Queue.get(q, { block: false, timeout: 100 })]) {
        const [reason, took] = yield* failsWith(get)
        expect(reason).toBe("Empty")
        expect(took).toBeLessThan(60)
      }
      for (const get of [Queue.get(q, { block: true, timeout: 100 }), Queue.get(q, { timeout: 100 })]) {
        const [reason, took] = yield* failsWith(get)
        expect(reason).toBe("Empty")
        expect(took).toBeGreaterThanOrEqual(90)
      }
      yield* Process.join(p)
    })))

  it.live("test_fork: items put before a child starts come first, then the child's, all of them, then Empty", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<number>()
      for (let i = 0; i < 10; i++) yield* Queue.put(q, i)
      const p = yield* Process.make({ target: T.putRange, args: [q, 10, 10], backend, daemon: true })
      yield* Process.start(p)
      const got: Array<number> = []
      for (let i = 0; i < 20; i++) got.push(yield* Queue.get(q, { timeout: 20_000 }))
      expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i))
      expect((yield* Effect.flip(Queue.get(q, { block: false }))).reason).toBe("Empty")
      yield* Process.join(p)
    })))
})

describe("_TestQueue (one process)", () => {
  it.live("test_queue_feeder_donot_stop_onexc: a put that cannot be serialised takes no room in a bounded queue", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<unknown>({ maxsize: 1 })
      expect((yield* Effect.flip(Queue.put(q, { f: () => 1 })))._tag).toBe("SerializationError")
      yield* Queue.put(q, true, { block: false })
      expect(yield* Queue.qsize(q)).toBe(1)
      expect(yield* Queue.get(q, { timeout: 1_000 })).toBe(true)
      expect(yield* Queue.empty(q)).toBe(true)
      const f = new F.Queue<unknown>(1)
      yield* Effect.promise(async () => {
        await expect(f.put({ f: () => 1 })).rejects.toMatchObject({ _tag: "SerializationError" })
        await f.put(true, { block: false })
        expect(await f.qsize()).toBe(1)
        expect(await f.get()).toBe(true)
      })
    })))

  it("test_closed_queue_put_get_exceptions: put and get on a closed Queue or JoinableQueue fail with Closed ('is closed')", async () => {
    for (const q of [new F.Queue<string>(), new F.JoinableQueue<string>()]) {
      q.close()
      await expect(q.put("foo")).rejects.toMatchObject({ reason: "Closed", message: expect.stringMatching(/is closed/) })
      await expect(q.get()).rejects.toMatchObject({ reason: "Closed", message: expect.stringMatching(/is closed/) })
      // join_thread() after close() returns (a no-op for an unused queue in Python)
      await q.joinThread()
    }
  })
})

describe("TestSimpleQueue", () => {
  it.each(backends)("test_empty: a child's empty() sees the items it put (%s backend)", async (backend) => {
    const q = new F.SimpleQueue<boolean>()
    const [childCanStart, parentCanContinue] = [new F.Event(), new F.Event()]
    const p = new F.Process({ target: C.simpleQueueEmpty, args: [q.queue, childCanStart.handle, parentCanContinue.handle], backend, daemon: true })
    await p.start()
    expect(await q.empty()).toBe(true)
    await childCanStart.set()
    await parentCanContinue.wait()
    expect(await q.empty()).toBe(false)
    expect(await q.get()).toBe(true)
    expect(await q.get()).toBe(false)
    expect(await q.empty()).toBe(true)
    await p.join()
    expect(p.exitCode).toBe(0)
  })

  it.live("test_close / test_empty_exceptions: closing twice is fine; empty() on a closed SimpleQueue fails with Closed", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.makeSimple<number>()
      yield* Queue.close(q)
      yield* Queue.close(q)
      expect((yield* Effect.flip(Queue.empty(q))).reason).toBe("Closed")
      const f = new F.SimpleQueue<number>()
      f.close()
      f.close()
      yield* Effect.promise(() => expect(f.empty()).rejects.toMatchObject({ reason: "Closed", message: expect.stringMatching(/is closed/) }))
    })))
})
