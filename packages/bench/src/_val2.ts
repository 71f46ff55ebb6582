import * as SharedValue from "@multiproc/primitives/SharedValue"
import * as Effect from "effect/Effect"
const v = Effect.runSync(SharedValue.value("i", 0))
const lock = Effect.runSync(SharedValue.getLock(v))
const sab = new SharedArrayBuffer(64); const w = new Int32Array(sab); const cell = new Int32Array(sab, 16, 1)
const N = 1_000_000
for (let r = 0; r < 4; r++) {
  let t = performance.now()
  for (let i = 0; i < N; i++) { while (Atomics.compareExchange(w, 0, 0, 1) !== 0); cell[0] = cell[0]! + 1; Atomics.store(w, 0, 0); if (Atomics.load(w, 1) > 0) Atomics.notify(w, 0, 1) }
  const raw = performance.now() - t
  t = performance.now()
  for (let i = 0; i < N; i++) lock.withLockSync(() => { v.value = v.value + 1 })
  const ours = performance.now() - t
  t = performance.now()
  for (let i = 0; i < N; i++) v.value = v.value + 1
  const plain = performance.now() - t
  console.log(`raw ${(raw / N * 1e6).toFixed(1)} ns  ours ${(ours / N * 1e6).toFixed(1)} ns  value only ${(plain / N * 1e6).toFixed(1)} ns`)
}
