import * as Process from "@multiproc/primitives/Process"
import * as SharedValue from "@multiproc/primitives/SharedValue"
import * as Task from "@multiproc/runtime/Task"
import * as Effect from "effect/Effect"
export const incs = Task.make(import.meta, function incs(v: SharedValue.Value<number>, n: number, rounds: number, gate: SharedArrayBuffer | null) {
  const lock = Effect.runSync(SharedValue.getLock(v))
  const out: number[] = []
  if (gate) { const g = new Int32Array(gate); if (Atomics.add(g, 0, 1) + 1 === 2) Atomics.notify(g, 0); else while (Atomics.load(g, 0) < 2) Atomics.wait(g, 0, 1, 1000) }
  for (let r = 0; r < rounds; r++) {
    const t = performance.now()
    for (let i = 0; i < n; i++) lock.withLockSync(() => { v.value = v.value + 1 })
    out.push(+(performance.now() - t).toFixed(2))
  }
  return out
}, { name: "incs" })
if (import.meta.main) {
  await Effect.runPromise(Effect.gen(function*() {
    for (let k = 0; k < 3; k++) {
      const v = yield* SharedValue.value("i", 0)
      const one = yield* Process.run({ target: incs, args: [v, 100000, 4, null] })
      const gate = new SharedArrayBuffer(4)
      const two = yield* Effect.all([Process.run({ target: incs, args: [v, 100000, 4, gate] }), Process.run({ target: incs, args: [v, 100000, 4, gate] })], { concurrency: 2 })
      console.log("alone", JSON.stringify(one), "contended", JSON.stringify(two))
    }
  }))
}
