/**
 * Foundation benchmarks (issue 2), peers side by side in one run:
 * - process start+join on each backend vs a bare `new Worker` / `fork` and Python's Process, and
 *   from a task module that imports the package barrel (which loads `effect` in the worker)
 * - a mailbox round trip (Child.call of an echo task) vs a raw postMessage round trip
 * - one-way small messages from a worker to its parent: batched mailbox vs raw postMessage
 */
import * as Child from "@multiproc/runtime/Child"
import * as kernel from "@multiproc/runtime/internal/kernel"
import * as Process from "@multiproc/primitives/Process"
import * as Effect from "effect/Effect"
import { fork } from "node:child_process"
import { Worker } from "node:worker_threads"
import { fmt, median, percentile, python, sample, table } from "./harness.ts"
import { noopBarrel } from "./fixtures/barrel-tasks.ts"
import { blast, echo, noop } from "./fixtures/runtime-tasks.ts"

const rawUrl = new URL("./fixtures/raw-worker.mjs", import.meta.url)
const REPEATS = Number(process.env.BENCH_REPEATS ?? 15)

const bareWorker = () =>
  new Promise<void>((resolve) => {
    const w = new Worker(rawUrl)
    w.once("message", () => w.postMessage("exit"))
    w.once("exit", () => resolve())
  })

const bareFork = () =>
  new Promise<void>((resolve) => {
    const c = fork(rawUrl.pathname, [], { serialization: "advanced" })
    c.once("message", () => c.send("exit"))
    c.once("exit", () => resolve())
  })

const ours = (backend: "thread" | "process") => () => Effect.runPromise(Process.run({ target: noop, backend }))

const pythonStart = await python(`
import multiprocessing as mp, time, json
def f(): pass
if __name__ == "__main__":
    mp.set_start_method("spawn")
    out = {}
    for m in ["spawn", "fork"]:
        ctx = mp.get_context(m)
        xs = []
        for i in range(${REPEATS + 1}):
            t = time.perf_counter(); p = ctx.Process(target=f); p.start(); p.join(); xs.append((time.perf_counter() - t) * 1000)
        out[m] = sorted(xs[1:])[len(xs[1:]) // 2]
    print(json.dumps(out))
`.replace("def f(): pass", "def f():\n    pass"))

// Interleave the peers so machine noise hits them alike.
const times: Record<string, Array<number>> = { worker: [], fork: [], thread: [], process: [] }
for (let i = 0; i < REPEATS; i++) {
  times.worker!.push(...(await sample(1, bareWorker, i === 0 ? 2 : 0)))
  times.thread!.push(...(await sample(1, ours("thread"), i === 0 ? 2 : 0)))
  times.fork!.push(...(await sample(1, bareFork, i === 0 ? 2 : 0)))
  times.process!.push(...(await sample(1, ours("process"), i === 0 ? 2 : 0)))
}
// The same from a task module importing the package barrel (it loads `effect` in every worker).
const barrelTimes: Record<string, Array<number>> = { thread: [], process: [] }
for (let i = 0; i < Math.min(REPEATS, 8); i++) {
  for (const backend of ["thread", "process"] as const) {
    barrelTimes[backend]!.push(...(await sample(1, () => Effect.runPromise(Process.run({ target: noopBarrel, backend })), i === 0 ? 1 : 0)))
  }
}
// Bootstrap alone: spawn to "ready" (runtime loaded, before any task module), vs a bare worker's
// first message. This is what a worker pays for the runtime itself.
const readyTimes: Record<string, Array<number>> = { thread: [], process: [] }
for (let i = 0; i < REPEATS; i++) {
  for (const backend of ["thread", "process"] as const) {
    const t0 = performance.now()
    await Effect.runPromise(Effect.scoped(Effect.flatMap(Child.spawn({ backend }), (c) => c.ready)))
    readyTimes[backend]!.push(performance.now() - t0)
  }
}
const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<string, number>
console.log(table("Process start + join (median ms)", [
  { scenario: "thread backend", "multiproc": fmt(m.thread!), "bare peer": `${fmt(m.worker!)} (new Worker)`, ratio: fmt(m.thread! / m.worker!, 2), "goal": "≤ 1.3" },
  { scenario: "process backend", "multiproc": fmt(m.process!), "bare peer": `${fmt(m.fork!)} (fork)`, ratio: fmt(m.process! / m.fork!, 2), "goal": "≤ 1.3" },
  { scenario: "thread: spawn → ready (bootstrap only, includes terminate)", "multiproc": fmt(median(readyTimes.thread!)), "bare peer": "", ratio: "", "goal": "" },
  { scenario: "process: spawn → ready (bootstrap only, includes terminate)", "multiproc": fmt(median(readyTimes.process!)), "bare peer": "", ratio: "", "goal": "" },
  { scenario: "thread backend, the task's module importing `@multiproc/runtime` (loads `effect`)", "multiproc": fmt(median(barrelTimes.thread!)), "bare peer": "", ratio: "", "goal": "" },
  { scenario: "process backend, the same", "multiproc": fmt(median(barrelTimes.process!)), "bare peer": "", ratio: "", "goal": "" },
  { scenario: "Python Process (spawn / fork)", "multiproc": "", "bare peer": `${fmt(pythonStart.spawn)} / ${fmt(pythonStart.fork)}`, ratio: "", "goal": "" }
]))

// ---- round trip ------------------------------------------------------------------------------
const N_RTT = Number(process.env.BENCH_RTT ?? 10_000)

const rawRtt = async (): Promise<Array<number>> => {
  const w = new Worker(rawUrl)
  await new Promise((r) => w.once("message", r))
  const out: Array<number> = []
  for (let i = 0; i < N_RTT; i++) {
    const t0 = performance.now()
    w.postMessage(i)
    await new Promise((r) => w.once("message", r))
    out.push((performance.now() - t0) * 1000)
  }
  await w.terminate()
  return out
}

const oursRtt = (backend: "thread" | "process", options: Pick<Child.SpawnOptions, "awakeAfterReply" | "pollForReply"> = {}) =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const child = yield* Child.spawn({ backend, ...options })
    yield* child.ready
    const out: Array<number> = []
    for (let i = 0; i < N_RTT; i++) {
      const t0 = performance.now()
      yield* child.call(echo, [i])
      out.push((performance.now() - t0) * 1000)
    }
    return out
  })))

const rawForkRtt = async (): Promise<Array<number>> => {
  const c = fork(rawUrl.pathname, [], { serialization: "advanced" })
  await new Promise((r) => c.once("message", r))
  const out: Array<number> = []
  for (let i = 0; i < N_RTT; i++) {
    const t0 = performance.now()
    c.send(i)
    await new Promise((r) => c.once("message", r))
    out.push((performance.now() - t0) * 1000)
  }
  c.kill()
  return out
}

// Besides the defaults (the worker polls for 50 µs after a reply), the same call with no polling
// at all, and with the caller polling too (`pollForReply`, off by default: see Child.ts).
const rtt: Record<string, Array<number>> = { raw: [], thread: [], asleep: [], polling: [], rawFork: [], process: [] }
for (let round = 0; round < 3; round++) {
  rtt.raw!.push(...(await rawRtt()).slice(500))
  rtt.thread!.push(...(await oursRtt("thread")).slice(500))
  rtt.asleep!.push(...(await oursRtt("thread", { awakeAfterReply: 0 })).slice(500))
  rtt.polling!.push(...(await oursRtt("thread", { pollForReply: "50 micros" })).slice(500))
  rtt.rawFork!.push(...(await rawForkRtt()).slice(500))
  rtt.process!.push(...(await oursRtt("process")).slice(500))
}
const p50 = (k: string) => median(rtt[k]!)
const p90 = (k: string) => percentile(rtt[k]!, 90)
const p99 = (k: string) => percentile(rtt[k]!, 99)
const rttRow = (scenario: string, k: string, raw: string, rawName: string, goal: string) => ({
  scenario,
  p50: fmt(p50(k)),
  p90: fmt(p90(k)),
  p99: fmt(p99(k)),
  "raw p50 / p90 / p99": `${fmt(p50(raw))} / ${fmt(p90(raw))} / ${fmt(p99(raw))} (${rawName})`,
  ratio: fmt(p50(k) / p50(raw), 2),
  goal
})
console.log(table(`Round trip, one in flight (${N_RTT} x 3, µs)`, [
  rttRow("thread: Child.call(echo)", "thread", "raw", "postMessage", "≤ 1.2"),
  rttRow("thread, awakeAfterReply: 0 (no polling)", "asleep", "raw", "postMessage", ""),
  rttRow("thread, pollForReply: 50 µs (both sides poll)", "polling", "raw", "postMessage", ""),
  rttRow("process: Child.call(echo)", "process", "rawFork", "IPC send", "")
]))

// ---- one-way throughput -----------------------------------------------------------------------
const N_MSG = Number(process.env.BENCH_MSGS ?? 1_000_000)

const rawOneWay = async (batched: boolean): Promise<number> => {
  const w = new Worker(rawUrl)
  await new Promise((r) => w.once("message", r))
  const t0 = performance.now()
  let got = 0
  await new Promise<void>((resolve) => {
    w.on("message", (m) => {
      got += batched ? (m as Array<unknown>).length : 1
      if (got >= N_MSG) resolve()
    })
    w.postMessage(batched ? { blastBatched: N_MSG } : { blast: N_MSG })
  })
  const secs = (performance.now() - t0) / 1000
  await w.terminate()
  return N_MSG / secs
}

const oursOneWay = (backend: "thread" | "process") =>
  Effect.runPromise(Effect.scoped(Effect.gen(function*() {
    const child = yield* Child.spawn({ backend })
    yield* child.ready
    let got = 0
    let done!: () => void
    const finished = new Promise<void>((r) => (done = r))
    const port = kernel.openPort(() => {
      if (++got === N_MSG) done()
    })
    const t0 = performance.now()
    yield* child.call(blast, [N_MSG, kernel.self.address, port])
    yield* Effect.promise(() => finished)
    kernel.closePort(port)
    return N_MSG / ((performance.now() - t0) / 1000)
  })))

const rates: Record<string, Array<number>> = { raw: [], rawBatched: [], thread: [], process: [] }
for (let round = 0; round < 3; round++) {
  rates.raw!.push(await rawOneWay(false))
  rates.rawBatched!.push(await rawOneWay(true))
  rates.thread!.push(await oursOneWay("thread"))
  rates.process!.push(await oursOneWay("process"))
}
const r = (k: string) => median(rates[k]!)
console.log(table(`One-way small messages, worker → parent (${fmt(N_MSG)} messages, msgs/s, median of 3)`, [
  { scenario: "multiproc mailbox, thread (batched msgpackr)", "msgs/s": fmt(r("thread")), "vs raw postMessage": fmt(r("thread") / r("raw"), 2), goal: "≥ 1,000,000" },
  { scenario: "multiproc mailbox, process (batched msgpackr over IPC)", "msgs/s": fmt(r("process")), "vs raw postMessage": fmt(r("process") / r("raw"), 2), goal: "" },
  { scenario: "raw postMessage, 1 per message", "msgs/s": fmt(r("raw")), "vs raw postMessage": "1.00", goal: "" },
  { scenario: "raw postMessage, arrays of 4096", "msgs/s": fmt(r("rawBatched")), "vs raw postMessage": fmt(r("rawBatched") / r("raw"), 2), goal: "" }
]))
