import { describe, expect, it } from "@effect/vitest"
import { Event, Process } from "@multiproc/primitives"
import { Event as PEvent } from "@multiproc/primitives/promise"
import { Effect, Fiber } from "effect"
import { inspect } from "node:util"
import * as T from "./fixtures/sync-tasks.ts"

describe("Event", () => {
  it.live("set, clear, isSet; wait(timeout) gives the flag", () =>
    Effect.scoped(Effect.gen(function*() {
      const e = yield* Event.make()
      expect(yield* Event.isSet(e)).toBe(false)
      const t0 = Date.now()
      expect(yield* Event.wait(e, 150)).toBe(false)
      expect(Date.now() - t0).toBeGreaterThanOrEqual(130)
      expect(yield* Event.wait(e, -5)).toBe(false)
      const waiters = yield* Effect.all([Event.wait(e), Event.wait(e, 10_000)], { concurrency: "unbounded" }).pipe(Effect.forkChild)
      yield* Effect.sleep(20)
      yield* Event.set(e)
      expect(yield* Fiber.join(waiters)).toEqual([true, true])
      expect(yield* Event.isSet(e)).toBe(true)
      expect(yield* Event.wait(e, 0)).toBe(true)
      yield* Event.clear(e)
      expect(yield* Event.isSet(e)).toBe(false)
    })))

  it("the async/await facade", async () => {
    const e = new PEvent()
    expect(await e.wait(10)).toBe(false)
    await e.set()
    expect(await e.isSet()).toBe(true)
    expect(await e.wait()).toBe(true)
    await e.clear()
    expect(await e.isSet()).toBe(false)
  })

  it("reprs as Python's (_TestEvent.test_repr): <Event at … unset>, then set", async () => {
    const e = new PEvent()
    expect(String(e)).toMatch(/^<Event at \S+ unset>$/)
    await e.set()
    expect(inspect(e)).toMatch(/^<Event at \S+ set>$/)
    expect(String(e.handle)).toBe(String(e))
    await e.clear()
    expect(String(e)).toMatch(/^<Event at \S+ unset>$/)
    expect(String(new PEvent())).not.toBe(String(e)) // `at` tells events apart, like Python's id()
  })
})

describe.each(["thread", "process"] as const)("Event across processes (%s backend)", (backend) => {
  it.live("an event set by a child releases the parent's wait", () =>
    Effect.scoped(Effect.gen(function*() {
      const e = yield* Event.make()
      const p = yield* Process.make({ target: T.setEventAfter, args: [e, 200], backend })
      yield* Process.start(p)
      expect(yield* Event.wait(e, 20_000)).toBe(true)
      expect(yield* Process.result(p)).toBe("set")
    })))
})
