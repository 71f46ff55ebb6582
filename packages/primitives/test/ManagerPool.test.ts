import { describe, expect, it } from "@effect/vitest"
import { Lock, Manager, Pool, Queue, SharedValue } from "@multiproc/primitives"
import { Manager as PManager } from "@multiproc/primitives/promise"
import { Codec } from "@multiproc/runtime"
import { Effect } from "effect"
import * as T from "./fixtures/manager-pool-tasks.ts"

Codec.registerError(T.Odd)

describe("Manager Pool (a Pool owned by the manager's process)", () => {
  it.live("apply, map, starmap, applyAsync, mapAsync, a failing task, proxies as task arguments; drop ends it", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make()
      const pool = yield* Manager.pool(m, { processes: 2 })
      expect(pool).toBeInstanceOf(Manager.PoolProxy)
      expect(yield* pool.apply(T.square, [7])).toBe(49)
      expect(yield* pool.map(T.square, [1, 2, 3, 4])).toEqual([1, 4, 9, 16])
      expect(yield* pool.starmap(T.square, [[5], [6]])).toEqual([25, 36])
      const r = yield* pool.applyAsync(T.square, [9])
      expect(r).toBeInstanceOf(Manager.AsyncResultProxy)
      expect(yield* r.get("10 seconds")).toBe(81)
      expect(yield* r.ready()).toBe(true)
      expect(yield* r.successful()).toBe(true)
      const mr = yield* pool.mapAsync(T.square, [2, 3])
      expect(yield* mr.get()).toEqual([4, 9])
      const failed = yield* Effect.flip(pool.apply(T.evenOnly, [3]))
      expect([failed.reason, failed.remoteType, failed.message]).toEqual(["RemoteError", "Odd", "odd: 3"])
      const bad = yield* pool.applyAsync(T.evenOnly, [5])
      expect((yield* Effect.flip(bad.get())).remoteType).toBe("Odd")
      expect(yield* bad.successful()).toBe(false)
      // Proxies of the same manager as task arguments: main → manager → pool worker.
      const d = yield* Manager.dict<string, number>(m)
      const l = yield* Manager.list<string>(m)
      yield* pool.starmap(T.proxyWrite, [[d, l, "a", 1], [d, l, "b", 2]] as any)
      expect(yield* d.getvalue()).toEqual(new Map([["a", 1], ["b", 2]]))
      expect((yield* l.getvalue()).sort()).toEqual(["a", "b"])
      yield* pool.close()
      yield* pool.join()
      yield* pool.drop()
      expect((yield* Effect.flip(pool.apply(T.square, [1]))).reason).toBe("UnknownObject")
    })), 60_000)

  it("the async/await facade serves a Pool too", async () => {
    await using m = await PManager.start()
    const pool = await m.Pool({ processes: 1 })
    expect(await pool.apply(T.square, [3])).toBe(9)
    expect(await pool.map(T.square, [1, 2])).toEqual([1, 4])
    const r = await pool.applyAsync(T.square, [4])
    expect(await r.get()).toBe(16)
    // Python's positional manager.Pool(processes).
    const two = await m.Pool(2)
    expect(await two.map(T.square, [5, 6])).toEqual([25, 36])
  }, 60_000)
})

describe.each(["thread", "process"] as const)("handles as Pool task arguments (%s workers)", (backend) => {
  it.live("a Queue, a Lock with a Value, a Value's own lock, and manager proxies", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend })
      // Queue
      const q = yield* Queue.make<number>()
      yield* Pool.starmap(pool, T.putOn, [[q, 1], [q, 2], [q, 3]])
      const got = [yield* Queue.get(q), yield* Queue.get(q), yield* Queue.get(q)].sort()
      expect(got).toEqual([1, 2, 3])
      // A Lock guarding a Value (also the Value made with that Lock as its lock)
      const n = backend === "thread" ? 100 : 25
      const lock = yield* Lock.make()
      const v = yield* SharedValue.value("i", 0, { lock })
      const shared = yield* Pool.starmap(pool, T.addUnderLock, [[lock, v, n], [lock, v, n], [lock, v, n]])
      expect(shared).toEqual([backend === "thread", backend === "thread", backend === "thread"])
      expect(v.value).toBe(3 * n)
      // A Value with its default (shared-memory) lock
      const w = yield* SharedValue.value("i", 0)
      yield* Pool.starmap(pool, T.addUnderOwnLock, [[w, n], [w, n]])
      expect(w.value).toBe(2 * n)
      // Manager proxies
      const m = yield* Manager.make()
      const d = yield* Manager.dict<string, number>(m)
      const l = yield* Manager.list<string>(m)
      yield* Pool.starmap(pool, T.proxyWrite, [[d, l, "x", 1], [d, l, "y", 2], [d, l, "z", 3]])
      expect(yield* d.len()).toBe(3)
      expect((yield* l.getvalue()).sort()).toEqual(["x", "y", "z"])
    })), 60_000)
})
