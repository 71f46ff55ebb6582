import { describe, expect, it } from "@effect/vitest"
import { Lock, Process } from "@multiproc/primitives"
import { Effect, Fiber } from "effect"
import * as T from "./fixtures/sync-tasks.ts"

const backends = ["thread", "process"] as const

describe("Lock (in one process)", () => {
  it.live("acquire, non-blocking acquire while held gives false, release", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make()
      expect(yield* Lock.acquire(lock)).toBe(true)
      expect(yield* Lock.acquire(lock, { block: false })).toBe(false)
      expect(yield* Lock.acquire(lock, { timeout: -1 })).toBe(false)
      yield* Lock.release(lock)
      expect(yield* Lock.acquire(lock, { block: false })).toBe(true)
      yield* Lock.release(lock)
    })))

  it.live("releasing an unlocked lock is an error", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make()
      const e = yield* Effect.flip(Lock.release(lock))
      expect(e._tag).toBe("LockError")
      expect(e.reason).toBe("NotLocked")
    })))

  it.live("acquire with a timeout gives false after about the timeout", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make()
      yield* Lock.acquire(lock)
      const t0 = Date.now()
      const got = yield* Effect.forkChild(Lock.acquire(lock, { timeout: 200 })).pipe(Effect.flatMap(Fiber.join))
      const took = Date.now() - t0
      expect(got).toBe(false)
      expect(took).toBeGreaterThanOrEqual(180)
      expect(took).toBeLessThan(3000)
      yield* Lock.release(lock)
    })))
})

describe.each(backends)("Lock across processes (%s backend)", (backend) => {
  it.live("a child's non-blocking acquire sees the parent's lock", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make()
      yield* Lock.acquire(lock)
      expect(yield* Process.run({ target: T.tryLock, args: [lock], backend })).toBe(false)
      yield* Lock.release(lock)
      expect(yield* Process.run({ target: T.tryLock, args: [lock], backend })).toBe(true)
    })))

  it.live("a child's timed acquire gives false after about the timeout", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make()
      yield* Lock.acquire(lock)
      const r = yield* Process.run({ target: T.acquireWithin, args: [lock, 300], backend })
      expect(r.got).toBe(false)
      expect(r.took).toBeGreaterThanOrEqual(250)
      expect(r.took).toBeLessThan(5000)
      yield* Lock.release(lock)
    })))

  it.live("a dead owner's lock goes to the next waiter", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make()
      const p = yield* Process.make({ target: T.acquireAndHang, args: [lock], backend })
      yield* Process.start(p)
      // wait until the child holds it
      for (let i = 0; i < 200 && (yield* Lock.acquire(lock, { block: false })) === false; i++) yield* Effect.sleep(10)
      yield* Effect.sleep(0)
    })))
})
