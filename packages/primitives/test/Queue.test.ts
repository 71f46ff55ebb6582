import { describe, expect, it } from "@effect/vitest"
import { Event, Lock, Pipe, Pool, Process, Queue, Semaphore } from "@multiproc/primitives"
import * as PQ from "@multiproc/primitives/promise"
import { Effect, Exit, Fiber, Schema, Scope, Stream } from "effect"
import * as fc from "fast-check"
import * as T from "./fixtures/queue-tasks.ts"

const backends = ["thread", "process"] as const

const elapsed = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const t0 = Date.now()
    const exit = yield* Effect.exit(effect)
    return [exit, Date.now() - t0] as const
  })

describe("Queue (in one process)", () => {
  it.live("a bounded put fails with Full at once when non-blocking, after about the timeout when blocking", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<number>({ maxsize: 2 })
      yield* Queue.put(q, 1)
      yield* Queue.put(q, 2)
      expect(yield* Queue.full(q)).toBe(true)
      const [now, t1] = yield* elapsed(Effect.flip(Queue.putNowait(q, 3)))
      expect(now._tag === "Success" && now.value._tag === "QueueError" && now.value.reason).toBe("Full")
      expect(t1).toBeLessThan(100)
      const [later, t2] = yield* elapsed(Effect.flip(Queue.put(q, 3, { timeout: 200 })))
      expect(later._tag === "Success" && (later.value as Queue.QueueError).reason).toBe("Full")
      expect(t2).toBeGreaterThanOrEqual(180)
      expect(t2).toBeLessThan(2_000)
      // A blocked put completes when a get makes room, in order.
      const fiber = yield* Effect.forkChild(Queue.put(q, 3))
      yield* Effect.sleep(20)
      expect(yield* Queue.get(q)).toBe(1)
      yield* Fiber.join(fiber)
      expect([yield* Queue.get(q), yield* Queue.get(q)]).toEqual([2, 3])
    })))

  it.live("get fails with Empty at once when non-blocking, after about the timeout when blocking", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<number>()
      const [now, t1] = yield* elapsed(Effect.flip(Queue.getNowait(q)))
      expect(now._tag === "Success" && (now.value as Queue.QueueError).reason).toBe("Empty")
      expect(t1).toBeLessThan(100)
      const [later, t2] = yield* elapsed(Effect.flip(Queue.get(q, { timeout: "200 millis" })))
      expect(later._tag === "Success" && (later.value as Queue.QueueError).reason).toBe("Empty")
      expect(t2).toBeGreaterThanOrEqual(180)
      expect(t2).toBeLessThan(2_000)
      const [blockFalse] = yield* elapsed(Effect.flip(Queue.get(q, { block: false, timeout: 5_000 })))
      expect(blockFalse._tag === "Success" && (blockFalse.value as Queue.QueueError).reason).toBe("Empty")
    })))

  it.live("qsize, empty and full are exact across puts and gets", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<number>({ maxsize: 5 })
      expect(yield* Queue.empty(q)).toBe(true)
      for (let i = 0; i < 5; i++) {
        yield* Queue.put(q, i)
        expect(yield* Queue.qsize(q)).toBe(i + 1)
      }
      expect(yield* Queue.full(q)).toBe(true)
      yield* Queue.get(q)
      expect(yield* Queue.qsize(q)).toBe(4)
      expect(yield* Queue.full(q)).toBe(false)
      expect(yield* Queue.empty(q)).toBe(false)
    })))

  it.live("put and get after close fail with an error that says the queue is closed", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<number>()
      yield* Queue.put(q, 1)
      const bad = yield* Effect.flip(Queue.joinThread(q))
      expect(bad.reason).toBe("NotClosed")
      yield* Queue.close(q)
      const p = yield* Effect.flip(Queue.put(q, 2))
      const g = yield* Effect.flip(Queue.get(q))
      expect(p._tag === "QueueError" && p.reason).toBe("Closed")
      expect(p.message).toMatch(/closed/i)
      expect(g._tag === "QueueError" && g.reason).toBe("Closed")
      yield* Queue.joinThread(q)
    })))

  it.live("an unserialisable put fails that put and the next put still arrives", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<unknown>()
      const e = yield* Effect.flip(Queue.put(q, { f: () => 1 }))
      expect(e._tag).toBe("SerializationError")
      yield* Queue.put(q, "next")
      expect(yield* Queue.get(q)).toBe("next")
      expect(yield* Queue.qsize(q)).toBe(0)
    })))

  it.live("items are snapshots taken at put", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<{ n: number }>()
      const item = { n: 1 }
      yield* Queue.put(q, item)
      item.n = 2
      expect(yield* Queue.get(q)).toEqual({ n: 1 })
    })))

  it.live("JoinableQueue: taskDone too many times fails, join returns when all done", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.makeJoinable<number>()
      expect((yield* Effect.flip(Queue.taskDone(q))).reason).toBe("TooManyTaskDone")
      yield* Queue.put(q, 1)
      yield* Queue.put(q, 2)
      const joined = yield* Effect.forkChild(Queue.join(q))
      yield* Queue.get(q)
      yield* Queue.taskDone(q)
      yield* Effect.sleep(20)
      expect(joined.pollUnsafe()).toBeUndefined()
      yield* Queue.get(q)
      yield* Queue.taskDone(q)
      yield* Fiber.join(joined)
    })))

  it.live("a Schema: an item that does not match fails its get with InvalidItem and the queue goes on", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make({ schema: Schema.Struct({ id: Schema.Number }) })
      yield* Queue.put(q, { id: 1 })
      yield* Queue.put(q, { id: "two" } as any)
      yield* Queue.put(q, { id: 3 })
      expect(yield* Queue.get(q)).toEqual({ id: 1 })
      const bad = yield* Effect.flip(Queue.get(q))
      expect(bad._tag === "QueueError" && bad.reason).toBe("InvalidItem")
      expect(yield* Queue.get(q)).toEqual({ id: 3 })
    })))

  it.live("read as a Stream and as an async iterable, ending at the sentinel", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<number | null>()
      for (const x of [1, 2, 3, null, 4, 5, null]) yield* Queue.put(q, x)
      const a = yield* Stream.runCollect(Queue.stream(q, { sentinel: null }))
      expect(Array.from(a)).toEqual([1, 2, 3])
      const b = yield* Effect.promise(async () => {
        const out: Array<number | null> = []
        for await (const x of Queue.toAsyncIterable(q, { sentinel: null })) out.push(x)
        return out
      })
      expect(b).toEqual([4, 5])
    })))

  it.live("putMany / getMany: order kept, at most max, the first item awaited, unserialisable items put nothing", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<unknown>()
      const [empty, t1] = yield* elapsed(Effect.flip(Queue.getMany(q, 10, { timeout: 150 })))
      expect(empty._tag === "Success" && (empty.value as Queue.QueueError).reason).toBe("Empty")
      expect(t1).toBeGreaterThanOrEqual(130)
      expect((yield* Effect.flip(Queue.getMany(q, 10, { block: false }))).reason).toBe("Empty")
      yield* Queue.putMany(q, [1, 2, 3, 4, 5])
      expect(yield* Queue.getMany(q, 2)).toEqual([1, 2])
      expect(yield* Queue.qsize(q)).toBe(3)
      expect(yield* Queue.getMany(q, 100)).toEqual([3, 4, 5])
      const bad = yield* Effect.flip(Queue.putMany(q, ["a", { f: () => 1 }, "b"]))
      expect(bad._tag).toBe("SerializationError")
      expect(yield* Queue.qsize(q)).toBe(0)
      // A waiting getMany takes the first item that arrives and whatever else is there then.
      const waiting = yield* Effect.forkChild(Queue.getMany(q, 3))
      yield* Effect.sleep(20)
      yield* Queue.putMany(q, ["p", "q", "r", "s"])
      expect(yield* Fiber.join(waiting)).toEqual(["p"])
      expect(yield* Queue.getMany(q, 3)).toEqual(["q", "r", "s"])
      // Snapshots, as put.
      const item = { n: 1 }
      yield* Queue.putMany(q, [item])
      item.n = 2
      expect(yield* Queue.getMany(q, 5)).toEqual([{ n: 1 }])
    })))

  it.live("putMany into a bounded queue: Full when non-blocking leaves the earlier items; blocking waits for room", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<number>({ maxsize: 3 })
      const full = yield* Effect.flip(Queue.putMany(q, [1, 2, 3, 4, 5], { block: false }))
      expect(full._tag === "QueueError" && full.reason).toBe("Full")
      expect(yield* Queue.qsize(q)).toBe(3)
      const putter = yield* Effect.forkChild(Queue.putMany(q, [4, 5]))
      yield* Effect.sleep(20)
      expect(yield* Queue.getMany(q, 10)).toEqual([1, 2, 3])
      yield* Fiber.join(putter)
      expect(yield* Queue.getMany(q, 10)).toEqual([4, 5])
    })))

  it.live("getMany with a Schema: an invalid item ends the batch, and fails the call when it comes first", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.makeJoinable({ schema: Schema.Struct({ id: Schema.Number }) })
      yield* Queue.putMany(q, [{ id: 1 }, { id: 2 }, { id: "x" } as any, { id: 4 }])
      expect(yield* Queue.getMany(q, 10)).toEqual([{ id: 1 }, { id: 2 }])
      const bad = yield* Effect.flip(Queue.getMany(q, 10))
      expect(bad._tag === "QueueError" && bad.reason).toBe("InvalidItem")
      expect(yield* Queue.getMany(q, 10)).toEqual([{ id: 4 }])
      // The dropped item counts as done; three taskDone calls finish the rest.
      for (let i = 0; i < 3; i++) yield* Queue.taskDone(q)
      yield* Queue.join(q)
    })))

  it.live("SimpleQueue and the promise facade", () =>
    Effect.promise(async () => {
      const s = new PQ.SimpleQueue<string>()
      expect(await s.empty()).toBe(true)
      await s.put("a")
      expect(await s.empty()).toBe(false)
      expect(await s.get()).toBe("a")
      s.close()
      await expect(s.get()).rejects.toMatchObject({ reason: "Closed" })
      const q = new PQ.Queue<number>({ maxsize: 1 })
      await q.put(1)
      await expect(q.putNowait(2)).rejects.toMatchObject({ _tag: "QueueError", reason: "Full" })
      expect(await q.qsize()).toBe(1)
      const m = new PQ.Queue<unknown>()
      await m.putMany(["a", "b", "c"])
      expect(await m.getMany(2)).toEqual(["a", "b"])
      expect(await m.get()).toBe("c")
      await expect(m.put({ f: () => 1 })).rejects.toMatchObject({ _tag: "SerializationError" })
      await expect(m.getNowait()).rejects.toMatchObject({ reason: "Empty" })
      const later = m.getMany(5)
      await m.put("late")
      expect(await later).toEqual(["late"])
    }))
})

describe.each(backends)("Queue across processes (%s backend)", (backend) => {
  it.live("parent and child both producing: everything received, each producer in order; qsize seen by the child", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<number>()
      const p = yield* Process.make({ target: T.putRange, args: [q, 1_000, 2_000], backend })
      yield* Process.start(p)
      for (let i = 0; i < 500; i++) yield* Queue.put(q, i)
      const got: Array<number> = []
      for (let i = 0; i < 2_500; i++) got.push(yield* Queue.get(q, { timeout: "20 seconds" }))
      expect(got.filter((x) => x < 1_000)).toEqual(Array.from({ length: 500 }, (_, i) => i))
      expect(got.filter((x) => x >= 1_000)).toEqual(Array.from({ length: 2_000 }, (_, i) => 1_000 + i))
      expect(yield* Process.result(p)).toBe(2_000)
      expect(yield* Queue.qsize(q)).toBe(0)
      const sizer = yield* Process.make({ target: T.putThenSize, args: [q, 7], backend })
      yield* Process.start(sizer)
      expect(yield* Process.result(sizer)).toBe(7)
      expect(yield* Queue.qsize(q)).toBe(7)
    })))

  // A signal through shared memory (a thread-backend child's pipe, lock or semaphore) can still
  // overtake the puts, which travel as messages; one through the process tree's links cannot.
  it.live.each(backend === "thread" ? ["event"] as const : ["event", "pipe", "semaphore", "lock"] as const)(
    "a child's puts are in the queue before its next signal (%s) reaches the parent (CPython's test_get sleeps instead)",
    (how) =>
      Effect.scoped(Effect.gen(function*() {
        const q = yield* Queue.make<number>()
        const [r, w] = yield* Pipe.make({ duplex: false })
        const s: T.Signals = {
          event: yield* Event.make(),
          pipe: w,
          sem: yield* Semaphore.make(0),
          lock: yield* Lock.make(),
          lockHeld: yield* Event.make(),
          done: yield* Event.make()
        }
        const p = yield* Process.make({ target: T.putsThenSignal, args: [q, how, s], backend })
        yield* Process.start(p)
        if (how === "event") yield* Event.wait(s.event)
        if (how === "pipe") yield* Pipe.recv(r)
        if (how === "semaphore") yield* Semaphore.acquire(s.sem)
        if (how === "lock") {
          yield* Event.wait(s.lockHeld)
          yield* Lock.acquire(s.lock)
        }
        expect(yield* Queue.qsize(q)).toBe(2)
        expect(yield* Queue.getMany(q, 5, { block: false })).toEqual([1, 2])
        yield* Event.set(s.done)
        yield* Process.join(p)
      }))
  )

  it.live("putting into a queue whose owner is gone fails with Unavailable (the item is not silently lost)", () =>
    Effect.scoped(Effect.gen(function*() {
      const p = yield* Process.make({ target: T.madeAndGone, backend })
      yield* Process.start(p)
      const q = yield* Process.result(p)
      yield* Process.join(p)
      expect((yield* Effect.flip(Queue.put(q, 2))).reason).toBe("Unavailable")
      expect((yield* Effect.flip(Queue.put(q, 3))).reason).toBe("Unavailable")
      expect((yield* Effect.flip(Queue.get(q, { timeout: 1000 }))).reason).toBe("Unavailable")
    })))

  it.live("a child's puts into a queue its owner has shut down fail with Unavailable (not lost), also after earlier puts", () =>
    Effect.scoped(Effect.gen(function*() {
      const go = yield* Queue.make<string>()
      const scope = yield* Scope.make()
      const q = yield* Scope.provide(scope)(Queue.make<number>())
      const p = yield* Process.make({ target: T.putWaitPut, args: [q, go], backend })
      yield* Process.start(p)
      expect(yield* Queue.get(q)).toBe(1)
      yield* Scope.close(scope, Exit.void)
      yield* Queue.put(go, "go")
      expect(yield* Process.result(p)).toBe("Unavailable")
    })))

  it.live("a child consumes what the parent puts; bounded put from a child gets Full; unserialisable put in a child", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<unknown>({ maxsize: 3 })
      const c = yield* Process.make({ target: T.getN, args: [q, 5], backend })
      yield* Process.start(c)
      for (const x of ["a", { b: [1, 2] }, new Map([[1, 2]]), -0, 5n]) yield* Queue.put(q, x)
      const got = (yield* Process.result(c)) as Array<unknown>
      expect(got.slice(0, 2)).toEqual(["a", { b: [1, 2] }])
      expect(got[2]).toEqual(new Map([[1, 2]]))
      expect(Object.is(got[3], -0)).toBe(true)
      expect(got[4]).toBe(5n)
      const bad = yield* Process.make({ target: T.putBadThenGood, args: [q], backend })
      yield* Process.start(bad)
      expect(yield* Process.result(bad)).toBe("SerializationError")
      expect(yield* Queue.get(q)).toBe("after")
    })))

  it.live("JoinableQueue.join returns once 4 consumer processes called taskDone for every item", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.makeJoinable<number | null>()
      const workers = yield* Effect.forEach([0, 1, 2, 3], () => Process.make({ target: T.joinableWorker, args: [q, 2], backend }))
      for (const w of workers) yield* Process.start(w)
      for (let i = 0; i < 40; i++) yield* Queue.put(q, i)
      yield* Queue.join(q)
      expect(yield* Queue.qsize(q)).toBe(0)
      for (let i = 0; i < 4; i++) yield* Queue.put(q, null)
      yield* Queue.join(q)
      const counts = yield* Effect.forEach(workers, (w) => Process.result(w))
      expect(counts.reduce((a, b) => a + b, 0)).toBe(40)
    })), 60_000)

  it.live("putMany from a child, getMany in the parent and in a child: all items, in order, batches at most max", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<number>()
      const p = yield* Process.make({ target: T.putManyRange, args: [q, 0, 5_000, 700], backend })
      yield* Process.start(p)
      const got: Array<number> = []
      while (got.length < 5_000) {
        const batch = yield* Queue.getMany(q, 512, { timeout: "20 seconds" })
        expect(batch.length).toBeLessThanOrEqual(512)
        got.push(...batch)
      }
      expect(got).toEqual(Array.from({ length: 5_000 }, (_, i) => i))
      expect(yield* Process.result(p)).toBe(5_000)
      const c = yield* Process.make({ target: T.getManyN, args: [q, 3_000, 256], backend })
      yield* Process.start(c)
      yield* Queue.putMany(q, Array.from({ length: 3_000 }, (_, i) => i))
      const r = (yield* Process.result(c)) as { out: Array<number>; largest: number }
      expect(r.out).toEqual(Array.from({ length: 3_000 }, (_, i) => i))
      expect(r.largest).toBeGreaterThan(1)
      expect(yield* Queue.qsize(q)).toBe(0)
      const bad = yield* Process.make({ target: T.putManyBadThenGood, args: [q], backend })
      yield* Process.start(bad)
      expect(yield* Process.result(bad)).toBe("SerializationError")
      expect(yield* Queue.getMany(q, 10, { timeout: 5_000 })).toEqual(["after1", "after2"])
    })))

  it.live("a consumer killed while waiting in getMany loses nothing", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<unknown>()
      const c = yield* Process.make({ target: T.waitForeverMany, args: [q], backend })
      yield* Process.start(c)
      yield* Effect.sleep(300)
      yield* Process.kill(c)
      yield* Process.join(c)
      yield* Queue.putMany(q, ["s1", "s2"])
      expect(yield* Queue.getMany(q, 10, { timeout: 5_000 })).toEqual(["s1", "s2"])
    })))

  it.live("a consumer killed while waiting loses nothing", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<unknown>()
      const c = yield* Process.make({ target: T.waitForever, args: [q], backend })
      yield* Process.start(c)
      yield* Effect.sleep(300)
      yield* Process.kill(c)
      yield* Process.join(c)
      yield* Queue.put(q, "survives")
      expect(yield* Queue.get(q, { timeout: 5_000 })).toBe("survives")
    })))

  it.live("a blocked get in a worker leaves its event loop free", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<string>()
      const started = yield* Queue.make<string>()
      const c = yield* Process.make({ target: T.blockedGetWithTimer, args: [q, started], backend })
      yield* Process.start(c)
      yield* Queue.get(started)
      yield* Effect.sleep(400)
      yield* Queue.put(q, "go")
      const r = yield* Process.result(c)
      expect(r.item).toBe("go")
      expect(r.ticks).toBeGreaterThan(5)
    })))

  it.live("a child that put 10 MB can be joined before the parent reads it (Python deadlocks)", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<Uint8Array>()
      const p = yield* Process.make({ target: T.putBig, args: [q, 10 << 20], backend })
      yield* Process.start(p)
      expect(yield* Process.join(p, "20 seconds")).toBe(0)
      const item = yield* Queue.get(q, { timeout: 5_000 })
      expect(item.length).toBe(10 << 20)
      expect(item[12345]).toBe(7)
    })))

  it.live("queues as arguments of Pool tasks: a task puts, another gets, the parent sees both", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<number>()
      const back = yield* Queue.make<unknown>()
      const pool = yield* Pool.make({ processes: 2, backend })
      const put = yield* Effect.forkChild(Pool.apply(pool, T.putManyRange, [q, 0, 2_000, 300]))
      const got: Array<number> = []
      while (got.length < 2_000) got.push(...(yield* Queue.getMany(q, 500, { timeout: "20 seconds" })))
      expect(got).toEqual(Array.from({ length: 2_000 }, (_, i) => i))
      expect(yield* Fiber.join(put)).toBe(2_000)
      yield* Queue.putMany(back, ["x", "y", "z"])
      expect(yield* Pool.apply(pool, T.getN, [back, 3])).toEqual(["x", "y", "z"])
      expect(yield* Queue.qsize(back)).toBe(0)
    })))

  it.live("facade queues passed to a process arrive as facade queues", () =>
    Effect.promise(async () => {
      const inbox = new PQ.Queue<string>()
      const outbox = new PQ.SimpleQueue<unknown>()
      const proc = new PQ.Process({ target: T.facadeEcho, args: [inbox, outbox], backend })
      await proc.start()
      await inbox.put("ping")
      expect(await outbox.get()).toEqual({ echoed: "ping" })
      expect(await proc.result()).toBe(true)
      await proc.join()
    }))
})

describe("Queue property: N producers x M consumers across real processes", () => {
  it.live("the multiset received equals the multiset sent and each producer's items arrive in order", () =>
    Effect.promise(() =>
      fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 1, max: 3 }),
          fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 3, maxLength: 3 }),
          fc.constantFrom("thread" as const, "process" as const),
          fc.integer({ min: 0, max: 50 }),
          (producers, consumers, counts, backend, yieldEvery) =>
            Effect.runPromise(Effect.scoped(Effect.gen(function*() {
              const q = yield* Queue.make<[number, number] | null>()
              const cs = yield* Effect.forEach(Array.from({ length: consumers }), () =>
                Process.make({ target: T.consumeTagged, args: [q], backend }))
              const ps = yield* Effect.forEach(Array.from({ length: producers }), (_, i) =>
                Process.make({ target: T.produceTagged, args: [q as Queue.Queue<[number, number]>, i, counts[i]!, yieldEvery], backend }))
              for (const c of cs) yield* Process.start(c)
              for (const p of ps) yield* Process.start(p)
              for (const p of ps) yield* Process.result(p)
              for (let i = 0; i < consumers; i++) yield* Queue.put(q, null)
              const received = yield* Effect.forEach(cs, (c) => Process.result(c))
              const all = received.flat()
              const expected = Array.from({ length: producers }, (_, p) => Array.from({ length: counts[p]! }, (_, i) => [p, i])).flat()
              const key = (x: ReadonlyArray<number>) => `${x[0]}:${x[1]}`
              expect(all.map(key).sort()).toEqual(expected.map(key).sort())
              for (const got of received) {
                for (let p = 0; p < producers; p++) {
                  const seq = got.filter((x) => x[0] === p).map((x) => x[1])
                  expect(seq).toEqual([...seq].sort((a, b) => a - b))
                }
              }
            })))
        ),
        { numRuns: 5 }
      )
    ), 120_000)
})
