import { describe, expect, it } from "@effect/vitest"
import { Barrier, Process, Semaphore } from "@multiproc/primitives"
import { Barrier as PBarrier } from "@multiproc/primitives/promise"
import { Effect, Fiber } from "effect"
import { runProgram } from "./program.ts"
import * as T from "./fixtures/sync-tasks.ts"

/** Runs fixtures/sync-daemon-main.ts as a program. */
const runMain = (what: string, backend: string) => runProgram("sync-daemon-main.ts", [what, backend], 45_000)

describe("Barrier", () => {
  it.live("parties pass in lockstep; indices distinct with one 0; action once per pass before release", () =>
    Effect.scoped(Effect.gen(function*() {
      let actions = 0
      const seen: Array<number> = []
      const b = yield* Barrier.make({ parties: 3, action: Effect.sync(() => actions++) })
      const party = Effect.gen(function*() {
        const out: Array<number> = []
        for (let i = 0; i < 5; i++) {
          out.push(yield* Barrier.wait(b))
          seen.push(actions)
        }
        return out
      })
      const results = yield* Effect.all([party, party, party], { concurrency: "unbounded" })
      expect(actions).toBe(5)
      for (let i = 0; i < 5; i++) expect(results.map((r) => r[i]).sort()).toEqual([0, 1, 2])
      // every party saw the action of its pass already done
      expect(seen.slice(0, 3)).toEqual([1, 1, 1])
      expect(b.parties).toBe(3)
    })))

  it.live("abort breaks it for everyone; reset makes it usable again", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* Barrier.make({ parties: 3 })
      const w = yield* Effect.forkChild(Effect.flip(Barrier.wait(b)))
      yield* Effect.sleep(20)
      expect(yield* Barrier.nWaiting(b)).toBe(1)
      yield* Barrier.abort(b)
      expect((yield* Fiber.join(w)).why).toBe("abort")
      expect(yield* Barrier.broken(b)).toBe(true)
      expect((yield* Effect.flip(Barrier.wait(b))).reason).toBe("Broken")
      yield* Barrier.reset(b)
      expect(yield* Barrier.broken(b)).toBe(false)
      const w2 = yield* Effect.forkChild(Effect.flip(Barrier.wait(b)))
      yield* Effect.sleep(20)
      yield* Barrier.reset(b)
      expect((yield* Fiber.join(w2)).why).toBe("reset")
      const r = yield* Effect.all([Barrier.wait(b), Barrier.wait(b), Barrier.wait(b)], { concurrency: "unbounded" })
      expect([...r].sort()).toEqual([0, 1, 2])
    })))

  it.live("a timeout breaks it for everyone", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* Barrier.make({ parties: 3 })
      const w = yield* Effect.forkChild(Effect.flip(Barrier.wait(b)))
      yield* Effect.sleep(20)
      const e = yield* Effect.flip(Barrier.wait(b, 100))
      expect(e.why).toBe("timeout")
      expect((yield* Fiber.join(w)).reason).toBe("Broken")
      expect(yield* Barrier.broken(b)).toBe(true)
      // a party arriving later (CPython's test_timeout: the late thread) is told the same
      expect((yield* Effect.flip(Barrier.wait(b))).why).toBe("timeout")
    })))

  it.live("a failing action breaks it: the last party gets the action's error (ActionFailed), the others Broken", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* Barrier.make({ parties: 3, action: Effect.fail("nope") })
      const first = yield* Effect.forkChild(Effect.flip(Barrier.wait(b)))
      const second = yield* Effect.forkChild(Effect.flip(Barrier.wait(b)))
      for (let i = 0; i < 100 && (yield* Barrier.nWaiting(b)) < 2; i++) yield* Effect.sleep(5)
      // Python: the thread that ran the action gets its exception; the others BrokenBarrierError.
      const last = yield* Effect.flip(Barrier.wait(b))
      expect([last.reason, last.why, last.cause]).toEqual(["ActionFailed", "action", "nope"])
      for (const e of [yield* Fiber.join(first), yield* Fiber.join(second)]) expect([e.reason, e.why]).toEqual(["Broken", "action"])
      expect(yield* Barrier.broken(b)).toBe(true)
      const late = yield* Effect.flip(Barrier.wait(b))
      expect([late.reason, late.why]).toEqual(["Broken", "action"])
      // A defect of the action is carried the same way.
      const boom = new RangeError("boom")
      const d = yield* Barrier.make({ parties: 1, action: Effect.die(boom) })
      const e = yield* Effect.flip(Barrier.wait(d))
      expect([e.reason, e.cause]).toEqual(["ActionFailed", boom])
    })))

  it("the async/await facade", async () => {
    let passes = 0
    const b = new PBarrier(2, () => passes++)
    const r = await Promise.all([b.wait(), b.wait()])
    expect([...r].sort()).toEqual([0, 1])
    expect(passes).toBe(1)
    await b.abort()
    await expect(b.wait()).rejects.toMatchObject({ reason: "Broken" })
    expect(await b.broken()).toBe(true)
    // the action's own error reaches the party that ran it, as the error's `cause`
    const boom = new RangeError("boom")
    const failing = new PBarrier(2, () => {
      throw boom
    })
    const errors = (await Promise.allSettled([failing.wait(), failing.wait()])).map((r) => (r as PromiseRejectedResult).reason)
    expect(errors.map((e) => [e.reason, e.why]).sort()).toEqual([["ActionFailed", "action"], ["Broken", "action"]])
    expect(errors.find((e) => e.reason === "ActionFailed").cause).toBe(boom)
  })
})

describe.each(["thread", "process"] as const)("Barrier across processes (%s backend)", (backend) => {
  it.live("5 processes × 1,000 passes report in order", () =>
    Effect.scoped(Effect.gen(function*() {
      const passes = 1000
      const counter = yield* Semaphore.make(0)
      const b = yield* Barrier.make({ parties: 5, action: Effect.orDie(Semaphore.release(counter)) })
      const results = yield* Effect.all(
        Array.from({ length: 5 }, () => Process.run({ target: T.barrierLoop, args: [b, counter, passes], backend })),
        { concurrency: "unbounded" }
      )
      for (const r of results) expect(r.outOfOrder).toBeNull()
      for (let i = 0; i < passes; i++) expect(results.map((r) => r.indices[i]).sort()).toEqual([0, 1, 2, 3, 4])
      expect(yield* Semaphore.getValue(counter)).toBe(passes)
    })), { timeout: 60_000 })

  it.live("a party that dies while waiting breaks it for the others; a timeout in a child breaks it too", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* Barrier.make({ parties: 3 })
      const p = yield* Process.make({ target: T.barrierOnce, args: [b, -1], backend })
      yield* Process.start(p)
      for (let i = 0; i < 500 && (yield* Barrier.nWaiting(b)) < 1; i++) yield* Effect.sleep(20)
      const mine = yield* Effect.forkChild(Effect.flip(Barrier.wait(b)))
      yield* Effect.sleep(50)
      yield* Process.kill(p)
      expect((yield* Fiber.join(mine)).why).toBe("left")
      yield* Barrier.reset(b)
      const r = yield* Process.run({ target: T.barrierOnce, args: [b, 200], backend })
      expect(r).toEqual({ error: "Broken", why: "timeout" })
    })))

  it.live("a child whose arrival ran a failing action gets the action's error", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* Barrier.make({ parties: 2, action: Effect.fail(new RangeError("no pass")) })
      const mine = yield* Effect.forkChild(Effect.flip(Barrier.wait(b)))
      for (let i = 0; i < 100 && (yield* Barrier.nWaiting(b)) < 1; i++) yield* Effect.sleep(5)
      const r = yield* Process.run({ target: T.barrierOnce, args: [b, -1], backend })
      expect(r).toMatchObject({ error: "ActionFailed", why: "action", cause: { name: "RangeError", message: "no pass" } })
      expect([(yield* Fiber.join(mine)).reason]).toEqual(["Broken"])
    })))
})

describe("Barrier: waiting keeps the program alive", () => {
  it.each(["thread", "process"])("a main program waiting at a barrier only a daemonic child completes stays alive (%s)", async (backend) => {
    const r = await runMain("barrier", backend)
    expect(r.stderr).toBe("")
    expect(r.stdout.trim()).toBe("barrier 0 0")
  }, 60_000)
})
