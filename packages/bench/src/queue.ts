/**
 * Queue and Pipe benchmarks, side by side with Python's multiprocessing (python3) and raw
 * worker_threads postMessage:
 *   1. 100,000 small items (numbers and short strings) from a worker to its parent, with one
 *      `put`/`get` per item (the figure the target is about) and with putMany/getMany.
 *   2. Pipe ping-pong, 10,000 round trips.
 * Each peer keeps one warm worker and runs several rounds; the table shows medians.
 *   node packages/bench/src/queue.ts
 */
import { Pipe, Process, Queue } from "@multiproc/primitives"
import { Task } from "@multiproc/runtime"
import * as Effect from "effect/Effect"
import { fmt, median, python, table } from "./harness.ts"

const ITEMS = 100_000
const TRIPS = 10_000
const ROUNDS = 5

const item = (i: number): number | string => (i & 1 ? i : `s${i}`)

const CHUNK = 1_000
const MAX_GET = 4_096

/** Worker side of the queue benchmark: on each "go", put ITEMS items (one `put` each, or `putMany` of CHUNK). */
export const producer = Task.make(import.meta, function producer(q: Queue.Queue<number | string>, go: Queue.Queue<number>, n: number, rounds: number, bulk: boolean) {
  return Effect.gen(function*() {
    for (let r = 0; r < rounds; r++) {
      yield* Queue.get(go)
      if (!bulk) {
        for (let i = 0; i < n; i++) yield* Queue.put(q, item(i))
        continue
      }
      const chunk: Array<number | string> = []
      for (let i = 0; i < n; i++) {
        chunk.push(item(i))
        if (chunk.length === CHUNK) {
          yield* Queue.putMany(q, chunk)
          chunk.length = 0
        }
      }
      if (chunk.length > 0) yield* Queue.putMany(q, chunk)
    }
  })
})

/** Worker side of the ping-pong benchmark. */
export const ponger = Task.make(import.meta, function ponger(conn: Pipe.Connection, n: number) {
  return Effect.gen(function*() {
    for (let i = 0; i < n; i++) yield* Pipe.send(conn, yield* Pipe.recv(conn))
  })
})

const queueRun = (backend: "thread" | "process", bulk = false) =>
  Effect.scoped(Effect.gen(function*() {
    const q = yield* Queue.make<number | string>()
    const go = yield* Queue.make<number>()
    const p = yield* Process.make({ target: producer, args: [q, go, ITEMS, ROUNDS + 1, bulk], backend })
    yield* Process.start(p)
    const times: Array<number> = []
    for (let r = 0; r <= ROUNDS; r++) {
      const t0 = performance.now()
      yield* Queue.put(go, r)
      if (bulk) {
        let i = 0
        while (i < ITEMS) {
          for (const x of yield* Queue.getMany(q, MAX_GET)) {
            if (x !== item(i)) throw new Error(`out of order: ${x} at ${i}`)
            i++
          }
        }
      } else {
        for (let i = 0; i < ITEMS; i++) {
          const x = yield* Queue.get(q)
          if (x !== item(i)) throw new Error(`out of order: ${x} at ${i}`)
        }
      }
      if (r > 0) times.push(performance.now() - t0)
    }
    yield* Process.join(p)
    return times
  }))

const pingRun = (backend: "thread" | "process") =>
  Effect.scoped(Effect.gen(function*() {
    const [a, b] = yield* Pipe.make()
    const p = yield* Process.make({ target: ponger, args: [b, TRIPS * (ROUNDS + 1)], backend })
    yield* Process.start(p)
    const times: Array<number> = []
    for (let r = 0; r <= ROUNDS; r++) {
      const t0 = performance.now()
      for (let i = 0; i < TRIPS; i++) {
        yield* Pipe.send(a, i)
        yield* Pipe.recv(a)
      }
      if (r > 0) times.push(performance.now() - t0)
    }
    yield* Process.join(p)
    return times
  }))

/** Raw worker_threads: the worker posts every item with postMessage. */
const rawQueue = async (): Promise<Array<number>> => {
  const { Worker } = await import("node:worker_threads")
  const w = new Worker(
    `const { parentPort } = require("node:worker_threads")
     parentPort.on("message", (n) => { for (let i = 0; i < n; i++) parentPort.postMessage(i & 1 ? i : "s" + i) })`,
    { eval: true }
  )
  const times: Array<number> = []
  for (let r = 0; r <= ROUNDS; r++) {
    const t0 = performance.now()
    await new Promise<void>((resolve) => {
      let got = 0
      const on = () => {
        if (++got === ITEMS) {
          w.off("message", on)
          resolve()
        }
      }
      w.on("message", on)
      w.postMessage(ITEMS)
    })
    if (r > 0) times.push(performance.now() - t0)
  }
  await w.terminate()
  return times
}

/** Raw worker_threads ping-pong over postMessage. */
const rawPing = async (): Promise<Array<number>> => {
  const { Worker } = await import("node:worker_threads")
  const w = new Worker(`const { parentPort } = require("node:worker_threads"); parentPort.on("message", (m) => parentPort.postMessage(m))`, { eval: true })
  const times: Array<number> = []
  for (let r = 0; r <= ROUNDS; r++) {
    const t0 = performance.now()
    await new Promise<void>((resolve) => {
      let i = 0
      const on = () => {
        if (++i === TRIPS) {
          w.off("message", on)
          resolve()
        } else w.postMessage(i)
      }
      w.on("message", on)
      w.postMessage(0)
    })
    if (r > 0) times.push(performance.now() - t0)
  }
  await w.terminate()
  return times
}

const pythonQueue = `
import multiprocessing as mp, time, json, statistics
def producer(q, go, n, rounds):
    for _ in range(rounds):
        go.get()
        for i in range(n):
            q.put(i if i & 1 else "s%d" % i)
if __name__ == "__main__":
    q, go = mp.Queue(), mp.Queue()
    p = mp.Process(target=producer, args=(q, go, ${ITEMS}, ${ROUNDS + 1}))
    p.start()
    times = []
    for r in range(${ROUNDS + 1}):
        t0 = time.perf_counter()
        go.put(1)
        for i in range(${ITEMS}):
            q.get()
        if r > 0: times.append((time.perf_counter() - t0) * 1000)
    p.join()
    print(json.dumps(times))
`

const pythonPing = `
import multiprocessing as mp, time, json
def ponger(conn, n):
    for _ in range(n):
        conn.send(conn.recv())
if __name__ == "__main__":
    a, b = mp.Pipe()
    p = mp.Process(target=ponger, args=(b, ${TRIPS * (ROUNDS + 1)}))
    p.start()
    times = []
    for r in range(${ROUNDS + 1}):
        t0 = time.perf_counter()
        for i in range(${TRIPS}):
            a.send(i)
            a.recv()
        if r > 0: times.append((time.perf_counter() - t0) * 1000)
    p.join()
    print(json.dumps(times))
`

if (import.meta.main) {
  const py = await python(`import multiprocessing; print('"' + multiprocessing.get_start_method() + '"')`).catch(() => "unavailable")
  const queueRows: Array<{ scenario: string; ms: number }> = []
  queueRows.push({ scenario: `Python mp.Queue (${py}), put/get per item`, ms: median(await python(pythonQueue)) })
  queueRows.push({ scenario: "multiproc Queue, thread backend, put/get per item", ms: median(await Effect.runPromise(queueRun("thread"))) })
  queueRows.push({ scenario: "multiproc Queue, process backend, put/get per item", ms: median(await Effect.runPromise(queueRun("process"))) })
  queueRows.push({ scenario: `multiproc Queue, thread backend, putMany(${CHUNK}) / getMany(${MAX_GET})`, ms: median(await Effect.runPromise(queueRun("thread", true))) })
  queueRows.push({ scenario: `multiproc Queue, process backend, putMany(${CHUNK}) / getMany(${MAX_GET})`, ms: median(await Effect.runPromise(queueRun("process", true))) })
  queueRows.push({ scenario: "raw postMessage per item (thread)", ms: median(await rawQueue()) })
  const pyQueue = queueRows[0]!.ms
  console.log(table(`Queue: ${ITEMS.toLocaleString("en-US")} small items, worker → parent (median of ${ROUNDS} warm rounds)`, queueRows.map((r) => ({
    scenario: r.scenario,
    "ms": fmt(r.ms),
    "items/s": fmt(ITEMS / (r.ms / 1000), 0),
    "× Python": fmt(pyQueue / r.ms, 2)
  }))))

  const pingRows: Array<{ scenario: string; ms: number }> = []
  pingRows.push({ scenario: `Python mp.Pipe (${py})`, ms: median(await python(pythonPing)) })
  pingRows.push({ scenario: "multiproc Pipe, thread backend", ms: median(await Effect.runPromise(pingRun("thread"))) })
  pingRows.push({ scenario: "multiproc Pipe, process backend", ms: median(await Effect.runPromise(pingRun("process"))) })
  pingRows.push({ scenario: "raw postMessage ping-pong (thread)", ms: median(await rawPing()) })
  const pyPing = pingRows[0]!.ms
  console.log(table(`Pipe ping-pong: ${TRIPS.toLocaleString("en-US")} round trips (median of ${ROUNDS} warm rounds)`, pingRows.map((r) => ({
    scenario: r.scenario,
    "ms": fmt(r.ms),
    "µs / round trip": fmt((r.ms * 1000) / TRIPS, 1),
    "÷ Python": fmt(r.ms / pyPing, 2)
  }))))
}
