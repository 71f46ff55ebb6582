/**
 * Pool benchmark: multiproc's Pool against piscina, tinypool, a raw postMessage round trip and
 * Python's multiprocessing.Pool, side by side in one run, per issue 3's five scenarios.
 *   node_modules/.bin/node packages/bench/src/pool.ts
 */
import { Pool } from "@multiproc/primitives/promise"
import { Piscina } from "piscina"
import { Tinypool } from "tinypool"
import { Worker } from "node:worker_threads"
import { fmt, median, percentile, python, sample, table } from "./harness.ts"
import * as T from "./pool-tasks.ts"

const WORKERS = 2
const REPEATS = Number(process.env.POOL_BENCH_REPEATS ?? 5)
const tasksFile = new URL("./pool-tasks.ts", import.meta.url).href

const newPiscina = () => new Piscina({ filename: tasksFile, minThreads: WORKERS, maxThreads: WORKERS, name: "square" })
const newTinypool = () => new Tinypool({ filename: tasksFile, minThreads: WORKERS, maxThreads: WORKERS, name: "square" })

const rows: Array<Record<string, string | number>> = []
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`

// ---------------------------------------------------------------------------------- Python
const py = await python(`
import json, time, multiprocessing as mp
def square(x): return x * x
if __name__ == "__main__":
    out = {}
    t0 = time.perf_counter()
    p = mp.Pool(${WORKERS})
    p.apply(square, (3,))
    out["create"] = (time.perf_counter() - t0) * 1000
    xs = list(range(100000))
    p.map(square, xs)
    runs = []
    for _ in range(${REPEATS}):
        t = time.perf_counter(); p.map(square, xs); runs.append(time.perf_counter() - t)
    runs.sort(); out["map"] = 100000 / runs[len(runs)//2]
    runs = []
    for _ in range(${REPEATS}):
        t = time.perf_counter()
        rs = [p.apply_async(square, (i,)) for i in range(10000)]
        [r.get() for r in rs]
        runs.append(time.perf_counter() - t)
    runs.sort(); out["apply"] = 10000 / runs[len(runs)//2]
    lat = []
    for i in range(2000):
        t = time.perf_counter(); p.apply(square, (i,)); lat.append((time.perf_counter() - t) * 1e6)
    lat.sort(); out["rtt"] = lat[len(lat)//2]
    p.terminate(); p.join()
    print(json.dumps(out))
`.replace(/^\n/, ""))

// ---------------------------------------------------------------------------------- 1. map
{
  await using pool = new Pool({ processes: WORKERS })
  const xs = Array.from({ length: 100_000 }, (_, i) => i)
  const ms = median(await sample(REPEATS, () => pool.map(T.square, xs), 2))
  const ours = 100_000 / (ms / 1000)
  await using ppool = new Pool({ processes: WORKERS, backend: "process" })
  const pms = median(await sample(REPEATS, () => ppool.map(T.square, xs), 2))
  rows.push({
    scenario: "1. map 100,000 x*x, default chunking (items/s)",
    multiproc: fmt(ours, 0),
    "multiproc (process)": fmt(100_000 / (pms / 1000), 0),
    piscina: "",
    tinypool: "",
    python: fmt(py.map, 0),
    "target / result": `>= Python: ${ratio(ours, py.map)}`
  })
}

// ---------------------------------------------------------------------------------- 2. applyAsync
{
  const N = 10_000
  await using pool = new Pool({ processes: WORKERS })
  const oursMs = median(await sample(REPEATS, async () => {
    const rs = []
    for (let i = 0; i < N; i++) rs.push(pool.applyAsync(T.square, [i]))
    await Promise.all(rs.map((r) => r.get()))
  }, 2))
  const pis = newPiscina()
  const pisMs = median(await sample(REPEATS, async () => {
    const ps = []
    for (let i = 0; i < N; i++) ps.push(pis.run(i))
    await Promise.all(ps)
  }, 2))
  await pis.destroy()
  const tiny = newTinypool()
  const tinyMs = median(await sample(REPEATS, async () => {
    const ps = []
    for (let i = 0; i < N; i++) ps.push(tiny.run(i))
    await Promise.all(ps)
  }, 2))
  await tiny.destroy()
  const ours = N / (oursMs / 1000)
  const pisRate = N / (pisMs / 1000)
  rows.push({
    scenario: "2. 10,000 applyAsync x*x, then all results (tasks/s)",
    multiproc: fmt(ours, 0),
    "multiproc (process)": "",
    piscina: fmt(pisRate, 0),
    tinypool: fmt(N / (tinyMs / 1000), 0),
    python: fmt(py.apply, 0),
    "target / result": `>= 3x piscina: ${ratio(ours, pisRate)}`
  })
}

// ---------------------------------------------------------------------------------- 3. round trip
{
  // Five rounds of 500 calls per peer, the peers taking turns, so that a change in the machine's
  // state (a shared VM) hits all three alike; all samples of a peer together give its p50.
  const ROUNDS = 5
  const N = 500
  const lat = async (f: (i: number) => Promise<unknown>, into: Array<number>) => {
    for (let i = 0; i < N; i++) {
      const t0 = performance.now()
      await f(i)
      into.push((performance.now() - t0) * 1000)
    }
  }
  await using pool = new Pool({ processes: WORKERS })
  // A pool's default: the caller polls while it awaits a reply (up to 50 µs), the workers sleep;
  // beside it, the same pool with no polling at all (see Child.SpawnOptions).
  await using quiet = new Pool({ processes: WORKERS, worker: { pollForReply: 0 } })
  const pis = newPiscina()
  const w = new Worker(`const { parentPort } = require("node:worker_threads"); parentPort.on("message", (m) => parentPort.postMessage(m))`, { eval: true })
  const peers: Array<readonly [Array<number>, (i: number) => Promise<unknown>]> = [
    [[], (i) => pool.apply(T.square, [i])],
    [[], (i) => quiet.apply(T.square, [i])],
    [[], (i) => pis.run(i)],
    [[], (i) => new Promise((resolve) => {
      w.once("message", resolve)
      w.postMessage(i)
    })]
  ]
  for (const [, f] of peers) for (let i = 0; i < 200; i++) await f(i)
  for (let r = 0; r < ROUNDS; r++) for (const [xs, f] of peers) await lat(f, xs)
  const [ours, oursQuiet, pisL, raw] = peers.map(([xs]) => xs) as [Array<number>, Array<number>, Array<number>, Array<number>]
  await pis.destroy()
  await w.terminate()
  const o = percentile(ours, 50)
  const r = percentile(raw, 50)
  const p = percentile(pisL, 50)
  rows.push({
    scenario: "3. one task in flight, round trip p50 (µs)",
    multiproc: fmt(o),
    "multiproc (process)": "",
    piscina: fmt(p),
    tinypool: "",
    python: fmt(py.rtt),
    "target / result": `<= 1.2x raw postMessage (${fmt(r)} µs): ${ratio(o, r)}; piscina: ${ratio(o, p)}`
  })
  rows.push({
    scenario: "3'. same, p90 / p99 (µs)",
    multiproc: `${fmt(percentile(ours, 90))} / ${fmt(percentile(ours, 99))}`,
    "multiproc (process)": "",
    piscina: `${fmt(percentile(pisL, 90))} / ${fmt(percentile(pisL, 99))}`,
    tinypool: "",
    python: "",
    "target / result": `raw postMessage ${fmt(percentile(raw, 90))} / ${fmt(percentile(raw, 99))} µs`
  })
  const op = percentile(oursQuiet, 50)
  rows.push({
    scenario: "3''. same, no polling (worker: { pollForReply: 0 }): p50 (p90 / p99)",
    multiproc: `${fmt(op)} (${fmt(percentile(oursQuiet, 90))} / ${fmt(percentile(oursQuiet, 99))})`,
    "multiproc (process)": "",
    piscina: "",
    tinypool: "",
    python: "",
    "target / result": `${ratio(op, r)} raw; piscina: ${ratio(op, p)}`
  })
}

// ---------------------------------------------------------------------------------- 4. heavy
{
  const inputs = Array.from({ length: 80 }, () => 500)
  await using pool = new Pool({ processes: WORKERS })
  const pis = new Piscina({ filename: tasksFile, minThreads: WORKERS, maxThreads: WORKERS, name: "heavy" })
  // The machine's own floor: two bare workers, each looping over half the items with no
  // messages in between. On this 2-core VM it is under 2× in many runs too: with both cores busy
  // each runs the loop slower than one core alone does.
  const bare = Array.from({ length: WORKERS }, () => new Worker(new URL("./fixtures/raw-heavy.mjs", import.meta.url)))
  const bareRun = () =>
    Promise.all(bare.map((w) => new Promise((resolve) => {
      w.once("message", resolve)
      w.postMessage({ n: 500, count: inputs.length / WORKERS })
    })))
  const contenders: Record<string, () => unknown> = {
    sequential: () => inputs.map((n) => T.heavy(n)),
    multiproc: () => pool.map(T.heavy, inputs),
    piscina: () => Promise.all(inputs.map((n) => pis.run(n))),
    bare: bareRun
  }
  // Interleaved rounds (the first one warms up): a change in the shared VM's speed hits all four
  // alike, and the sequential loop, which moves the most between runs, is measured in every round.
  const times: Record<string, Array<number>> = { sequential: [], multiproc: [], piscina: [], bare: [] }
  for (let round = 0; round <= 5; round++) {
    for (const [name, run] of Object.entries(contenders)) {
      const t0 = performance.now()
      await run()
      if (round > 0) times[name]!.push(performance.now() - t0)
    }
  }
  await pis.destroy()
  await Promise.all(bare.map((w) => w.terminate()))
  const [seq, par, pisMs, bareMs] = [times.sequential!, times.multiproc!, times.piscina!, times.bare!].map(median) as [number, number, number, number]
  rows.push({
    scenario: "4. 80 × heavy(500), wall ms, 5 interleaved rounds (sequential in main: " + fmt(seq) + " ms; two bare workers, half each: " + fmt(bareMs) + " ms)",
    multiproc: fmt(par),
    "multiproc (process)": "",
    piscina: fmt(pisMs),
    tinypool: "",
    python: "",
    "target / result": `speed-up >= 1.8x: ${ratio(seq, par)} (piscina ${ratio(seq, pisMs)}, bare workers ${ratio(seq, bareMs)})`
  })
}

// ---------------------------------------------------------------------------------- 5. creation
{
  const ours = median(await sample(REPEATS, async () => {
    await using pool = new Pool({ processes: WORKERS })
    await pool.apply(T.square, [3])
    await pool.terminate()
  }, 1))
  const pis = median(await sample(REPEATS, async () => {
    const p = newPiscina()
    await p.run(3)
    await p.destroy()
  }, 1))
  const tiny = median(await sample(REPEATS, async () => {
    const p = newTinypool()
    await p.run(3)
    await p.destroy()
  }, 1))
  rows.push({
    scenario: "5. pool creation to first result (ms)",
    multiproc: fmt(ours),
    "multiproc (process)": "",
    piscina: fmt(pis),
    tinypool: fmt(tiny),
    python: fmt(py.create),
    "target / result": `<= piscina: ${ratio(ours, pis)}`
  })
}

console.log(table(`Pool (${WORKERS} workers, thread backend unless noted; medians of ${REPEATS})`, rows as any))
