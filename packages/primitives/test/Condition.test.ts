import { describe, expect, it } from "@effect/vitest"
import { Condition, Lock, Process, Semaphore } from "@multiproc/primitives"
import { Condition as PCondition } from "@multiproc/primitives/promise"
import { Effect, Fiber } from "effect"
import { runProgram } from "./program.ts"
import * as T from "./fixtures/sync-tasks.ts"

/** Runs fixtures/sync-daemon-main.ts as a program. */
const runMain = (what: string, backend: string) => runProgram("sync-daemon-main.ts", [what, backend], 45_000)

describe("Condition", () => {
  it.live("waitFor with a predicate that is not an Effect fails InvalidArgument at the call", () =>
    Effect.scoped(Effect.gen(function*() {
      const c = yield* Condition.make()
      const e = (yield* Effect.flip(Condition.waitFor(c, "nf" as unknown as Effect.Effect<boolean>))) as Condition.ConditionError
      expect(e._tag === "ConditionError" && e.reason).toBe("InvalidArgument")
      expect(e.message).toMatch(/predicate must be an Effect/)
    })))

  it.live("the default lock is an RLock; wait(timeout) gives false; wait and notify need the lock", () =>
    Effect.scoped(Effect.gen(function*() {
      const cond = yield* Condition.make()
      expect(cond.lock.kind).toBe("RLock")
      expect((yield* Effect.flip(Condition.wait(cond, 10))).reason).toBe("NotOwner")
      expect((yield* Effect.flip(Condition.notify(cond))).reason).toBe("NotOwner")
      const t0 = Date.now()
      const r = yield* Condition.withLock(cond, Condition.withLock(cond, Condition.wait(cond, 150)))
      expect(r).toBe(false)
      expect(Date.now() - t0).toBeGreaterThanOrEqual(130)
      // the lock is free again afterwards (both nested levels were restored, then released)
      const other = yield* Effect.forkChild(Condition.acquire(cond, { block: false }))
      expect(yield* Fiber.join(other)).toBe(true)
    })))

  it.live("works over a plain Lock too", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make()
      const cond = yield* Condition.make(lock)
      const waiter = yield* Effect.forkChild(Condition.withLock(cond, Condition.wait(cond, 10_000)))
      yield* Effect.sleep(50)
      expect(yield* Condition.withLock(cond, Condition.notify(cond))).toBe(1)
      expect(yield* Fiber.join(waiter)).toBe(true)
    })))

  it("the async/await facade", async () => {
    const cond = new PCondition()
    let ready = false
    const waiter = cond.withLock(() => cond.waitFor(() => ready, 10_000))
    await new Promise((r) => setTimeout(r, 50))
    await cond.withLock(async () => {
      ready = true
      await cond.notifyAll()
    })
    expect(await waiter).toBe(true)
    expect(await cond.withLock(() => cond.wait(20))).toBe(false)
  })
})

describe.each(["thread", "process"] as const)("Condition across processes (%s backend)", (backend) => {
  it.live("notify wakes one, notify(n) n, notifyAll all", () =>
    Effect.scoped(Effect.gen(function*() {
      const cond = yield* Condition.make()
      const arrived = yield* Semaphore.make(0)
      const ps: Array<Process.Process<boolean, unknown>> = []
      for (let i = 0; i < 4; i++) {
        const p = yield* Process.make({ target: T.condWaiter, args: [cond, arrived, 30_000], backend })
        yield* Process.start(p)
        ps.push(p)
      }
      for (let i = 0; i < 4; i++) yield* Semaphore.acquire(arrived, { timeout: 30_000 })
      const done = () => ps.filter((p) => !p.isAlive()).length
      const settle = (n: number) =>
        Effect.gen(function*() {
          for (let i = 0; i < 500 && done() < n; i++) yield* Effect.sleep(20)
          yield* Effect.sleep(200) // nobody else may wake
          return done()
        })
      expect(yield* Condition.withLock(cond, Condition.notify(cond))).toBe(1)
      expect(yield* settle(1)).toBe(1)
      expect(yield* Condition.withLock(cond, Condition.notify(cond, 2))).toBe(2)
      expect(yield* settle(3)).toBe(3)
      expect(yield* Condition.withLock(cond, Condition.notifyAll(cond))).toBe(1)
      for (const p of ps) expect(yield* Process.result(p)).toBe(true)
    })))

  it.live("waitFor returns once another process makes the predicate true", () =>
    Effect.scoped(Effect.gen(function*() {
      const cond = yield* Condition.make()
      const counter = yield* Semaphore.make(0)
      const p = yield* Process.make({ target: T.condBumper, args: [cond, counter, 3], backend })
      yield* Process.start(p)
      const ok = yield* Condition.withLock(
        cond,
        Condition.waitFor(cond, Effect.map(Effect.orDie(Semaphore.getValue(counter)), (n) => n >= 3), 30_000)
      )
      expect(ok).toBe(true)
      expect(yield* Semaphore.getValue(counter)).toBeGreaterThanOrEqual(3)
      expect(yield* Process.result(p)).toBe(3)
    })))
})

describe("Condition: waiting keeps the program alive", () => {
  it.each(["thread", "process"])("a main program waiting on a condition only a daemonic child notifies stays alive (test_waitfor) (%s)", async (backend) => {
    const r = await runMain("condition", backend)
    expect(r.stderr).toBe("")
    expect(r.stdout.trim()).toBe("condition true 0")
  }, 60_000)
})
