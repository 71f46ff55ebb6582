// CPython's _TestPool, _TestPoolWorkerErrors and _TestPoolWorkerLifetime
// (Lib/test/_test_multiprocessing.py), ported where they add to Pool.test.ts.
import { describe, expect, it } from "@effect/vitest"
import { Pool } from "@multiproc/primitives"
import { Pool as PromisePool } from "@multiproc/primitives/promise"
import { Effect, Exit, Stream } from "effect"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import * as C from "./fixtures/pool-cpython-tasks.ts"
import * as T from "./fixtures/pool-tasks.ts"
import { failureOf } from "./failure.ts"

const backends = ["thread", "process"] as const

v8.setFlagsFromString("--expose-gc")
const gc = vm.runInNewContext("gc") as () => void

const range = (n: number) => Array.from({ length: n }, (_, i) => i)

class SayWhenError extends RangeError {}

/** Python's `exception_throwing_generator(total, when)`: `when === -1` throws before the first item. */
function* throwingGenerator(total: number, when: number) {
  if (when === -1) throw new SayWhenError("Somebody said when")
  for (let i = 0; i < total; i++) {
    if (i === when) throw new SayWhenError("Somebody said when")
    yield i
  }
}

/** Reads an async iterator item by item, as Python's `next(it)`, until it ends or throws. */
const drain = async <A>(it: AsyncIterator<A>): Promise<{ values: Array<A>; error: unknown }> => {
  const values: Array<A> = []
  try {
    for (;;) {
      const r = await it.next()
      if (r.done) return { values, error: undefined }
      values.push(r.value)
    }
  } catch (error) {
    return { values, error }
  }
}

describe.each(backends)("CPython _TestPool (%s backend)", (backend) => {
  it.live("test_map_async_callbacks: one call each, the callback with the list, the errorCallback with the error", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend })
      const calls: Array<unknown> = []
      const both = { callback: (v: unknown) => calls.push(v), errorCallback: (e: unknown) => calls.push(e) }
      yield* (yield* Pool.mapAsync(pool, C.toInt, ["1"], both)).wait()
      expect(calls).toEqual([[1]])
      yield* (yield* Pool.mapAsync(pool, C.toInt, ["a"], both)).wait()
      expect(calls).toHaveLength(2)
      expect(calls[1]).toBeInstanceOf(RangeError)
      const r = yield* Pool.starmapAsync(pool, T.add, [[1, 2], [3, 4]], both)
      yield* r.wait()
      expect(calls[2]).toEqual([3, 7])
    })))

  it.live("test_map_unplicklable: a map over arguments that cannot cross fails (it does not hang); the pool goes on", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend })
      const unsendable = { f: () => 1 }
      const e = failureOf(yield* Effect.exit(Pool.map(pool, T.identity, Array.from({ length: 10 }, () => unsendable))))
      expect(e).toMatchObject({ _tag: "SerializationError" })
      const e2 = failureOf(yield* Effect.exit(Pool.map(pool, T.identity, Array.from({ length: 10 }, () => unsendable), { chunksize: 3 })))
      expect(e2).toMatchObject({ _tag: "SerializationError" })
      expect(yield* Pool.map(pool, T.square, range(4))).toEqual([0, 1, 4, 9])
    })))

  it.live("test_map_chunksize / test_empty_iterable: empty input with a chunksize does not stall; every way", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 1, backend })
      expect(yield* (yield* Pool.mapAsync(pool, T.square, [], { chunksize: 1 })).get(1_000)).toEqual([])
      expect(yield* (yield* Pool.starmapAsync(pool, T.add, [], { chunksize: 1 })).get(1_000)).toEqual([])
      expect(yield* Pool.map(pool, T.square, [], { chunksize: 1 })).toEqual([])
      expect(yield* Pool.starmap(pool, T.add, [])).toEqual([])
      expect([...yield* Stream.runCollect(Pool.imap(pool, T.square, []))]).toEqual([])
      expect([...yield* Stream.runCollect(Pool.imapUnordered(pool, T.square, []))]).toEqual([])
      expect([...yield* Stream.runCollect(Pool.imap(pool, T.square, [], { chunksize: 4 }))]).toEqual([])
      yield* Pool.close(pool)
      yield* Pool.join(pool)
    })))

  it.live("test_map_handle_iterable_exception: the input's own error, also before its first item, again and again", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend })
      for (let i = 0; i < 2; i++) {
        const e = failureOf(yield* Effect.exit(Pool.map(pool, T.square, throwingGenerator(1, -1), { chunksize: 1 })))
        expect(e).toBeInstanceOf(SayWhenError)
      }
      expect(failureOf(yield* Effect.exit(Pool.map(pool, T.square, throwingGenerator(10, 3), { chunksize: 1 })))).toBeInstanceOf(SayWhenError)
      // Python's SpecialIterable: an iterator whose next() throws.
      const special = { [Symbol.iterator]: () => ({ next: (): IteratorResult<number> => { throw new SayWhenError() } }) }
      for (let i = 0; i < 2; i++) {
        expect(failureOf(yield* Effect.exit(Pool.map(pool, T.square, special, { chunksize: 1 })))).toBeInstanceOf(SayWhenError)
      }
      const ma = yield* Effect.exit(Effect.flatMap(Pool.mapAsync(pool, T.square, throwingGenerator(10, 3)), (r) => r.get()))
      expect(failureOf(ma)).toBeInstanceOf(SayWhenError)
      expect(yield* Pool.map(pool, T.square, range(3))).toEqual([0, 1, 4])
    })))

  it.live("test_imap_handle_iterable_exception: values before the bad item, then its error; at the start it is the first thing", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend })
      const collect = (stream: Stream.Stream<number, unknown>) =>
        Effect.gen(function*() {
          const got: Array<number> = []
          const exit = yield* Effect.exit(Stream.runForEach(stream, (y) => Effect.sync(() => got.push(y))))
          return { got, error: failureOf(exit) }
        })
      for (let i = 0; i < 2; i++) {
        const r = yield* collect(Pool.imap(pool, T.square, throwingGenerator(1, -1), { chunksize: 1 }))
        expect(r.got).toEqual([])
        expect(r.error).toBeInstanceOf(SayWhenError)
      }
      const one = yield* collect(Pool.imap(pool, T.square, throwingGenerator(10, 3), { chunksize: 1 }))
      expect(one).toEqual({ got: [0, 1, 4], error: expect.any(SayWhenError) })
      // Python loses the items of the chunk the error interrupted (4, 5, 6 with chunks of 4): all
      // items read before the error arrive here.
      for (const chunksize of [2, 4]) {
        const r = yield* collect(Pool.imap(pool, T.square, throwingGenerator(20, 7), { chunksize }))
        expect(r.got).toEqual(range(7).map((x) => x * x))
        expect(r.error).toBeInstanceOf(SayWhenError)
      }
    })))

  it.live("test_imap_unordered_handle_iterable_exception: the error arrives, each value at most once", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend })
      for (let i = 0; i < 2; i++) {
        const exit = yield* Effect.exit(Stream.runCollect(Pool.imapUnordered(pool, T.square, throwingGenerator(1, -1), { chunksize: 1 })))
        expect(failureOf(exit)).toBeInstanceOf(SayWhenError)
      }
      for (const [total, when, chunksize] of [[10, 3, 1], [20, 7, 2]] as const) {
        const got: Array<number> = []
        const exit = yield* Effect.exit(Stream.runForEach(
          Pool.imapUnordered(pool, T.square, throwingGenerator(total, when), { chunksize }),
          (y) => Effect.sync(() => got.push(y))
        ))
        expect(failureOf(exit)).toBeInstanceOf(SayWhenError)
        expect(new Set(got).size).toBe(got.length)
        for (const y of got) expect(range(when).map((x) => x * x)).toContain(y)
      }
    })))

  it("test_imap / test_imap_unordered / *_handle_iterable_exception (async/await): next() item by item, then done; the error at its place", async () => {
    await using pool = new PromisePool({ processes: 2, backend })
    const it10 = pool.imap(T.square, range(10))
    for (let i = 0; i < 10; i++) expect(await it10.next()).toEqual({ done: false, value: i * i })
    expect((await it10.next()).done).toBe(true)
    expect((await it10.next()).done).toBe(true)
    expect(await drain(pool.imap(T.square, range(1000), { chunksize: 100 }))).toEqual({ values: range(1000).map((x) => x * x), error: undefined })
    const un = await drain(pool.imapUnordered(T.square, range(1000), { chunksize: 100 }))
    expect(un.values.sort((a, b) => a - b)).toEqual(range(1000).map((x) => x * x))
    const first = await drain(pool.imap(T.square, throwingGenerator(1, -1), { chunksize: 1 }))
    expect(first).toEqual({ values: [], error: expect.any(SayWhenError) })
    const third = await drain(pool.imap(T.square, throwingGenerator(10, 3), { chunksize: 1 }))
    expect(third).toEqual({ values: [0, 1, 4], error: expect.any(SayWhenError) })
    const unordered = await drain(pool.imapUnordered(T.square, throwingGenerator(20, 7), { chunksize: 2 }))
    expect(unordered.error).toBeInstanceOf(SayWhenError)
    for (const y of unordered.values) expect(range(7).map((x) => x * x)).toContain(y)
    expect(await pool.map(T.square, [])).toEqual([])
    expect(await pool.mapAsync(T.square, [], { chunksize: 1 }).get(1_000)).toEqual([])
    expect(await drain(pool.imapUnordered(T.square, []))).toEqual({ values: [], error: undefined })
  })

  it.live("test_make_pool: Pool(3) has three workers at once; Pool(0) and Pool(-1) are refused", () =>
    Effect.scoped(Effect.gen(function*() {
      for (const n of [0, -1]) expect(failureOf(yield* Effect.exit(Pool.make(n)))).toMatchObject({ reason: "InvalidOptions" })
      const pool = yield* Pool.make({ processes: 3, backend })
      expect(pool.processes).toBe(3)
      expect((yield* Pool.stats(pool)).workers).toBe(3)
      yield* Pool.close(pool)
      yield* Pool.join(pool)
    })))

  it.live("test_traceback: the worker's error keeps its type and message, and its stack shows the line that threw", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 1, backend })
      const e = failureOf(yield* Effect.exit(Pool.apply(pool, C.throwsFromHere, []))) as Error
      expect(e.constructor).toBe(RangeError)
      expect(e.message).toBe("123")
      expect(e.stack).toContain("throwsFromHere")
      expect(e.stack).toContain("pool-cpython-tasks.ts")
      // An error of the input is not a remote one: the very object thrown, nothing attached.
      const thrown = new SayWhenError("local")
      const bad = { [Symbol.iterator]: () => ({ next: (): IteratorResult<number> => { throw thrown } }) }
      const local = failureOf(yield* Effect.exit(Pool.map(pool, T.square, bad, { chunksize: 1 })))
      expect(local).toBe(thrown)
      expect((local as Error).cause).toBeUndefined()
    })))

  it.live("test_map_no_failfast: a map whose items fail with 1 MiB errors fails with one of them; close + join then return", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend })
      const e = failureOf(yield* Effect.exit(Pool.map(pool, C.raiseLarge, [0, 100], { chunksize: 1 })))
      expect(e).toBeInstanceOf(RangeError)
      expect((e as Error).message.length).toBe(1 << 20)
      yield* Pool.close(pool)
      const joined = yield* Effect.exit(Effect.timeout(Pool.join(pool), "10 seconds"))
      expect(Exit.isSuccess(joined)).toBe(true)
    })))

  it.live("test_release_task_refs: the pool keeps neither the arguments of a finished map nor its results", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend })
      const refs: Array<WeakRef<object>> = []
      const make = () => range(10).map((i) => {
        const o = { i, payload: "x".repeat(100) }
        refs.push(new WeakRef(o))
        return o
      })
      // Only their WeakRefs are kept here (a loop in this generator would hold its last item).
      const track = (results: Array<unknown>) => results.forEach((r) => refs.push(new WeakRef(r as object)))
      let results: Array<unknown> | undefined = yield* Pool.map(pool, T.identity, make())
      track(results)
      let ar: Pool.AsyncResult<Array<unknown>, any> | undefined = yield* Pool.mapAsync(pool, T.identity, make(), { chunksize: 3 })
      yield* ar!.get()
      ar = undefined
      results = undefined
      yield* Effect.sleep(20)
      gc()
      yield* Effect.sleep(0)
      gc()
      expect(refs.flatMap((r, i) => r.deref() !== undefined ? [i] : [])).toEqual([])
    })))
})

describe.each(backends)("close() with an imap open (%s backend)", (backend) => {
  it("async/await: imap / imapUnordered called before close() give every result, as Python's (they failed with Closed); join waits for their tasks", async () => {
    const xs = range(30)
    const squares = xs.map((x) => x * x)
    async function* slowly() {
      for (const x of xs) {
        if (x % 10 === 0) await new Promise((r) => setTimeout(r, 5))
        yield x
      }
    }
    for (const unordered of [false, true]) {
      for (const input of [() => xs, () => xs.values(), slowly]) {
        // Closed at once after the call, before anything was read.
        const pool = new PromisePool({ processes: 2, backend })
        const it = unordered ? pool.imapUnordered(T.square, input(), { chunksize: 2 }) : pool.imap(T.square, input(), { chunksize: 2 })
        pool.close()
        const { values, error } = await drain(it)
        expect(error).toBeUndefined()
        expect(unordered ? values.sort((a, b) => a - b) : values).toEqual(squares)
        await pool.join()
      }
    }
    // Partly read, closed, then joined before the rest is read: the results wait in the iterator.
    const pool = new PromisePool({ processes: 2, backend })
    const it = pool.imap(T.square, slowly(), { readAhead: 2 })
    const first = await it.next()
    pool.close()
    await pool.join()
    const rest = await drain(it)
    expect([first.value, ...rest.values]).toEqual(squares)
    expect(rest.error).toBeUndefined()
  })

  it.live("Effect API: a running imap stream keeps its input after Pool.close; a stream first run after close fails Closed", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend })
      const got: Array<number> = []
      yield* Stream.runForEach(Pool.imap(pool, T.square, range(30), { readAhead: 2 }), (y) =>
        Effect.andThen(Effect.sync(() => got.push(y)), got.length === 1 ? Pool.close(pool) : Effect.void))
      expect(got).toEqual(range(30).map((x) => x * x))
      yield* Pool.join(pool)
      const late = failureOf(yield* Effect.exit(Stream.runCollect(Pool.imap(pool, T.square, [1]))))
      expect(late).toMatchObject({ reason: "Closed" })
    })))

  it("async/await: terminate() with an imap open fails the iteration with Terminated and stops reading an endless input", async () => {
    const pool = new PromisePool({ processes: 1, backend })
    let read = 0
    function* endless() {
      for (;;) {
        read++
        yield 1
      }
    }
    const it = pool.imap(T.sleepThen as any, (function*() {
      for (const _ of endless()) yield 30
    })())
    pool.close()
    await new Promise((r) => setTimeout(r, 50))
    // After close the rest is read as the workers get through it, a bounded backlog ahead of
    // them (it was read as fast as it yielded: tens of thousands of items in these 50 ms).
    expect(read).toBeLessThan(2000)
    await pool.terminate()
    const { error } = await drain(it)
    expect(error).toMatchObject({ reason: "Terminated" })
    const after = read
    await new Promise((r) => setTimeout(r, 50))
    expect(read).toBe(after)
  })
})

describe("apply / applyAsync without args (Python's args=())", () => {
  it.live("Effect API: a task that takes no arguments needs none; a task that does still must have them", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 1 })
      const a = yield* Pool.apply(pool, T.pid)
      expect(a).toMatch(/^\d+:\d+$/)
      const r = yield* Pool.applyAsync(pool, T.pid)
      expect(yield* r.get()).toBe(a)
      let called: unknown
      const r2 = yield* Pool.applyAsync(pool, T.pid, undefined, { callback: (v) => called = v })
      yield* r2.wait()
      expect(called).toBe(a)
      // Python's default (0 for wait): sqr(3) with its one optional argument left out.
      expect(yield* Pool.apply(pool, C.sqr, [3])).toBe(9)
      // @ts-expect-error a task with a required argument needs its args
      const missing = Pool.apply(pool, C.toInt)
      expect(missing).toBeDefined()
    })))

  it("async/await: pool.apply(pid), pool.applyAsync(pid)", async () => {
    await using pool = new PromisePool({ processes: 1 })
    const a = await pool.apply(T.pid)
    expect(a).toMatch(/^\d+:\d+$/)
    expect(await pool.applyAsync(T.pid).get()).toBe(a)
    let called: unknown
    await pool.applyAsync(T.pid, undefined, { callback: (v) => called = v }).wait()
    expect(called).toBe(a)
  })
})

describe("CPython _TestPool (async/await facade)", () => {
  it("test_context: a pool after its `await using` block is not running; join still returns", async () => {
    let escaped: PromisePool | undefined
    {
      await using p = new PromisePool(2)
      escaped = p
      expect(await p.mapAsync(T.square, range(10)).get()).toEqual(range(10).map((x) => x * x))
    }
    await escaped.join()
    expect(() => escaped.mapAsync(T.square, [1])).toThrow(/Pool not running/)
  })

  it("test_enter: a block that throws still leaves the pool closed; its queued work is not lost", async () => {
    let escaped: PromisePool | undefined
    let result: ReturnType<PromisePool["applyAsync"]> | undefined
    await expect((async () => {
      await using p = new PromisePool(1)
      escaped = p
      result = p.applyAsync(T.sleepThen, [50, "kept"])
      throw new Error("in the block")
    })()).rejects.toThrow("in the block")
    expect(escaped!.state).not.toBe("running")
    expect(() => escaped!.applyAsync(T.square, [1])).toThrow(/Pool not running/)
    await escaped!.join()
    expect(await result!.get(1_000)).toBe("kept")
  })
})

describe("CPython _TestPoolWorkerErrors / _TestPoolWorkerLifetime (process backend)", () => {
  it.live("test_async_error_callback / test_unpickleable_result: the errorCallback gets the error; no worker is lost", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend: "process" })
      yield* Pool.map(pool, T.square, range(2), { chunksize: 1 })
      const before = (yield* Pool.stats(pool)).workersStarted
      for (let i = 0; i < 20; i++) {
        let seen: unknown
        const r = yield* Pool.applyAsync(pool, T.returnFunction, [], { errorCallback: (e) => { seen = e } })
        const e = failureOf(yield* Effect.exit(r.get()))
        expect(e).toMatchObject({ _tag: "SerializationError" })
        expect(seen).toBe(e)
      }
      let keyError: unknown
      const r = yield* Pool.applyAsync(pool, T.failOn, [5], { errorCallback: (e) => { keyError = e } })
      expect(failureOf(yield* Effect.exit(r.get()))).toBeInstanceOf(T.BadValue)
      expect(keyError).toBeInstanceOf(T.BadValue)
      expect((yield* Pool.stats(pool)).workersStarted).toBe(before)
    })))

  it.live("test_pool_worker_lifetime: maxTasksPerChild 10, 40 tasks: right answers, new workers", () =>
    Effect.scoped(Effect.gen(function*() {
      const pool = yield* Pool.make({ processes: 2, backend: "process", maxTasksPerChild: 10 })
      const rs = []
      for (let i = 0; i < 40; i++) rs.push(yield* Pool.applyAsync(pool, C.sqr, [i]))
      for (const [j, r] of rs.entries()) expect(yield* r.get()).toBe(j * j)
      expect((yield* Pool.stats(pool)).workersStarted).toBeGreaterThanOrEqual(4)
      yield* Pool.close(pool)
      yield* Pool.join(pool)
    })))

  it.live("test_pool_maxtasksperchild_invalid: 0, -1, 0.5 and \"12\" are refused", () =>
    Effect.gen(function*() {
      for (const value of [0, -1, 0.5, "12"]) {
        const e = failureOf(yield* Effect.exit(Effect.scoped(Pool.make({ processes: 3, maxTasksPerChild: value as any }))))
        expect(e).toMatchObject({ _tag: "PoolError", reason: "InvalidOptions" })
      }
    }))
})
