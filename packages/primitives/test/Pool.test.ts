import { describe, expect, it } from "@effect/vitest"
import { Pool, Process } from "@multiproc/primitives"
import { Pool as PromisePool } from "@multiproc/primitives/promise"
import { Cause, Effect, Exit, Fiber, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { inspect } from "node:util"
import * as B from "./fixtures/pool-broken.ts"
import * as FX from "./fixtures/pool-effect-tasks.ts"
import * as T from "./fixtures/pool-tasks.ts"
import { failureOf } from "./failure.ts"

const backends = ["thread", "process"] as const

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

describe.each(backends)("Pool (%s backend)", (backend) => {
  it.live("arguments cross exactly, whether they travel as they are (a few plain ones) or encoded", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend })
      const values: Array<unknown> = [7, -0, 1.5, "short", "x".repeat(100), "\ud800", true, null, undefined, 2n ** 70n, NaN, [1, [2]], { a: 1 }]
      const same = (back: ReadonlyArray<unknown>) => {
        expect(back.length).toBe(values.length)
        back.forEach((x, i) => typeof values[i] === "number" ? expect(Object.is(x, values[i])).toBe(true) : expect(x).toEqual(values[i]))
      }
      const one: Array<unknown> = []
      for (const v of values) one.push(yield* Pool.apply(pool, T.identity, [v]))
      same(one)
      same(yield* Pool.map(pool, T.identity, values, { chunksize: 1 }))
      same(yield* Pool.map(pool, T.identity, values))
      const pairs: Array<[number, number]> = [[1, 2], [-0, 3], [0.5, 0.25]]
      expect(yield* Pool.starmap(pool, T.add, pairs)).toEqual([3, 3, 0.75])
    })))

  it.live("one plain item travels flat; every kind of result and failure arrives as from a chunk of several", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend })
      // A primitive, undefined, an object, a promise, an Effect, a failed Effect, a throw, a
      // result that cannot cross: each alone (`apply`: one plain item, sent flat, a primitive
      // answered bare) and in a chunk of two (`starmap` with `chunksize` 2: a list of items).
      const cases: ReadonlyArray<readonly [any, ReadonlyArray<unknown>]> = [
        [T.square, [7]],
        [T.identity, [undefined]],
        [T.box, [3, "three"]],
        [T.sleepThen, [1, 5]],
        [FX.effectSquare, [4]],
        [FX.effectReject, [3]],
        [T.failOnDeclared, [5]],
        [T.returnFunction, []]
      ]
      const outcomes: Array<string> = []
      for (const [task, args] of cases) {
        const alone = yield* Effect.exit(Pool.apply(pool, task, args as any))
        const chunk = yield* Effect.exit(Pool.starmap(pool, task, [args, args] as any, { chunksize: 2 }))
        if (Exit.isSuccess(alone)) {
          expect(chunk).toEqual(Exit.succeed([alone.value, alone.value]))
          outcomes.push("ok")
        } else {
          const [a, c] = [failureOf(alone) as any, failureOf(chunk) as any]
          expect(c?.constructor?.name).toBe(a?.constructor?.name)
          expect(c?.message).toBe(a?.message)
          outcomes.push(a?._tag ?? a?.name)
        }
      }
      expect(outcomes).toEqual(["ok", "ok", "ok", "ok", "ok", "Rejected", "BadValue", "SerializationError"])
      expect(yield* Pool.apply(pool, T.box, [1, "one"])).toEqual({ x: 1, label: "one", list: [1, [1]] })
    })))

  it.live("apply / map / starmap (with and without chunksize) equal a plain map; empty input", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend })
      const xs = range(100)
      expect(yield* Pool.apply(pool, T.square, [7])).toBe(49)
      expect(yield* Pool.map(pool, T.square, xs)).toEqual(xs.map((x) => x * x))
      expect(yield* Pool.map(pool, T.square, xs, { chunksize: 7 })).toEqual(xs.map((x) => x * x))
      expect(yield* Pool.map(pool, T.square, new Set(xs))).toEqual(xs.map((x) => x * x))
      const pairs = xs.map((x) => [x, x + 1] as [number, number])
      expect(yield* Pool.starmap(pool, T.add, pairs)).toEqual(pairs.map(([a, b]) => a + b))
      expect(yield* Pool.starmap(pool, T.add, pairs, { chunksize: 3 })).toEqual(pairs.map(([a, b]) => a + b))
      expect(yield* Pool.map(pool, T.square, [])).toEqual([])
      const ma = yield* Pool.mapAsync(pool, T.square, xs, { chunksize: 9 })
      expect(yield* ma.get()).toEqual(xs.map((x) => x * x))
      const sa = yield* Pool.starmapAsync(pool, T.add, pairs)
      expect(yield* sa.get()).toEqual(pairs.map(([a, b]) => a + b))
      expect(yield* Pool.map(pool, FX.effectSquare, xs)).toEqual(xs.map((x) => x * x))
    })))

  it.live("callbacks are called once; errorCallback gets the worker's error; throwing callbacks do not break the pool", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend })
      const seen: Array<unknown> = []
      const errors: Array<unknown> = []
      const ok = yield* Pool.applyAsync(pool, T.square, [4], { callback: (v) => seen.push(v) })
      const bad = yield* Pool.applyAsync(pool, T.failOn, [5], { errorCallback: (e) => errors.push(e) })
      yield* ok.wait()
      yield* bad.wait()
      expect(seen).toEqual([16])
      expect(errors).toHaveLength(1)
      expect(errors[0]).toBeInstanceOf(T.BadValue)
      expect(ok.ready()).toBe(true)
      expect(yield* ok.successful()).toBe(true)
      expect(yield* bad.successful()).toBe(false)
      const mapped: Array<unknown> = []
      const m = yield* Pool.mapAsync(pool, T.square, [1, 2], { callback: (v) => mapped.push(v) })
      yield* m.wait()
      expect(mapped).toEqual([[1, 4]])
      // Callbacks that throw, 20 times each way; the pool keeps working.
      const rs = []
      for (let i = 0; i < 20; i++) {
        rs.push(yield* Pool.applyAsync(pool, T.square, [i], { callback: () => { throw new Error("callback boom") } }))
        rs.push(yield* Pool.applyAsync(pool, T.failOn, [5], { errorCallback: () => { throw new Error("errorCallback boom") } }))
      }
      for (const r of rs) yield* r.wait()
      expect(yield* Pool.map(pool, T.square, range(10))).toEqual(range(10).map((x) => x * x))
    })))

  it.live("get(timeout) fails after about the timeout; successful() before ready fails", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 1, backend })
      const r = yield* Pool.applyAsync(pool, T.sleepThen, [1500, "late"])
      const nr = failureOf(yield* Effect.exit(r.successful()))
      expect(nr).toMatchObject({ _tag: "PoolError", reason: "NotReady" })
      const t0 = Date.now()
      const e = failureOf(yield* Effect.exit(r.get(300)))
      const took = Date.now() - t0
      expect(e).toMatchObject({ _tag: "PoolError", reason: "Timeout" })
      expect(took).toBeGreaterThanOrEqual(250)
      expect(took).toBeLessThan(1400)
      expect(yield* r.get()).toBe("late")
    })))

  it.live("imap keeps order, imapUnordered returns everything; async iterable input", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend })
      const xs = range(50)
      const ordered = yield* Stream.runCollect(Pool.imap(pool, T.square, xs))
      expect([...ordered]).toEqual(xs.map((x) => x * x))
      const chunked = yield* Stream.runCollect(Pool.imap(pool, T.square, xs, { chunksize: 4 }))
      expect([...chunked]).toEqual(xs.map((x) => x * x))
      const unordered = yield* Stream.runCollect(Pool.imapUnordered(pool, T.square, xs, { chunksize: 3 }))
      expect([...unordered].sort((a, b) => a - b)).toEqual(xs.map((x) => x * x))
      async function* gen() {
        for (const x of xs) yield x
      }
      const fromAsync = yield* Stream.runCollect(Pool.imap(pool, T.square, gen(), { chunksize: 5 }))
      expect([...fromAsync]).toEqual(xs.map((x) => x * x))
    })))

  it.live("an exception from the input: map raises it, imap yields the earlier values first", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend })
      function* bad() {
        for (let i = 0; i < 10; i++) {
          if (i === 6) throw new SyntaxError("input broke at 6")
          yield i
        }
      }
      const m = failureOf(yield* Effect.exit(Pool.map(pool, T.square, bad())))
      expect(m).toBeInstanceOf(SyntaxError)
      const got: Array<number> = []
      const exit = yield* Effect.exit(Stream.runForEach(Pool.imap(pool, T.square, bad(), { chunksize: 2 }), (y) => Effect.sync(() => got.push(y))))
      expect(got).toEqual([0, 1, 4, 9, 16, 25])
      expect(failureOf(exit)).toBeInstanceOf(SyntaxError)
    })))

  it.live("an exception in a worker arrives with its type, message and the worker's stack", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend })
      const undeclared = yield* Effect.exit(Pool.apply(pool, T.workerThrowsWithStack, ["nope"]))
      const e = failureOf(undeclared) as Error
      expect(e).toBeInstanceOf(TypeError)
      expect(e.message).toBe("nope")
      expect(e.stack).toContain("workerThrowsWithStack")
      expect(e.stack).toContain("pool-tasks.ts")
      // A declared error class arrives as a typed failure; map fails with it.
      const declared = yield* Effect.exit(Pool.map(pool, T.failOnDeclared, range(10)))
      expect(Exit.isFailure(declared) && declared.cause.reasons.some(Cause.isFailReason)).toBe(true)
      expect(failureOf(declared)).toBeInstanceOf(T.BadValue)
      expect((failureOf(declared) as T.BadValue).value).toBe(5)
      // Effect tasks: typed errors arrive typed.
      const rejected = failureOf(yield* Effect.exit(Pool.map(pool, FX.effectReject, range(5))))
      expect(rejected).toBeInstanceOf(FX.Rejected)
    })))

  it.live("a worker dying mid-task fails exactly its tasks with WorkerCrashed; the rest complete", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend })
      const others = []
      for (let i = 0; i < 20; i++) others.push(yield* Pool.applyAsync(pool, T.sleepThen, [30, i]))
      const exit7 = yield* Effect.exit(Pool.apply(pool, T.exitAfter, [20, 7]))
      expect(failureOf(exit7)).toMatchObject({ _tag: "PoolError", reason: "WorkerCrashed", exitCode: 7 })
      const uncaught = failureOf(yield* Effect.exit(Pool.apply(pool, T.uncaughtInCallback, [])))
      expect(uncaught).toMatchObject({ _tag: "PoolError", reason: "WorkerCrashed" })
      expect((uncaught as Pool.PoolError).exitCode).not.toBe(0)
      if (backend === "process") {
        const killed = failureOf(yield* Effect.exit(Pool.apply(pool, T.selfKill, [])))
        expect(killed).toMatchObject({ _tag: "PoolError", reason: "WorkerCrashed", signal: "SIGKILL", exitCode: -9 })
      }
      for (const [i, r] of others.entries()) {
        const v = yield* Effect.exit(r.get())
        // Tasks that shared a worker with a crash fail typed; all others succeed.
        if (Exit.isSuccess(v)) expect(v.value).toBe(i)
        else expect(failureOf(v)).toMatchObject({ reason: "WorkerCrashed" })
      }
      expect(yield* Pool.map(pool, T.square, range(20))).toEqual(range(20).map((x) => x * x))
      const stats = yield* Pool.stats(pool)
      expect(stats.workersCrashed).toBeGreaterThanOrEqual(backend === "process" ? 3 : 2)
      expect(stats.workers).toBe(2)
    })))

  it.live("an argument or result that cannot be serialised fails that task only; workers are kept", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend })
      yield* Pool.map(pool, T.square, range(4))
      const before = (yield* Pool.stats(pool)).workersStarted
      for (let i = 0; i < 20; i++) {
        const a = failureOf(yield* Effect.exit(Pool.apply(pool, T.identity, [{ f: () => i }])))
        expect(a).toMatchObject({ _tag: "SerializationError" })
        const r = failureOf(yield* Effect.exit(Pool.apply(pool, T.returnFunction, [])))
        expect(r).toMatchObject({ _tag: "SerializationError" })
      }
      // Mixed in one batch: only the bad ones fail.
      const mixed = []
      for (let i = 0; i < 30; i++) {
        mixed.push(yield* Pool.applyAsync(pool, T.identity, [i % 3 === 0 ? { f: () => i } : i]))
        mixed.push(yield* Pool.applyAsync(pool, i % 5 === 0 ? T.returnFunction : T.square, [i] as any))
      }
      for (let i = 0; i < 30; i++) {
        const a = yield* Effect.exit(mixed[2 * i]!.get())
        if (i % 3 === 0) expect(failureOf(a)).toMatchObject({ _tag: "SerializationError" })
        else expect(a).toEqual(Exit.succeed(i))
        const b = yield* Effect.exit(mixed[2 * i + 1]!.get())
        if (i % 5 === 0) expect(failureOf(b)).toMatchObject({ _tag: "SerializationError" })
        else expect(b).toEqual(Exit.succeed(i * i))
      }
      expect(yield* Pool.map(pool, T.square, range(10))).toEqual(range(10).map((x) => x * x))
      expect((yield* Pool.stats(pool)).workersStarted).toBe(before)
    })))

  it.live("maxTasksPerChild replaces workers; close + join with maxTasksPerChild 1 does not hang", () =>
    Effect.gen(function*() {
      const ids = yield* Effect.scoped(Effect.gen(function*() {
        const pool = yield* Pool.make({ processes: 2, backend, maxTasksPerChild: 1 })
        const rs = []
        for (let i = 0; i < 6; i++) rs.push(yield* Pool.applyAsync(pool, T.pid, []))
        const out = yield* Effect.forEach(rs, (r) => r.get())
        yield* Pool.close(pool)
        yield* Pool.join(pool)
        expect((yield* Pool.stats(pool)).workersStarted).toBeGreaterThanOrEqual(6)
        return out
      }))
      expect(new Set(ids).size).toBe(6)
    }))

  it.live("workers are named as Python's (ForkPoolWorker-N): <Backend>PoolWorker-<identity>, daemonic", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend, maxTasksPerChild: 1 })
      const seen = yield* Pool.map(pool, T.whoAmI, range(4).map(() => undefined as never), { chunksize: 1 })
      const prefix = backend === "thread" ? "ThreadPoolWorker-" : "ProcessPoolWorker-"
      for (const w of seen) {
        expect(w.name).toBe(`${prefix}${w.identity.join(":")}`)
        expect(w.daemon).toBe(true)
      }
      // Replacements take the next identities, as Python's counter does.
      expect(new Set(seen.map((w) => w.name)).size).toBe(4)
    })))

  it.live("PoolService.layer: one pool for the program, the same wherever it is asked for; closed and joined when the layer ends", () =>
    Effect.gen(function*() {
      const isWorker = (p: Process.Process<any, any>) => /PoolWorker-/.test(p.name)
      const before = (yield* Process.activeChildren()).filter(isWorker).length
      let pool: Pool.Pool | undefined
      const squares = Effect.gen(function*() {
        pool = yield* Pool.PoolService
        return yield* Pool.map(pool, T.square, range(4), { chunksize: 1 })
      })
      const result = yield* Effect.gen(function*() {
        const a = yield* squares
        expect(yield* Pool.PoolService).toBe(pool)
        expect((yield* Process.activeChildren()).filter(isWorker).length - before).toBe(2)
        return a
      }).pipe(Effect.provide(Pool.PoolService.layer({ processes: 2, backend })))
      expect(result).toEqual([0, 1, 4, 9])
      expect((yield* Process.activeChildren()).filter(isWorker).length).toBe(before)
      expect(failureOf(yield* Effect.exit(Pool.map(pool!, T.square, [1])))).toMatchObject({ reason: "Closed" })
      // Bad options fail the layer with the same typed error as `make`.
      const bad = yield* Effect.flip(Effect.provide(Pool.PoolService.use(Effect.succeed), Pool.PoolService.layer({ processes: 0 })))
      expect(bad.reason).toBe("InvalidOptions")
    }))

  it.live("activeChildren lists the pool's live workers, as Python's active_children() does", () =>
    Effect.gen(function*() {
      const isWorker = (p: Process.Process<any, any>) => /PoolWorker-/.test(p.name)
      const before = (yield* Process.activeChildren()).filter(isWorker).length
      yield* Effect.scoped(Effect.gen(function*() {
        const pool = yield* Pool.make({ processes: 2, backend })
        // Python's Pool(2) forks at once: each worker's pid is known before it has booted.
        const starting = (yield* Process.activeChildren()).filter(isWorker).slice(before)
        expect(starting.length).toBe(2)
        for (const w of starting) {
          if (backend === "thread") expect([w.pid, (w.threadId ?? 0) > 0]).toEqual([process.pid, true])
          else expect(w.pid !== undefined && w.pid !== process.pid && process.kill(w.pid, 0)).toBe(true)
        }
        yield* Pool.map(pool, T.square, range(4), { chunksize: 1 })
        // One worker may have run the whole map while the other still booted (both are live
        // children then, as in Python): compare once both are up.
        const ids = () => backend === "thread" ? pool.threadIds() : pool.pids()
        for (let waited = 0; ids().length < 2 && waited < 10_000; waited += 10) yield* Effect.sleep(10)
        const workers = (yield* Process.activeChildren()).filter(isWorker)
        expect(workers.length - before).toBe(2)
        for (const w of workers) {
          expect(w.daemon).toBe(true)
          expect(w.backend).toBe(backend)
          expect(w.isAlive()).toBe(true)
          expect(String(w)).toContain("PoolWorker-")
        }
        expect(workers.map((w) => backend === "thread" ? w.threadId : w.pid).sort()).toEqual([...ids()].sort())
        yield* Pool.close(pool)
        yield* Pool.join(pool)
        expect((yield* Process.activeChildren()).filter(isWorker).length).toBe(before)
      }))
    }))

  it.live("the initializer runs once per worker, replacements included", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend, initializer: T.init, initargs: ["hello"], maxTasksPerChild: 2 })
      const states = yield* Pool.map(pool, T.initState, range(8).map(() => undefined as never), { chunksize: 1 })
      for (const s of states) expect(s).toEqual({ initialized: 1, initValue: "hello" })
    })))
})

describe("Pool (supervision and lifecycle)", () => {
  it.live("invalid settings fail at construction", () =>
    Effect.gen(function*() {
      for (const bad of [{ processes: 0 }, { processes: -1 }, { processes: 1.5 }, { maxTasksPerChild: 0 }, { maxTasksPerChild: -2 }, { maxTasksPerChild: 0.5 }]) {
        const e = failureOf(yield* Effect.exit(Effect.scoped(Pool.make(bad))))
        expect(e).toMatchObject({ _tag: "PoolError", reason: "InvalidOptions" })
      }
    }))

  it.live("a closed or terminated pool refuses work; join needs close first", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 1 })
      expect(String(pool)).toBe("<Pool state=RUN pool_size=1>")
      expect(failureOf(yield* Effect.exit(Pool.join(pool)))).toMatchObject({ reason: "NotClosed" })
      yield* Pool.close(pool)
      expect(String(pool)).toBe("<Pool state=CLOSE pool_size=1>")
      expect(failureOf(yield* Effect.exit(Pool.apply(pool, T.square, [1])))).toMatchObject({ reason: "Closed" })
      expect(failureOf(yield* Effect.exit(Pool.map(pool, T.square, [1])))).toMatchObject({ reason: "Closed" })
      yield* Pool.join(pool)
      const p2 = yield* Pool.make({ processes: 1 })
      yield* Pool.terminate(p2)
      expect(inspect(p2)).toBe("<Pool state=TERMINATE pool_size=1>")
      expect(failureOf(yield* Effect.exit(Pool.apply(p2, T.square, [1])))).toMatchObject({ reason: "Terminated" })
    })))

  it.live("applyAsync / mapAsync / starmapAsync on a closed or terminated pool fail at submission (Python raises there), no callback", () =>
    Effect.scoped(Effect.gen(function*() {
      const called: Array<unknown> = []
      const callbacks = { callback: (v: unknown) => called.push(v), errorCallback: (e: unknown) => called.push(e) }
      const pool = yield* Pool.make({ processes: 1 })
      yield* Pool.close(pool)
      expect(failureOf(yield* Effect.exit(Pool.applyAsync(pool, T.square, [1], callbacks)))).toMatchObject({ reason: "Closed" })
      expect(failureOf(yield* Effect.exit(Pool.mapAsync(pool, T.square, [1], callbacks)))).toMatchObject({ reason: "Closed" })
      expect(failureOf(yield* Effect.exit(Pool.starmapAsync(pool, T.add, [[1, 2]], callbacks)))).toMatchObject({ reason: "Closed" })
      yield* Pool.join(pool)
      const p2 = yield* Pool.make({ processes: 1 })
      yield* Pool.terminate(p2)
      expect(failureOf(yield* Effect.exit(Pool.applyAsync(p2, T.square, [1], callbacks)))).toMatchObject({ reason: "Terminated" })
      expect(failureOf(yield* Effect.exit(Pool.mapAsync(p2, T.square, [1], callbacks)))).toMatchObject({ reason: "Terminated" })
      expect(called).toEqual([])
    })))

  it("async/await: after close, applyAsync / mapAsync / imap throw at the call, apply and map reject", async () => {
    const pool = new PromisePool({ processes: 1 })
    pool.close()
    expect(() => pool.applyAsync(T.square, [1])).toThrow(/Pool not running/)
    expect(() => pool.mapAsync(T.square, [1])).toThrow(/Pool not running/)
    expect(() => pool.starmapAsync(T.add, [[1, 2]])).toThrow(/Pool not running/)
    expect(() => pool.imap(T.square, [1])).toThrow(/Pool not running/)
    expect(() => pool.imapUnordered(T.square, [1])).toThrow(/Pool not running/)
    const apply = pool.apply(T.square, [1])
    await expect(apply).rejects.toMatchObject({ reason: "Closed" })
    await expect(pool.map(T.square, [1])).rejects.toMatchObject({ reason: "Closed" })
    await pool.join()
  })

  it.live("workers that cannot boot fail the calls with BootFailed after bounded retries", () =>
    Effect.scoped(Effect.gen(function*() {
      const t0 = Date.now()
      const pool = yield* Pool.make({ processes: 2, initializer: B.brokenInit, maxBootAttempts: 3, bootBackoff: 20 })
      const e = failureOf(yield* Effect.exit(Pool.map(pool, T.square, range(10))))
      expect(e).toMatchObject({ _tag: "PoolError", reason: "BootFailed" })
      expect(Date.now() - t0).toBeLessThan(15_000)
      const s = yield* Pool.stats(pool)
      expect(s.workersStarted).toBeLessThanOrEqual(4)
      // Later calls fail at once, no respawn loop.
      expect(failureOf(yield* Effect.exit(Pool.apply(pool, T.square, [1])))).toMatchObject({ reason: "BootFailed" })
      yield* Effect.sleep(300)
      expect((yield* Pool.stats(pool)).workersStarted).toBe(s.workersStarted)
    })))

  it.live("a retry still waiting out its back-off when the pool gives up starts no worker", () =>
    Effect.scoped(Effect.gen(function*() {
      // The first two boots fail together; their retries wait 200 and 400 ms. The first retry
      // fails too, the third failure in a row: the pool gives up while the second still waits.
      const pool = yield* Pool.make({ processes: 2, initializer: B.brokenInit, maxBootAttempts: 3, bootBackoff: 200 })
      const e = failureOf(yield* Effect.exit(Pool.map(pool, T.square, range(4))))
      expect(e).toMatchObject({ _tag: "PoolError", reason: "BootFailed" })
      const started = (yield* Pool.stats(pool)).workersStarted
      yield* Effect.sleep(500)
      expect((yield* Pool.stats(pool)).workersStarted).toBe(started)
    })))

  it.live("terminate during a boot retry's back-off starts no worker, and the pool's scope closes at once", () =>
    Effect.gen(function*() {
      const before = (yield* Process.activeChildren()).length
      let started = 0
      let terminatedAt = 0
      const pool = yield* Effect.scoped(Effect.gen(function*() {
        const pool = yield* Pool.make({ processes: 2, initializer: B.brokenInit, maxBootAttempts: 5, bootBackoff: 1000 })
        for (let waited = 0; (yield* Pool.stats(pool)).workersStarted < 2 && waited < 5000; waited += 10) yield* Effect.sleep(10)
        // Both first boots fail at once; their retries wait 1 and 2 s.
        yield* Effect.sleep(100)
        started = (yield* Pool.stats(pool)).workersStarted
        yield* Pool.terminate(pool)
        terminatedAt = Date.now()
        return pool
      }))
      expect(Date.now() - terminatedAt).toBeLessThan(500)
      // Past the first retry's back-off (the old way, a worker started then).
      yield* Effect.sleep(1500)
      expect((yield* Pool.stats(pool)).workersStarted).toBe(started)
      expect((yield* Process.activeChildren()).length).toBe(before)
    }))

  it.live("a task whose module throws at import fails with TaskLoadFailed; the pool keeps working", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 1 })
      const e = failureOf(yield* Effect.exit(Pool.apply(pool, B.brokenTask, [1])))
      expect(e).toMatchObject({ _tag: "PoolError", reason: "TaskLoadFailed" })
      expect(yield* Pool.apply(pool, T.square, [3])).toBe(9)
    })))

  it.live("a worker out of memory (resourceLimits) fails its task with WorkerCrashed and is replaced", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 1, worker: { resourceLimits: { maxOldGenerationSizeMb: 32 } } })
      const e = failureOf(yield* Effect.exit(Pool.apply(pool, T.eatMemory, [])))
      expect(e).toMatchObject({ _tag: "PoolError", reason: "WorkerCrashed" })
      expect(yield* Pool.apply(pool, T.square, [5])).toBe(25)
    })))

  it.live("interrupting a map interrupts Effect tasks inside the workers and drops queued ones", () =>
    Effect.scoped(Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pool-int-"))
      // A generous grace: the Effect tasks must stop cooperatively, without replacing workers,
      // even on a loaded machine.
      const pool = yield* Pool.make({ processes: 2, interruptGrace: 10_000 })
      yield* Pool.map(pool, FX.effectSquare, [1, 2])
      const files = range(6).map((i) => path.join(dir, `m${i}`))
      const fiber = yield* Effect.forkChild(Pool.starmap(pool, FX.effectSleep, files.map((f) => [10_000, f] as [number, string]), { chunksize: 1 }))
      yield* Effect.sleep(400)
      yield* Fiber.interrupt(fiber)
      for (let i = 0; i < 500 && files.filter((f) => fs.existsSync(f)).length < 2; i++) yield* Effect.sleep(20)
      const marked = files.filter((f) => fs.existsSync(f))
      expect(marked.length).toBeGreaterThanOrEqual(2)
      const s = yield* Pool.stats(pool)
      expect(s.queued).toBe(0)
      expect(s.running).toBe(0)
      expect(s.workersStarted).toBe(2)
      expect(yield* Pool.apply(pool, T.square, [2])).toBe(4)
      fs.rmSync(dir, { recursive: true, force: true })
    })))

  it.live("a timeout around a CPU-bound map stops it by replacing the worker", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 1, interruptGrace: 100 })
      yield* Pool.apply(pool, T.square, [1])
      const before = pool.threadIds()
      const t0 = Date.now()
      const r = yield* Effect.exit(Effect.timeout(Pool.map(pool, T.spin, [20_000, 20_000]), 300))
      expect(Exit.isFailure(r)).toBe(true)
      expect(yield* Pool.apply(pool, T.square, [6])).toBe(36)
      expect(Date.now() - t0).toBeLessThan(5_000)
      expect(pool.threadIds()).not.toEqual(before)
    })))

  it.live.each(["thread", "process"] as const)("only the task that kills a worker fails: tasks sent ahead to it or batched with it complete (%s)", (backend) =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 1, backend })
      const rs = []
      for (const x of [1, 2, 3, 4, 5]) rs.push(yield* Pool.applyAsync(pool, T.fragile, [x]))
      const outcomes = []
      for (const r of rs) outcomes.push(yield* Effect.match(r.get(), { onFailure: (e) => (e as any).reason, onSuccess: (v) => v }))
      expect(outcomes).toEqual([10, 20, "WorkerCrashed", 40, 50])
      expect(yield* Pool.map(pool, T.fragile, [6, 7])).toEqual([60, 70])
    })))

  it.live("a worker runs one task at a time, even async ones sent ahead to it", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 1 })
      const rs = []
      for (let i = 0; i < 4; i++) rs.push(yield* Pool.applyAsync(pool, T.span, [60]))
      const spans = [] as Array<[number, number]>
      for (const r of rs) spans.push((yield* r.get()) as [number, number])
      spans.sort((a, b) => a[0] - b[0])
      for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1])
    })))

  it.live("the per-task timeout counts from when the task starts, not from submission", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 1, taskTimeout: 1_500, interruptGrace: 50 })
      yield* Pool.apply(pool, T.square, [1])
      // 5 × 400 ms queued behind each other: the last starts ~1,600 ms after submission, past
      // the timeout, while each runs well within it (a wide margin for a loaded machine).
      const t0 = Date.now()
      const rs = []
      for (let i = 0; i < 5; i++) rs.push(yield* Pool.applyAsync(pool, T.spin, [400]))
      for (const r of rs) expect(yield* r.get()).toBe(400)
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1_950)
      const e = failureOf(yield* Effect.exit(Pool.apply(pool, T.spin, [5_000])))
      expect(e).toMatchObject({ _tag: "PoolError", reason: "TaskTimeout" })
      expect(yield* Pool.apply(pool, T.square, [4])).toBe(16)
    })))

  it.live("imap is lazy with bounded read-ahead; abandoning it cancels the rest", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2 })
      let pulled = 0
      function* input() {
        for (let i = 0; i < 10_000; i++) {
          pulled++
          yield i
        }
      }
      const first = yield* Stream.runCollect(Stream.take(Pool.imap(pool, T.slowSquare, input(), { readAhead: 4 }), 3))
      expect([...first]).toEqual([0, 1, 4])
      expect(pulled).toBeLessThanOrEqual(10)
      const s = yield* Pool.stats(pool)
      expect(s.queued).toBe(0)
      yield* Effect.sleep(100)
      expect((yield* Pool.stats(pool)).running).toBe(0)
      expect(pulled).toBeLessThanOrEqual(10)
    })))

  it.live("terminate with 10,000 queued long tasks returns promptly; their results fail typed", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2 })
      const rs = []
      for (let i = 0; i < 10_000; i++) rs.push(yield* Pool.applyAsync(pool, T.sleepThen, [60_000, i]))
      yield* Effect.sleep(200)
      const t0 = Date.now()
      yield* Pool.terminate(pool)
      yield* Pool.join(pool)
      expect(Date.now() - t0).toBeLessThan(3_000)
      for (const r of [rs[0]!, rs[5_000]!, rs[9_999]!]) {
        expect(failureOf(yield* Effect.exit(r.get(1000)))).toMatchObject({ reason: "Terminated" })
      }
    })))

  it.live("scope close drains queued work (close + join); interruption terminates", () =>
    Effect.gen(function*() {
      let result: Pool.AsyncResult<unknown, any> | undefined
      yield* Effect.scoped(Effect.gen(function*() {
        const pool = yield* Pool.make({ processes: 1 })
        result = yield* Pool.applyAsync(pool, T.sleepThen, [200, "drained"])
      }))
      expect(result!.ready()).toBe(true)
      expect(yield* result!.get()).toBe("drained")
      let long: Pool.AsyncResult<unknown, any> | undefined
      const started = Date.now()
      const fiber = yield* Effect.forkChild(Effect.scoped(Effect.gen(function*() {
        const pool = yield* Pool.make({ processes: 1 })
        long = yield* Pool.applyAsync(pool, T.sleepThen, [30_000, "never"])
        return yield* Effect.never
      })))
      yield* Effect.sleep(300)
      yield* Fiber.interrupt(fiber)
      expect(Date.now() - started).toBeLessThan(5_000)
      expect(failureOf(yield* Effect.exit(long!.get(100)))).toMatchObject({ reason: "Terminated" })
    }))

  it.live("chaos: 2,000 tasks while 20+ workers are killed; every task settles exactly once", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend: "process" })
      const settled = new Map<number, number>()
      const rs = []
      for (let i = 0; i < 2_000; i++) {
        const bump = () => settled.set(i, (settled.get(i) ?? 0) + 1)
        rs.push(yield* Pool.applyAsync(pool, T.sleepThen, [1 + (i % 4), i], { callback: bump, errorCallback: bump }))
      }
      let kills = 0
      while (kills < 20) {
        yield* Effect.sleep(40 + Math.floor(Math.random() * 60))
        const pids = pool.pids()
        if (pids.length === 0) continue
        try {
          process.kill(pids[Math.floor(Math.random() * pids.length)]!, "SIGKILL")
          kills++
        } catch {
          // already gone
        }
      }
      let ok = 0
      let crashed = 0
      for (const [i, r] of rs.entries()) {
        const exit = yield* Effect.exit(r.get(30_000))
        if (Exit.isSuccess(exit)) {
          expect(exit.value).toBe(i)
          ok++
        } else {
          expect(failureOf(exit)).toMatchObject({ _tag: "PoolError", reason: "WorkerCrashed" })
          crashed++
        }
      }
      expect(ok + crashed).toBe(2_000)
      expect(settled.size).toBe(2_000)
      for (const n of settled.values()) expect(n).toBe(1)
      expect(kills).toBeGreaterThanOrEqual(20)
    })))

  it.live("stats count tasks and time distributions", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2 })
      yield* Pool.map(pool, T.square, range(100), { chunksize: 10 })
      yield* Effect.exit(Pool.apply(pool, T.failOn, [5]))
      const s = yield* Pool.stats(pool)
      expect(s.tasksDone).toBe(101)
      expect(s.tasksFailed).toBe(1)
      expect(s.queued).toBe(0)
      expect(s.running).toBe(0)
      expect(s.runTime.count).toBeGreaterThanOrEqual(10)
      expect(s.waitTime.count).toBe(11)
      expect(s.runTime.p50).toBeGreaterThan(0)
    })))
})

describe("Pool (scheduling of long calls)", () => {
  it.live("long calls are not queued behind each other on one worker, so the tail of a map spreads over idle workers", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2 })
      // Calls of ~60 ms: after the first ones finish, each worker gets one call at a time.
      yield* Pool.starmap(pool, T.sleepThen, [[60, 0], [60, 1]], { chunksize: 1 })
      const fiber = yield* Effect.forkChild(Pool.starmap(pool, T.sleepThen, Array.from({ length: 8 }, (_, i) => [60, i] as const), { chunksize: 1 }))
      let most = 0
      for (let i = 0; i < 20; i++) {
        yield* Effect.sleep("15 millis")
        most = Math.max(most, Pool.statsUnsafe(pool).running)
      }
      expect(most).toBe(2)
      expect(yield* Fiber.join(fiber)).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    })), 20_000)

  it.live("items of a few ms each, queued twice over for every worker: one more waits on each worker, so none waits for a round trip between items", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2 })
      // Items of ~5 ms (long calls: over 2 ms), known after more calls than there are workers.
      yield* Pool.starmap(pool, T.sleepThen, Array.from({ length: 4 }, (_, i): [number, number] => [5, i]), { chunksize: 1 })
      const items = Array.from({ length: 60 }, (_, i): [number, number] => [5, i])
      const fiber = yield* Effect.forkChild(Pool.starmap(pool, T.sleepThen, items, { chunksize: 1 }))
      let most = 0
      for (let i = 0; i < 20 && most < 4; i++) {
        yield* Effect.sleep("5 millis")
        most = Math.max(most, Pool.statsUnsafe(pool).running)
      }
      expect(most).toBe(4)
      expect(yield* Fiber.join(fiber)).toEqual(items.map(([, i]) => i))
    })), 20_000)

  it.live("map's default chunks: Python's size for items not known to be long, one item each once they are", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2 })
      const units = () => Pool.statsUnsafe(pool).runTime.count
      const items = Array.from({ length: 24 }, (_, i): [number, number] => [20, i])
      // First map: nothing known yet, ceil(24 / 8) = 3 items per chunk.
      expect(yield* Pool.starmap(pool, T.sleepThen, items)).toEqual(items.map(([, i]) => i))
      expect(units()).toBe(8)
      // Items took ~20 ms each: now one per chunk.
      expect(yield* Pool.starmap(pool, T.sleepThen, items)).toEqual(items.map(([, i]) => i))
      expect(units()).toBe(8 + 24)
      // A given chunksize is kept; short tasks keep Python's default.
      yield* Pool.starmap(pool, T.sleepThen, items, { chunksize: 6 })
      expect(units()).toBe(8 + 24 + 4)
      yield* Pool.map(pool, T.square, Array.from({ length: 80 }, (_, i) => i))
      expect(units()).toBe(8 + 24 + 4 + 8)
    })), 20_000)

  it.live("a task's first call interrupted while it waits in the worker: the next call of that task still runs", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 1 })
      const busy = yield* Effect.forkChild(Pool.starmap(pool, T.sleepThen, [[300, "done"]], { chunksize: 1 }))
      yield* Effect.sleep("50 millis")
      // Sent behind the running call (two calls per worker), then abandoned before it starts.
      const first = yield* Effect.exit(Effect.timeout(Pool.apply(pool, T.square, [3]), "50 millis"))
      expect(Exit.isFailure(first)).toBe(true)
      expect(yield* Fiber.join(busy)).toEqual(["done"])
      expect(yield* Pool.apply(pool, T.square, [4])).toBe(16)
      expect(yield* Pool.map(pool, T.square, [1, 2, 3])).toEqual([1, 4, 9])
    })), 20_000)

  it.live("with maxTasksPerChild a chunk stays one task: long items keep Python's chunk size", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, maxTasksPerChild: 100 })
      const items = Array.from({ length: 24 }, (_, i): [number, number] => [20, i])
      yield* Pool.starmap(pool, T.sleepThen, items)
      yield* Pool.starmap(pool, T.sleepThen, items)
      expect(Pool.statsUnsafe(pool).runTime.count).toBe(16)
    })), 20_000)
})

describe("Pool (async/await facade)", () => {
  it("await using, applyAsync callbacks, imap as an async iterable, break cancels", async () => {
    let disposedPool: PromisePool | undefined
    {
      await using pool = new PromisePool({ processes: 2 })
      disposedPool = pool
      expect(`${pool}`).toBe("<Pool state=RUN pool_size=2>")
      expect(await pool.map(T.square, [1, 2, 3])).toEqual([1, 4, 9])
      expect(await pool.starmap(T.add, [[1, 2]])).toEqual([3])
      expect(await pool.apply(T.square, [5])).toBe(25)
      const seen: Array<number> = []
      const r = pool.applyAsync(T.square, [6], { callback: (v) => seen.push(v) })
      expect(await r.get(5_000)).toBe(36)
      expect(seen).toEqual([36])
      expect(r.successful()).toBe(true)
      await expect(pool.apply(T.workerThrowsWithStack, ["facade"])).rejects.toBeInstanceOf(TypeError)
      const out: Array<number> = []
      for await (const y of pool.imap(T.slowSquare, range(1_000))) {
        out.push(y)
        if (out.length === 3) break
      }
      expect(out).toEqual([0, 1, 4])
      const s = pool.stats()
      expect(s.queued).toBe(0)
      const un: Array<number> = []
      for await (const y of pool.imapUnordered(T.square, range(20), { chunksize: 4 })) un.push(y)
      expect(un.sort((a, b) => a - b)).toEqual(range(20).map((x) => x * x))
      const ma = pool.mapAsync(T.square, [2, 3])
      expect(await ma.get()).toEqual([4, 9])
      await expect(pool.applyAsync(T.sleepThen, [2_000, 1]).get(100)).rejects.toMatchObject({ reason: "Timeout" })
    }
    expect(disposedPool.state).toBe("closed")
    expect(disposedPool.stats().workers).toBe(0)
  })
})
