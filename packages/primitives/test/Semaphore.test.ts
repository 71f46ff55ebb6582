import { describe, expect, it } from "@effect/vitest"
import { Process, Semaphore } from "@multiproc/primitives"
import { BoundedSemaphore as PBounded, Semaphore as PSemaphore } from "@multiproc/primitives/promise"
import { Effect, Fiber } from "effect"
import { inspect } from "node:util"
import * as T from "./fixtures/sync-tasks.ts"

describe("Semaphore", () => {
  it.live("counts: value permits, then non-blocking acquire fails; release gives one back", () =>
    Effect.scoped(Effect.gen(function*() {
      const sem = yield* Semaphore.make(3)
      expect(yield* Semaphore.getValue(sem)).toBe(3)
      for (let i = 0; i < 3; i++) expect(yield* Semaphore.acquire(sem, { block: false })).toBe(true)
      expect(yield* Semaphore.getValue(sem)).toBe(0)
      expect(yield* Semaphore.acquire(sem, { block: false })).toBe(false)
      expect(yield* Semaphore.acquire(sem, { timeout: 100 })).toBe(false)
      yield* Semaphore.release(sem)
      expect(yield* Semaphore.getValue(sem)).toBe(1)
      // an unbounded semaphore may be released past its initial value
      for (let i = 0; i < 5; i++) yield* Semaphore.release(sem)
      expect(yield* Semaphore.getValue(sem)).toBe(6)
    })))

  it.live("BoundedSemaphore: over-release is an error", () =>
    Effect.scoped(Effect.gen(function*() {
      const sem = yield* Semaphore.makeBounded(2)
      const e = yield* Effect.flip(Semaphore.release(sem))
      expect(e.reason).toBe("TooManyReleases")
      yield* Semaphore.acquire(sem)
      yield* Semaphore.release(sem)
      expect((yield* Effect.flip(Semaphore.release(sem))).reason).toBe("TooManyReleases")
      expect(yield* Semaphore.getValue(sem)).toBe(2)
    })))

  it.live("waiters are served in order as permits come back", () =>
    Effect.scoped(Effect.gen(function*() {
      const sem = yield* Semaphore.make(0)
      const order: Array<number> = []
      const fibers = []
      for (let i = 0; i < 4; i++) {
        fibers.push(yield* Effect.forkChild(Effect.andThen(Semaphore.acquire(sem), Effect.sync(() => order.push(i)))))
        yield* Effect.sleep(10)
      }
      for (let i = 0; i < 4; i++) yield* Semaphore.release(sem)
      for (const f of fibers) yield* Fiber.join(f)
      expect(order).toEqual([0, 1, 2, 3])
    })))

  it("the async/await facade", async () => {
    const sem = new PSemaphore(2)
    expect(await sem.acquire()).toBe(true)
    expect(await sem.getValue()).toBe(1)
    expect(await sem.withPermit(() => "in")).toBe("in")
    {
      using _p = await sem.hold()
      expect(await sem.getValue()).toBe(0)
    }
    expect(await sem.getValue()).toBe(1)
    await sem.release()
    const b = new PBounded(1)
    await expect(b.release()).rejects.toMatchObject({ reason: "TooManyReleases" })
  })

  it("reprs as Python's: <Semaphore(value=n)>, <BoundedSemaphore(value=n, maxvalue=m)>", async () => {
    const sem = new PSemaphore(3)
    expect(String(sem)).toBe("<Semaphore(value=3)>")
    await sem.acquire()
    expect(inspect(sem)).toBe("<Semaphore(value=2)>")
    const b = new PBounded(3)
    await b.acquire()
    expect(String(b)).toBe("<BoundedSemaphore(value=2, maxvalue=3)>")
    expect(String(b.handle)).toBe(String(b))
  })
})

describe.each(["thread", "process"] as const)("Semaphore across processes (%s backend)", (backend) => {
  it.live("a child's release wakes the parent; a child's over-release of a BoundedSemaphore is an error", () =>
    Effect.scoped(Effect.gen(function*() {
      const sem = yield* Semaphore.make(0)
      const waiting = yield* Effect.forkChild(Semaphore.acquire(sem, { timeout: 20_000 }))
      expect(yield* Process.run({ target: T.givePermit, args: [sem], backend })).toBe("ok")
      expect(yield* Fiber.join(waiting)).toBe(true)
      const bounded = yield* Semaphore.makeBounded(1)
      expect(yield* Process.run({ target: T.givePermit, args: [bounded], backend })).toBe("TooManyReleases")
    })))
})
