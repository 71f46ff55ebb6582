import * as Child from "@multiproc/runtime/Child"
import * as Effect from "effect/Effect"
import { echo } from "./fixtures/runtime-tasks.ts"
import { median } from "./harness.ts"
await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
  const c = yield* Child.spawn({ backend: "thread" })
  yield* c.ready
  const xs: number[] = []
  const cpu0 = process.cpuUsage()
  for (let i = 0; i < 30000; i++) {
    const t0 = performance.now()
    yield* c.call(echo, [i])
    xs.push((performance.now() - t0) * 1000)
  }
  const cpu = process.cpuUsage(cpu0)
  console.log("p50", median(xs.slice(2000)).toFixed(1), "parent cpu µs/call", ((cpu.user + cpu.system) / 30000).toFixed(1))
})))
