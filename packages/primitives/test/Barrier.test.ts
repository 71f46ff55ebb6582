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

  it.live("a failing action breaks it", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* Barrier.make({ parties: 2, action: Effect.fail("nope") })
      const r = yield* Effect.all([Effect.flip(Barrier.wait(b)), Effect.flip(Barrier.wait(b))], { concurrency: "unbounded" })
      expect(r.map((e) => e.why)).toEqual(["action", "action"])
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
})

describe("Barrier: waiting keeps the program alive", () => {
  it.each(["thread", "process"])("a main program waiting at a barrier only a daemonic child completes stays alive (%s)", async (backend) => {
    const r = await runMain("barrier", backend)
    expect(r.stderr).toBe("")
    expect(r.stdout.trim()).toBe("barrier 0 0")
  }, 60_000)
})
