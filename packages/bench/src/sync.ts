/**
 * Synchronisation benchmarks, side by side with Python's multiprocessing (python3):
 * - uncontended Lock acquire+release, in a worker thread and in the main process, through three
 *   APIs: the Effect API (`yield* Lock.acquire` / `yield* Lock.release` in `Effect.gen`), the
 *   one-step Effect combinator for synchronous critical sections (`Lock.withLockSync`), and the
 *   fastest API (the synchronous `Lock.acquireUnsafe(lock, { block: false })` /
 *   `Lock.releaseUnsafe`), vs Python's `multiprocessing.Lock` in one process; plus Effect's own
 *   floor (two `yield* Effect.void` per iteration, no lock) for scale;
 * - two processes contending 100,000 times each (Effect API), thread and process backends, vs
 *   Python (fork): both peers start their loops together from a gate (an Event), and the time is
 *   from the first loop's start to the last loop's end, so worker start-up is not counted;
 * - an uncontended acquire+release from a process-backend child vs a mailbox round trip (an
 *   `Actor.ask` echo to an actor in the parent, from the same child).
 *
 *   node_modules/.bin/node packages/bench/src/sync.ts
 */
import { Event, Lock, Process, Semaphore } from "@multiproc/primitives"
import { Actor, Task } from "@multiproc/runtime"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schema from "effect/Schema"
import { fmt, median, python, table } from "./harness.ts"

const Echo = Schema.Struct({ op: Schema.Literal("echo") })

type Api = "effect" | "withLockSync" | "unsafe" | "floor"

/** ns per uncontended acquire+release pair through `api`, `n` pairs, in the calling process. */
export const uncontended = Task.make(import.meta, function uncontended(lock: Lock.Lock, api: Api, n: number, rounds: number) {
  return Effect.gen(function*() {
    const out: Array<number> = []
    let inside = 0
    const critical = () => inside++
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now()
      if (api === "effect") {
        for (let i = 0; i < n; i++) {
          yield* Lock.acquire(lock)
          yield* Lock.release(lock)
        }
      } else if (api === "floor") {
        for (let i = 0; i < n; i++) {
          yield* Effect.void
          yield* Effect.void
        }
      } else if (api === "withLockSync") {
        for (let i = 0; i < n; i++) yield* Lock.withLockSync(lock, critical)
      } else {
        for (let i = 0; i < n; i++) {
          if (!Lock.acquireUnsafe(lock, { block: false })) throw new Error("an uncontended lock was not free")
          Lock.releaseUnsafe(lock)
        }
      }
      out.push(((performance.now() - t0) * 1e6) / n)
    }
    return out
  })
})

/** `n` acquire+release pairs (contended by a sibling), started by `go`; [start, end] in epoch ms. */
export const contend = Task.make(import.meta, function contend(lock: Lock.Lock, ready: Semaphore.Semaphore, go: Event.Event, n: number) {
  return Effect.gen(function*() {
    yield* Semaphore.release(ready)
    yield* Event.wait(go)
    const t0 = performance.timeOrigin + performance.now()
    for (let i = 0; i < n; i++) {
      yield* Lock.acquire(lock)
      yield* Lock.release(lock)
    }
    return [t0, performance.timeOrigin + performance.now()] as const
  })
})

/** µs per round: an acquire+release pair vs an `Actor.ask` echo, alternating batches. */
export const roundTrips = Task.make(import.meta, function roundTrips(lock: Lock.Lock, echo: Actor.ActorRef<{ op: "echo" }>, n: number, rounds: number) {
  return Effect.gen(function*() {
    const lockUs: Array<number> = []
    const echoUs: Array<number> = []
    for (let r = 0; r < rounds + 1; r++) {
      let t0 = performance.now()
      for (let i = 0; i < n; i++) {
        yield* Lock.acquire(lock)
        yield* Lock.release(lock)
      }
      const a = ((performance.now() - t0) * 1e3) / n
      t0 = performance.now()
      for (let i = 0; i < n; i++) yield* Actor.ask(echo, { op: "echo" })
      const b = ((performance.now() - t0) * 1e3) / n
      if (r > 0) {
        lockUs.push(a)
        echoUs.push(b)
      }
    }
    return { lockUs, echoUs }
  })
})

const PY = String.raw`
import multiprocessing as mp, time, json, statistics
def work(l, n, ready, go, q):
    ready.release()
    go.wait()
    t = time.time()
    for _ in range(n):
        l.acquire(); l.release()
    q.put((t, time.time()))
if __name__ == "__main__":
    ctx = mp.get_context("fork")
    l = ctx.Lock()
    N = 1000000
    unc = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(N):
            l.acquire(); l.release()
        unc.append((time.perf_counter() - t) * 1e9 / N)
    cont = []
    for _ in range(3):
        q, ready, go = ctx.Queue(), ctx.Semaphore(0), ctx.Event()
        ps = [ctx.Process(target=work, args=(l, 100000, ready, go, q)) for _ in range(2)]
        for p in ps: p.start()
        for p in ps: ready.acquire()
        go.set()
        spans = [q.get() for _ in ps]
        for p in ps: p.join()
        cont.append((max(e for _, e in spans) - min(s for s, _ in spans)) * 1e3)
    print(json.dumps({"unc": statistics.median(unc), "cont": statistics.median(cont)}))
`

const API_LABEL: Record<Api, string> = {
  effect: "Effect API: yield* Lock.acquire + yield* Lock.release",
  withLockSync: "Effect API, one step: yield* Lock.withLockSync(lock, f)",
  unsafe: "fastest API: Lock.acquireUnsafe({ block: false }) + Lock.releaseUnsafe",
  floor: "no lock, Effect's own floor: yield* Effect.void twice"
}

if (import.meta.main) {
  const rows: Array<{ scenario: string; [k: string]: string | number }> = []
  const py = await python(PY)
  await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const lock = yield* Lock.make()

    // 1. uncontended pairs
    for (const api of ["effect", "withLockSync", "unsafe", "floor"] as const) {
      const thread = yield* Process.run({ target: uncontended, args: [lock, api, 1_000_000, 5], backend: "thread" })
      const main = yield* uncontended(lock, api, 1_000_000, 5)
      rows.push({ scenario: `uncontended pair, worker thread, ${API_LABEL[api]} (ns)`, multiproc: fmt(median(thread)), python: fmt(py.unc), ratio: fmt(median(thread) / py.unc, 2) })
      rows.push({ scenario: `uncontended pair, main process, ${API_LABEL[api]} (ns)`, multiproc: fmt(median(main)), python: fmt(py.unc), ratio: fmt(median(main) / py.unc, 2) })
    }

    // 2. two processes contending 100,000 times each, from a common start
    for (const backend of ["thread", "process"] as const) {
      const times: Array<number> = []
      for (let r = 0; r < 3; r++) {
        const ready = yield* Semaphore.make(0)
        const go = yield* Event.make()
        const runs = yield* Effect.forkChild(
          Effect.all([0, 1].map(() => Process.run({ target: contend, args: [lock, ready, go, 100_000], backend })), { concurrency: "unbounded" })
        )
        yield* Semaphore.acquire(ready)
        yield* Semaphore.acquire(ready)
        yield* Event.set(go)
        const spans = yield* Fiber.join(runs)
        times.push(Math.max(...spans.map((s) => s[1])) - Math.min(...spans.map((s) => s[0])))
      }
      rows.push({ scenario: `2 processes × 100,000 contended pairs, ${backend} backend, Effect API (ms, from a common start)`, multiproc: fmt(median(times)), python: fmt(py.cont), ratio: fmt(median(times) / py.cont, 2) })
    }

    // 3. process-backend round trip vs a mailbox round trip
    const echo = yield* Actor.make(Echo, { receive: (_, req) => req.reply("echo") })
    const rt = yield* Process.run({ target: roundTrips, args: [lock, echo, 5_000, 5], backend: "process" })
    const l = median(rt.lockUs)
    const e = median(rt.echoUs)
    rows.push({ scenario: "process backend: acquire+release vs Actor.ask echo (µs)", multiproc: fmt(l, 2), python: `echo ${fmt(e, 2)}`, ratio: fmt(l / e, 2) })
  })))
  console.log(table("sync: Lock (multiproc vs Python multiprocessing; ratio < 1 is faster)", rows))
}
