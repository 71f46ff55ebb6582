// Seed 004, `apply_async` without callback, with the Effect API: the same program as
// 03-apply-async.ts, with its `func` task (workers then load that lean module, not this one with
// Effect's imports). The pool is scoped; `Pool.close` + `Pool.join` wait for the work, then each
// AsyncResult's `get` gives its value. An argument changes the count (default 10,000).
import * as Pool from "@multiproc/primitives/Pool"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { func } from "./03-apply-async.ts"

const main = Effect.scoped(Effect.gen(function*() {
  const count = Number(process.argv[2] ?? 10_000)
  const p = yield* Pool.make({ processes: 5 })
  const start = yield* Clock.currentTimeMillis
  const l = []
  for (let i = 0; i < count; i++) {
    l.push(yield* Pool.applyAsync(p, func, [i]))
  }
  yield* Pool.close(p)
  yield* Pool.join(p)
  for (const res of l) yield* Console.log(yield* res.get())
  yield* Console.log(((yield* Clock.currentTimeMillis) - start) / 1000)
}))

if (import.meta.main) NodeRuntime.runMain(main)
