// Every synchronisation primitive handed to Pool tasks as an argument (Python refuses this with
// "should only be shared between processes through inheritance"; manager proxies aside).
import { describe, expect, it } from "@effect/vitest"
import { Barrier, Event, Lock, Pool, Semaphore } from "@multiproc/primitives"
import { Effect } from "effect"
import * as S from "./fixtures/sync-tasks.ts"

describe.each(["thread", "process"] as const)("synchronisation primitives as Pool task arguments (%s workers)", (backend) => {
  it.live("Lock, Semaphore, Event and Barrier cross to pool workers and work there", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend })
      // A lock held here: a worker's non-blocking acquire fails; released, it succeeds.
      const lock = yield* Lock.make()
      yield* Lock.acquire(lock)
      expect(yield* Pool.apply(pool, S.tryLock, [lock])).toBe(false)
      yield* Lock.release(lock)
      expect(yield* Pool.apply(pool, S.tryLock, [lock])).toBe(true)
      // Permits given back by workers are seen here.
      const sem = yield* Semaphore.make(0)
      expect(yield* Pool.starmap(pool, S.givePermit, [[sem], [sem]])).toEqual(["ok", "ok"])
      expect(yield* Semaphore.getValue(sem)).toBe(2)
      // An event set by a worker releases a wait here.
      const event = yield* Event.make()
      const setter = yield* Pool.applyAsync(pool, S.setEventAfter, [event, 50])
      expect(yield* Event.wait(event, 20_000)).toBe(true)
      expect(yield* setter.get()).toBe("set")
      // Two workers pass a barrier of three parties with this process.
      const barrier = yield* Barrier.make({ parties: 3 })
      const a = yield* Pool.applyAsync(pool, S.barrierOnce, [barrier, 20_000])
      const b = yield* Pool.applyAsync(pool, S.barrierOnce, [barrier, 20_000])
      const mine = yield* Barrier.wait(barrier, 20_000)
      const indices = [mine, ((yield* a.get()) as { index: number }).index, ((yield* b.get()) as { index: number }).index]
      expect(indices.sort()).toEqual([0, 1, 2])
    })))
})
