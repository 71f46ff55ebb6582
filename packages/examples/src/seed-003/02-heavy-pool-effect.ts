// Seed 003, the pooled version with the Effect API: the same work as 02-heavy-pool.ts, whose
// `doit` task it maps (workers then load that lean module, not this one with Effect's imports).
// The pool is scoped (`Effect.scoped` closes and joins it); the timing uses Effect's Clock.
// Arguments: count and size (defaults 80 and 500): `node 02-heavy-pool-effect.ts 8 200`.
import * as Pool from "@multiproc/primitives/Pool"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { doit } from "./02-heavy-pool.ts"

const pooled = (n: number) =>
  Effect.scoped(Effect.gen(function*() {
    // By default, the pool has cpuCount() workers.
    const pool = yield* Pool.make()
    yield* Pool.map(pool, doit, Array.from({ length: n }, (_, i) => i))
  }))

const main = Effect.gen(function*() {
  const start = yield* Clock.currentTimeMillis
  yield* pooled(Number(process.argv[2] ?? 80))
  const end = yield* Clock.currentTimeMillis
  yield* Console.log("Took: ", (end - start) / 1000)
})

if (import.meta.main) {
  if (process.argv[3] !== undefined) process.env.HEAVY_SIZE = process.argv[3]
  NodeRuntime.runMain(main)
}
