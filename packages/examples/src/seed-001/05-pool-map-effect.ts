// Seed 001, the Pool class, with the Effect API: the same map as 05-pool-map.ts, of the same
// `doubler` task (workers then load that lean module, not this one with Effect's imports). The
// pool is scoped: it lives as long as the program's Scope, and closing the Scope closes and joins it.
import * as Pool from "@multiproc/primitives/Pool"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { repr } from "../internal/py.ts"
import { doubler } from "./05-pool-map.ts"

const program = Effect.gen(function*() {
  const numbers = [5, 10, 20]
  const pool = yield* Pool.make({ processes: 3 })
  const result = yield* Pool.map(pool, doubler, numbers)
  yield* Console.log(repr(result))
})

if (import.meta.main) NodeRuntime.runMain(Effect.scoped(program))
