// CPython's Lib/test/_test_multiprocessing.py, the synchronisation tests (_TestLock, _TestSemaphore,
// _TestCondition, _TestEvent, _TestBarrier) that Lock/Semaphore/Condition/Event/Barrier.test.ts do
// not cover yet, ported to both APIs and, where a child is involved, both backends.
import { describe, expect, it } from "@effect/vitest"
import { Barrier, Condition, Lock, Process, Semaphore } from "@multiproc/primitives"
import * as F from "@multiproc/primitives/promise"
import type { Task } from "@multiproc/runtime"
import { Effect, Fiber } from "effect"
import * as C from "./fixtures/cpython-sync-tasks.ts"

const backends = ["thread", "process"] as const

/** CPython's Bunch + run_threads: `n - 1` children and this process each run `task(...args)`. */
const runParties = <Args extends ReadonlyArray<any>, A>(
  n: number,
  task: Task.Task<Args, Effect.Effect<A, any>>,
  args: Args,
  backend: "thread" | "process"
) =>
  Effect.gen(function*() {
    const children = yield* Effect.forEach(Array.from({ length: n - 1 }), () => Process.make({ target: task, args, backend }))
    for (const p of children) yield* Process.start(p)
    const mine = yield* task(...args)
    const theirs = yield* Effect.forEach(children, (p) => Process.result(p))
    return [mine, ...theirs] as Array<A>
  })

/** How long an Effect took, in milliseconds. */
const timed = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const t0 = Date.now()
    const a = yield* effect
    return [a, Date.now() - t0] as const
  })

const count = <A>(xs: ReadonlyArray<A>, x: A) => xs.filter((y) => y === x).length

describe("_TestSemaphore / _TestLock: test_timeout", () => {
  it.live("a non-blocking acquire with a timeout answers at once; a blocking one after the timeout", () =>
    Effect.scoped(Effect.gen(function*() {
      const sem = yield* Semaphore.make(0)
      const lock = yield* Lock.make()
      yield* Lock.acquire(lock)
      for (const acquire of [(o: any): Effect.Effect<boolean, unknown> => Semaphore.acquire(sem, o), (o: any) => Lock.acquire(lock, o)]) {
        for (const o of [{ block: false }, { block: false, timeout: null }, { block: false, timeout: 100 }]) {
          const [got, took] = yield* timed(acquire(o))
          expect(got).toBe(false)
          expect(took).toBeLessThan(60)
        }
        for (const o of [{ block: true, timeout: 100 }, { timeout: 100 }]) {
          const [got, took] = yield* timed(acquire(o))
          expect(got).toBe(false)
          expect(took).toBeGreaterThanOrEqual(90)
          expect(took).toBeLessThan(1_000)
        }
      }
    })))

  it("the async/await facade: acquire(false, t) at once, acquire(true, t) after t", async () => {
    const bounded = new F.BoundedSemaphore(1)
    await bounded.acquire()
    const lock = new F.Lock()
    await lock.acquire()
    for (const prim of [new F.Semaphore(0), bounded, lock]) {
      const t0 = Date.now()
      expect(await prim.acquire(false, 100)).toBe(false)
      expect(Date.now() - t0).toBeLessThan(60)
      const t1 = Date.now()
      expect(await prim.acquire(true, 100)).toBe(false)
      expect(Date.now() - t1).toBeGreaterThanOrEqual(90)
    }
  })
})

describe("_TestCondition", () => {
  it.live("test_notify_all: waiters that timed out leave nothing behind; notifyAll then wakes exactly the new ones", () =>
    Effect.scoped(Effect.gen(function*() {
      const cond = yield* Condition.make()
      const waiter = (timeout?: number) => Effect.forkChild(Condition.withLock(cond, Condition.wait(cond, timeout)))
      const timedOut = yield* Effect.forEach([0, 1, 2], () => waiter(50))
      const facade = new F.Condition(cond)
      const facadeTimedOut = facade.withLock(() => facade.wait(50))
      for (const f of timedOut) expect(yield* Fiber.join(f)).toBe(false)
      expect(yield* Effect.promise(() => facadeTimedOut)).toBe(false)
      // check_invariant: no sleeper is left, so a notification now wakes nobody and is not kept
      expect(yield* Condition.withLock(cond, Condition.notify(cond))).toBe(0)
      expect(yield* Condition.withLock(cond, Condition.wait(cond, 30))).toBe(false)
      const woken = yield* Effect.forEach([0, 1, 2, 3, 4], () => waiter())
      yield* Effect.sleep(50)
      for (const f of woken) expect(f.pollUnsafe()).toBeUndefined()
      expect(yield* Condition.withLock(cond, Condition.notifyAll(cond))).toBe(5)
      for (const f of woken) expect(yield* Fiber.join(f)).toBe(true)
      expect(yield* Condition.withLock(cond, Condition.notifyAll(cond))).toBe(0)
    })))

  it.live("test_notify_n: notify(2) wakes 2, notify(4) the other 4, notify(3) then none", () =>
    Effect.scoped(Effect.gen(function*() {
      const cond = yield* Condition.make()
      const fibers = yield* Effect.forEach([0, 1, 2, 3, 4, 5], () => Effect.forkChild(Condition.withLock(cond, Condition.wait(cond))))
      yield* Effect.sleep(50)
      const awake = () => fibers.filter((f) => f.pollUnsafe() !== undefined).length
      expect(yield* Condition.withLock(cond, Condition.notify(cond, 2))).toBe(2)
      for (let i = 0; i < 100 && awake() < 2; i++) yield* Effect.sleep(5)
      yield* Effect.sleep(30)
      expect(awake()).toBe(2)
      expect(yield* Condition.withLock(cond, Condition.notify(cond, 4))).toBe(4)
      for (const f of fibers) expect(yield* Fiber.join(f)).toBe(true)
      expect(yield* Condition.withLock(cond, Condition.notify(cond, 3))).toBe(0)
    })))

  it("test_timeout / test_wait_result (async/await): wait(0) and wait(t) give false, wait(0) at once", async () => {
    const cond = new F.Condition()
    await cond.acquire()
    const t0 = Date.now()
    expect(await cond.wait(0)).toBe(false)
    expect(Date.now() - t0).toBeLessThan(60)
    const t1 = Date.now()
    expect(await cond.wait(100)).toBe(false)
    expect(Date.now() - t1).toBeGreaterThanOrEqual(90)
    // still holding the lock afterwards
    expect(await cond.notify()).toBe(0)
    await cond.release()
    await expect(cond.wait(0)).rejects.toMatchObject({ reason: "NotOwner" })
  })
})

describe.each(backends)("_TestCondition across processes (%s backend)", (backend) => {
  it.live("test_waitfor_timeout: waitFor gives false after its whole timeout though notified 3 times meanwhile", () =>
    Effect.scoped(Effect.gen(function*() {
      const cond = yield* Condition.make()
      const counter = yield* Semaphore.make(0) // Python's state: 0, bumped only to 3, never 4
      const started = yield* Semaphore.make(0)
      const p = yield* Process.make({ target: C.condWaitForTimeout, args: [cond, counter, started, 300], backend })
      yield* Process.start(p)
      expect(yield* Semaphore.acquire(started, { timeout: 30_000 })).toBe(true)
      for (let i = 0; i < 3; i++) {
        yield* Effect.sleep(10)
        yield* Condition.withLock(cond, Effect.andThen(Semaphore.release(counter), Condition.notify(cond)))
      }
      const r = yield* Process.result(p)
      expect(r.result).toBe(false)
      expect(r.took).toBeGreaterThanOrEqual(290)
      expect(r.took).toBeLessThan(3_000)
    })))

  it.live("test_wait_result: wait(0) and wait(100) give false, a child's notify makes wait(60 s) true", () =>
    Effect.scoped(Effect.gen(function*() {
      const cond = yield* Condition.make()
      const woke = yield* Condition.withLock(cond, Effect.gen(function*() {
        expect(yield* Condition.wait(cond, 0)).toBe(false)
        expect(yield* Condition.wait(cond, 100)).toBe(false)
        const p = yield* Process.make({ target: C.condNotifyOnce, args: [cond], backend })
        yield* Process.start(p)
        const woke = yield* Condition.wait(cond, 60_000)
        expect(yield* Process.result(p)).toBe(1)
        return woke
      }))
      expect(woke).toBe(true)
    })))
})

describe("_TestBarrier", () => {
  it.live("test_single_thread: a barrier of one passes at once, every time", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* Barrier.make({ parties: 1 })
      expect(yield* Barrier.wait(b)).toBe(0)
      expect(yield* Barrier.wait(b)).toBe(0)
      const f = new F.Barrier(1)
      expect(yield* Effect.promise(() => f.wait())).toBe(0)
      expect(yield* Effect.promise(() => f.wait())).toBe(0)
    })))

  it.live("test_barrier: after lockstep passes nobody waits and the barrier is not broken", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* Barrier.make({ parties: 5, timeout: 30_000 })
      const arrived: Array<number> = []
      const party = Effect.gen(function*() {
        for (let i = 0; i < 10; i++) {
          arrived.push(i)
          yield* Barrier.wait(b)
          // everyone arrived at pass i before anyone went on
          expect(arrived.filter((x) => x === i).length).toBe(5)
          yield* Barrier.wait(b)
        }
        expect(yield* Barrier.nWaiting(b)).toBe(0)
        expect(yield* Barrier.broken(b)).toBe(false)
      })
      yield* Effect.all(Array.from({ length: 5 }, () => party), { concurrency: "unbounded" })
    })))

  it.live("test_default_timeout: a wait without a timeout (or null, Python's None) uses the barrier's own", () =>
    Effect.scoped(Effect.gen(function*() {
      for (const timeout of [undefined, null]) {
        const b = yield* Barrier.make({ parties: 2, timeout: 100 })
        const [e, took] = yield* timed(Effect.flip(Barrier.wait(b, timeout as any)))
        expect(e.why).toBe("timeout")
        expect(took).toBeGreaterThanOrEqual(90)
        expect(took).toBeLessThan(5_000)
      }
      const f = new F.Barrier(2, undefined, 100)
      yield* Effect.promise(() => expect(f.wait(null as any)).rejects.toMatchObject({ reason: "Broken", why: "timeout" }))
    })), 10_000)

  it.live("Barrier.make(n): a number is Python's positional parties", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* Barrier.make(2)
      expect(b.parties).toBe(2)
      const r = yield* Effect.all([Barrier.wait(b), Barrier.wait(b)], { concurrency: 2 })
      expect([...r].sort()).toEqual([0, 1])
    })))
})

describe.each(backends)("_TestBarrier, 5 parties: this process and 4 children (%s backend)", (backend) => {
  it.live("test_abort: the middle party aborts; the others are told Broken at their second wait", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* Barrier.make({ parties: 5, timeout: 30_000 })
      const r = yield* runParties(5, C.barrierAbortF, [b], backend)
      expect([count(r, "passed"), count(r, "broken"), count(r, "aborted")]).toEqual([0, 4, 1])
      expect(yield* Barrier.broken(b)).toBe(true)
    })), 60_000)

  it.live("test_reset: a reset frees the waiting parties (Broken), and all pass again afterwards", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* Barrier.make({ parties: 5, timeout: 30_000 })
      const r = yield* runParties(5, C.barrierResetF, [b], backend)
      expect([count(r, "passed"), count(r, "broken"), count(r, "reset")]).toEqual([0, 4, 1])
      expect(yield* Barrier.broken(b)).toBe(false)
    })), 60_000)

  it.live("test_abort_and_reset: a barrier broken by abort is usable again after reset", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* Barrier.make({ parties: 5, timeout: 30_000 })
      const b2 = yield* Barrier.make({ parties: 5 })
      const r = yield* runParties(5, C.barrierAbortAndResetF, [b, b2], backend)
      expect([count(r, "passed"), count(r, "broken"), count(r, "aborted")]).toEqual([0, 4, 1])
    })), 60_000)

  it.live("test_default_timeout: the barrier's own timeout breaks it for all 5 when one party is late", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* Barrier.make({ parties: 5, timeout: 200 })
      const r = yield* runParties(5, C.barrierDefaultTimeoutF, [b, 600], backend)
      expect(count(r, "broken")).toBe(5)
    })), 60_000)
})
