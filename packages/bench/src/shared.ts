/**
 * Shared state benchmarks, side by side with Python's multiprocessing (python3):
 * - 10,000 manager dict sets from a child (a thread, and a child process), each awaited, and
 *   pipelined (many in flight), timed
 *   after 2,000 untimed sets in the same child (V8 compiles the hot path in the first thousands;
 *   Python's child gets the same warm-up);
 * - a Value incremented under its lock by 2 processes (thread backend: shared memory + futex lock).
 *
 *   node packages/bench/src/shared.ts
 */
import { Manager, Process, SharedValue } from "@multiproc/primitives"
import { promisify } from "@multiproc/primitives/promise"
import { Task } from "@multiproc/runtime"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { fmt, median, python, table } from "./harness.ts"

const SETS = 10_000
const WARM = 2_000
/** A long warm-up: V8 takes some 20,000–30,000 calls to finish compiling Effect's fiber runtime. */
const LONG_WARM = 30_000
const INCREMENTS = 100_000
const REPEATS = 5

/** `warm` untimed sets first (a JIT warms up; Python gets the same warm-up), then `n` timed. */
export const dictSets = Task.make(import.meta, function dictSets(d: Manager.DictProxy<number, number>, n: number, pipelined: boolean, warm: number) {
  const sets = (from: number, count: number) =>
    pipelined
      ? Effect.forEach(Array.from({ length: count }, (_, i) => from + i), (i) => d.set(i, i), { concurrency: "unbounded", discard: true })
      : Effect.gen(function*() {
        for (let i = from; i < from + count; i++) yield* d.set(i, i)
      })
  return Effect.gen(function*() {
    // In bursts of at most `n` (one burst of 30,000 fibers would leave a heap unlike the timed one's).
    for (let from = -warm; from < 0; from += n) yield* sets(from, Math.min(n, -from))
    const t0 = performance.now()
    yield* sets(0, n)
    return performance.now() - t0
  })
}, { name: "dictSets" })

/** The same pipelined sets through the async/await facade: `Promise.all` over the promised sets. */
export const dictSetsPromise = Task.make(import.meta, async function dictSetsPromise(d: Manager.DictProxy<number, number>, n: number, warm: number) {
  const p = promisify(d)
  const sets = (from: number, count: number) => Promise.all(Array.from({ length: count }, (_, i) => p.set(from + i, from + i)))
  await sets(-warm, warm)
  const t0 = performance.now()
  await sets(0, n)
  return performance.now() - t0
}, { name: "dictSetsPromise" })

/** Increments under the lock; returns [start, end] in epoch milliseconds (the loop only). Both
 * workers wait at a start gate first, so the loops really run at the same time (otherwise the
 * second worker's boot would be measured, or the loops would not contend at all). */
export const increment = Task.make(import.meta, function increment(v: SharedValue.Value<number>, n: number, gate: SharedArrayBuffer) {
  const lock = Effect.runSync(SharedValue.getLock(v))
  const g = new Int32Array(gate)
  if (Atomics.add(g, 0, 1) + 1 === 2) Atomics.notify(g, 0)
  else while (Atomics.load(g, 0) < 2) Atomics.wait(g, 0, 1, 1000)
  const start = performance.timeOrigin + performance.now()
  for (let i = 0; i < n; i++) lock.withLockSync(() => { v.value = v.value + 1 })
  return [start, performance.timeOrigin + performance.now()] as const
}, { name: "increment" })

const pyDict = (REPEATS: number) => `
import json, time
from multiprocessing import Manager, Process, Queue
def child(d, n, q):
    for i in range(-${WARM}, 0):
        d[i] = i
    t0 = time.perf_counter()
    for i in range(n):
        d[i] = i
    q.put((time.perf_counter() - t0) * 1000)
if __name__ == "__main__":
    out = []
    with Manager() as m:
        for _ in range(${REPEATS}):
            d = m.dict(); q = Queue()
            p = Process(target=child, args=(d, ${SETS}, q)); p.start(); out.append(q.get()); p.join()
    print(json.dumps(out))
`

const pyValue = (REPEATS: number) => `
import json, time
from multiprocessing import Barrier, Process, Value, Queue
def child(v, n, q, gate):
    gate.wait()
    start = time.time()
    for _ in range(n):
        with v.get_lock():
            v.value += 1
    q.put((start, time.time()))
if __name__ == "__main__":
    out = []
    for _ in range(${REPEATS}):
        v = Value('i', 0); q = Queue(); gate = Barrier(2)
        ps = [Process(target=child, args=(v, ${INCREMENTS}, q, gate)) for _ in range(2)]
        for p in ps: p.start()
        spans = [q.get(), q.get()]
        for p in ps: p.join()
        out.append((max(e for _, e in spans) - min(s for s, _ in spans)) * 1000)
        assert v.value == 2 * ${INCREMENTS}
    print(json.dumps(out))
`

if (import.meta.main) {
  // Interleaved: each repeat runs ours, then Python's, so a change in the machine's load (it is
  // a shared VM) hits both sides of a ratio alike.
  const ours = { awaited: [] as Array<number>, awaitedProcess: [] as Array<number>, pipelined: [] as Array<number>, pipelinedWarm: [] as Array<number>, pipelinedPromise: [] as Array<number>, incs: [] as Array<number> }
  const pyD: Array<number> = []
  const pyV: Array<number> = []
  const runOurs = <A>(body: (m: Manager.Manager) => Effect.Effect<A, unknown, Scope.Scope>) =>
    Effect.runPromise(Effect.scoped(Effect.flatMap(Manager.make(), body)))
  for (let r = 0; r < REPEATS; r++) {
    await runOurs((m) => Effect.gen(function*() {
      const d1 = yield* Manager.dict<number, number>(m)
      ours.awaited.push(yield* Process.run({ target: dictSets, args: [d1, SETS, false, WARM] }))
      const d5 = yield* Manager.dict<number, number>(m)
      ours.awaitedProcess.push(yield* Process.run({ target: dictSets, args: [d5, SETS, false, WARM], backend: "process" }))
      const d2 = yield* Manager.dict<number, number>(m)
      ours.pipelined.push(yield* Process.run({ target: dictSets, args: [d2, SETS, true, WARM] }))
      if ((yield* d2.len()) !== SETS + WARM) throw new Error("pipelined sets lost")
      const d4 = yield* Manager.dict<number, number>(m)
      ours.pipelinedWarm.push(yield* Process.run({ target: dictSets, args: [d4, SETS, true, LONG_WARM] }))
      if ((yield* d4.len()) !== SETS + LONG_WARM) throw new Error("pipelined sets lost")
      const d3 = yield* Manager.dict<number, number>(m)
      ours.pipelinedPromise.push(yield* Process.run({ target: dictSetsPromise, args: [d3, SETS, WARM] }))
      if ((yield* d3.len()) !== SETS + WARM) throw new Error("pipelined sets lost")
    }))
    pyD.push(...(await python(pyDict(1)) as Array<number>))
  }
  for (let r = 0; r < REPEATS; r++) {
    await Effect.runPromise(Effect.gen(function*() {
      const v = yield* SharedValue.value("i", 0)
      const gate = new SharedArrayBuffer(4)
      const spans = yield* Effect.all([
        Process.run({ target: increment, args: [v, INCREMENTS, gate] }),
        Process.run({ target: increment, args: [v, INCREMENTS, gate] })
      ], { concurrency: 2 })
      ours.incs.push(Math.max(...spans.map((s) => s[1])) - Math.min(...spans.map((s) => s[0])))
      if (v.value !== 2 * INCREMENTS) throw new Error(`lost increments: ${v.value}`)
    }))
    pyV.push(...(await python(pyValue(1)) as Array<number>))
  }
  const rate = (n: number, msTaken: number) => n / (msTaken / 1000)
  const pyDictRate = rate(SETS, median(pyD))
  const pyValueRate = rate(2 * INCREMENTS, median(pyV))
  /** Python's time over ours, per interleaved pair: the lowest and highest. */
  const spread = (mine: Array<number>, py: Array<number>) => {
    const r = mine.map((t, i) => py[i]! / t).sort((a, b) => a - b)
    return `${fmt(r[0]!, 2)}–${fmt(r[r.length - 1]!, 2)}`
  }
  const rows = [
    {
      scenario: `${fmt(SETS, 0)} dict sets from a child, each awaited (after ${fmt(WARM, 0)} untimed, both)`,
      "multiproc ops/s": fmt(rate(SETS, median(ours.awaited)), 0),
      "python3 ops/s": fmt(pyDictRate, 0),
      "ratio (×Python)": fmt(rate(SETS, median(ours.awaited)) / pyDictRate, 2),
      "per-pair ratios": spread(ours.awaited, pyD)
    },
    {
      scenario: `the same from a child *process* (its own socket to the manager, as Python's)`,
      "multiproc ops/s": fmt(rate(SETS, median(ours.awaitedProcess)), 0),
      "python3 ops/s": fmt(pyDictRate, 0),
      "ratio (×Python)": fmt(rate(SETS, median(ours.awaitedProcess)) / pyDictRate, 2),
      "per-pair ratios": spread(ours.awaitedProcess, pyD)
    },
    {
      scenario: `${fmt(SETS, 0)} dict sets from a child, pipelined with \`Effect.forEach\` (unbounded concurrency; Python: awaited, it cannot pipeline)`,
      "multiproc ops/s": fmt(rate(SETS, median(ours.pipelined)), 0),
      "python3 ops/s": fmt(pyDictRate, 0),
      "ratio (×Python)": fmt(rate(SETS, median(ours.pipelined)) / pyDictRate, 2),
      "per-pair ratios": spread(ours.pipelined, pyD)
    },
    {
      scenario: `the same after ${fmt(LONG_WARM, 0)} untimed sets in the child (V8 done compiling; Python has no JIT to warm)`,
      "multiproc ops/s": fmt(rate(SETS, median(ours.pipelinedWarm)), 0),
      "python3 ops/s": fmt(pyDictRate, 0),
      "ratio (×Python)": fmt(rate(SETS, median(ours.pipelinedWarm)) / pyDictRate, 2),
      "per-pair ratios": spread(ours.pipelinedWarm, pyD)
    },
    {
      scenario: `${fmt(SETS, 0)} dict sets from a child, pipelined through the async/await facade (\`Promise.all\`)`,
      "multiproc ops/s": fmt(rate(SETS, median(ours.pipelinedPromise)), 0),
      "python3 ops/s": fmt(pyDictRate, 0),
      "ratio (×Python)": fmt(rate(SETS, median(ours.pipelinedPromise)) / pyDictRate, 2),
      "per-pair ratios": spread(ours.pipelinedPromise, pyD)
    },
    {
      scenario: `Value += 1 under its lock, 2 processes × ${fmt(INCREMENTS, 0)} started together at a barrier (thread backend; Python: processes), first start to last end of the loops`,
      "multiproc ops/s": fmt(rate(2 * INCREMENTS, median(ours.incs)), 0),
      "python3 ops/s": fmt(pyValueRate, 0),
      "ratio (×Python)": fmt(rate(2 * INCREMENTS, median(ours.incs)) / pyValueRate, 2),
      "per-pair ratios": spread(ours.incs, pyV)
    }
  ]
  console.log(table(`shared state (median of ${REPEATS}, interleaved with Python, ${new Date().toISOString().slice(0, 10)}, node ${process.version})`, rows))
}
