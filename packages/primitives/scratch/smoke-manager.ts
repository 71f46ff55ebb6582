import { Manager } from "@multiproc/primitives"
import { Process } from "@multiproc/primitives"
import { Effect } from "effect"
import * as T from "../test/fixtures/manager-tasks.ts"

const program = Effect.scoped(Effect.gen(function*() {
  const t0 = Date.now()
  const m = yield* Manager.make({ types: { Counter: { factory: T.makeCounter, exposed: ["increment", "value", "upTo", "slow"] } } })
  console.log("started in", Date.now() - t0)
  const d = yield* Manager.dict<string, unknown>(m)
  yield* d.set("a", 1)
  console.log(yield* d.get("a"), yield* d.len(), String(d))
  const n = yield* Process.run({ target: T.dictWrites, args: [d as any, "x", 5] })
  console.log("child wrote; len", n, yield* d.getvalue())
  const c = yield* Manager.create<T.Counter>(m, "Counter", 5)
  console.log(yield* c.call("increment", 2))
  console.log(yield* Effect.flip(c.call("secret" as any)))
  const it = yield* c.call("upTo", 10)
  console.log(yield* Manager.collect(it as any))
  console.log(yield* Effect.flip(c.call("increment", 5000)))
}))
Effect.runPromise(program).then(() => console.log("done"), (e) => console.error("FAILED", e))
