// Model test: random interleavings of acquire, release, timeout, interruption and process death
// across 3 real processes (thread backend = shared-memory fast path, process backend = actor path,
// and both mixed on one lock) never show two owners, never lose a permit, and every waiter ends
// with the permit, a timeout or an interruption (no hang).
import { describe, expect, it } from "@effect/vitest"
import { Lock, Process, Semaphore } from "@multiproc/primitives"
import { Actor } from "@multiproc/runtime"
import { Effect, Schema } from "effect"
import fc from "fast-check"
import * as T from "./fixtures/sync-tasks.ts"

type Backend = "thread" | "process"

const opArb: fc.Arbitrary<T.Op> = fc.oneof(
  fc.record({ t: fc.constant("cs" as const), hold: fc.integer({ min: 0, max: 15 }), timeout: fc.constantFrom(-1, 0, 3, 25) }),
  fc.record({ t: fc.constant("int" as const), after: fc.integer({ min: 0, max: 15 }) })
)

const scenarioArb = fc.record({
  permits: fc.constantFrom(1, 2),
  scripts: fc.tuple(
    fc.array(opArb, { minLength: 1, maxLength: 8 }),
    fc.array(opArb, { minLength: 1, maxLength: 8 }),
    fc.array(opArb, { minLength: 1, maxLength: 8 })
  ),
  kill: fc.option(fc.record({ who: fc.integer({ min: 0, max: 2 }), after: fc.integer({ min: 0, max: 400 }) }), { nil: undefined })
})

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer S> ? S : never

const CheckerMessage = Schema.Struct({ op: Schema.Literals(["enter", "leave"]) })

const runScenario = (backends: ReadonlyArray<Backend>, s: Scenario) =>
  Effect.scoped(Effect.gen(function*() {
    const permits = s.permits === 1
      ? yield* Lock.make()
      : yield* Semaphore.make(s.permits)
    let inside = 0
    let maxInside = 0
    const by = new Map<string, number>()
    const dead = new Set<string>()
    const checker = yield* Actor.make(CheckerMessage, {
      receive: (m, req) => {
        if (dead.has(req.from)) return
        const n = by.get(req.from) ?? 0
        if (m.op === "enter") {
          by.set(req.from, n + 1)
          inside++
          maxInside = Math.max(maxInside, inside)
        } else {
          by.set(req.from, n - 1)
          inside--
        }
        req.reply(null)
      },
      down: (address) => {
        dead.add(address)
        inside -= by.get(address) ?? 0
        by.delete(address)
      }
    })
    const ps = []
    for (let i = 0; i < 3; i++) {
      const p = yield* Process.make({ target: T.runScript, args: [permits as any, checker, s.scripts[i]!], backend: backends[i]! })
      yield* Process.start(p)
      ps.push(p)
    }
    if (s.kill) {
      yield* Effect.sleep(s.kill.after)
      yield* Process.kill(ps[s.kill.who]!)
    }
    for (const p of ps) {
      const code = yield* Process.join(p, "40 seconds")
      if (code === undefined) throw new Error("a process hung: some waiter never ended")
    }
    expect(maxInside).toBeLessThanOrEqual(s.permits)
    for (let i = 0; i < 3; i++) {
      if (s.kill?.who === i && ps[i]!.exitCode !== 0) continue
      const out = yield* Process.result(ps[i]!)
      expect(out.length).toBe(s.scripts[i]!.length)
      for (const o of out) expect(["held", "timeout", "interrupted"]).toContain(o)
    }
    // no permit lost: all come back (a grant that crossed an interruption returns asynchronously)
    const free = () =>
      s.permits === 1
        ? Effect.map(Lock.acquire(permits as Lock.Lock, { block: false }), (ok) => (ok ? 1 : 0))
        : Semaphore.getValue(permits as Semaphore.Semaphore)
    let value = yield* free()
    for (let i = 0; i < 100 && value < s.permits; i++) {
      yield* Effect.sleep(20)
      value = yield* free()
    }
    expect(value).toBe(s.permits)
    expect(inside).toBe(0)
  }))

const configs: ReadonlyArray<[string, ReadonlyArray<Backend>]> = [
  ["threads (shared-memory fast path)", ["thread", "thread", "thread"]],
  ["processes (actor path)", ["process", "process", "process"]],
  ["mixed (both paths on one lock)", ["thread", "process", "thread"]]
]

describe("sync model", () => {
  it.each(configs)("%s: never two owners, no lost permit, no hung waiter", async (_name, backends) => {
    await fc.assert(
      fc.asyncProperty(scenarioArb, (s) => Effect.runPromise(runScenario(backends, s))),
      { numRuns: 8, endOnFailure: true }
    )
  }, 60_000)
})
