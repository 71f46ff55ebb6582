import * as SharedValue from "@multiproc/primitives/SharedValue"
import * as Effect from "effect/Effect"
const v = Effect.runSync(SharedValue.value("i", 0))
const lock = Effect.runSync(SharedValue.getLock(v))
const N = 10_000
const out: string[] = []
for (let r = 0; r < 30; r++) {
  const t = performance.now()
  for (let i = 0; i < N; i++) lock.withLockSync(() => { v.value = v.value + 1 })
  out.push(((performance.now() - t) / N * 1e6).toFixed(0))
}
console.log(out.join(" "))
