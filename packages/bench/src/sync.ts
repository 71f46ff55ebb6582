/**
 * Synchronisation benchmarks, side by side with Python's multiprocessing (python3):
 * - uncontended Lock acquire+release, in a worker thread (shared-memory fast path) and in the main
 *   process, vs Python's `multiprocessing.Lock` in one process;
 * - two processes contending 100,000 times each, thread and process backends, vs Python;
 * - an uncontended acquire+release from a process-backend child vs a mailbox round trip (an
 *   `Actor.ask` echo to an actor in the parent, from the same child).
 *
 *   node_modules/.bin/node packages/bench/src/sync.ts
 */
import { Lock, Process } from "@multiproc/primitives"
import { Actor, Task } from "@multiproc/runtime"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { fmt, median, python, table } from "./harness.ts"

const Echo = Schema.Struct({ op: Schema.Literal("echo") })

/** ns per uncontended acquire+release pair, `n` pairs, measured in the calling process. */
export const uncontended = Task.make(import.meta, function uncontended(lock: Lock.Lock, n: number, rounds: number) {
  return Effect.gen(function*() {
    const out: Array<number> = []
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now()
      for (let i = 0; i < n; i++) {
        yield* Lock.acquire(lock)
        yield* Lock.release(lock)
      }
      out.push(((performance.now() - t0) * 1e6) / n)
    }
    return out
  })
})

/** ms for `n` acquire+release pairs (contended by a sibling). */
export const contend = Task.make(import.meta, function contend(lock: Lock.Lock, n: number) {
  return Effect.gen(function*() {
    const t0 = performance.now()
    for (let i = 0; i < n; i++) {
      yield* Lock.acquire(lock)
      yield* Lock.release(lock)
    }
    return performance.now() - t0
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
def work(l, n, q):
    t = time.perf_counter()
    for _ in range(n):
        l.acquire(); l.release()
    q.put((time.perf_counter() - t) * 1e3)
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
        q = ctx.Queue()
        t = time.perf_counter()
        ps = [ctx.Process(target=work, args=(l, 100000, q)) for _ in range(2)]
        for p in ps: p.start()
        for p in ps: p.join()
        cont.append((time.perf_counter() - t) * 1e3)
    print(json.dumps({"unc": statistics.median(unc), "cont": statistics.median(cont)}))
`

if (import.meta.main) {
  const rows: Array<{ scenario: string; [k: string]: string | number }> = []
  const py = await python(PY)
  await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const lock = yield* Lock.make()

    // 1. uncontended pairs
    const main = yield* uncontended(lock, 1_000_000, 5)
    const thread = yield* Process.run({ target: uncontended, args: [lock, 1_000_000, 5], backend: "thread" })
    rows.push({ scenario: "uncontended acquire+release, worker thread (ns/pair)", multiproc: fmt(median(thread)), python: fmt(py.unc), ratio: fmt(median(thread) / py.unc, 2) })
    rows.push({ scenario: "uncontended acquire+release, main process (ns/pair)", multiproc: fmt(median(main)), python: fmt(py.unc), ratio: fmt(median(main) / py.unc, 2) })

    // 2. two processes contending 100,000 times each
    for (const backend of ["thread", "process"] as const) {
      const times: Array<number> = []
      for (let r = 0; r < 3; r++) {
        const t0 = performance.now()
        yield* Effect.all([0, 1].map(() => Process.run({ target: contend, args: [lock, 100_000], backend })), { concurrency: "unbounded" })
        times.push(performance.now() - t0)
      }
      rows.push({ scenario: `2 processes × 100,000 contended pairs, ${backend} backend (ms, incl. start)`, multiproc: fmt(median(times)), python: fmt(py.cont), ratio: fmt(median(times) / py.cont, 2) })
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
