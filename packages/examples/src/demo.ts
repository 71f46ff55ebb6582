// The demo: a tour of multiproc on both backends. Run with `pnpm demo`.
import { Process as P } from "@multiproc/primitives"
import { currentProcess, Process } from "@multiproc/primitives/promise"
import { Task } from "@multiproc/runtime"
import { NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"

export const info = Task.make(import.meta, function info(title: string) {
  const me = currentProcess()
  return `${title}: ${me.name} (pid ${me.pid}, ${me.backend})`
})

export class Unlucky extends Error {
  readonly number: number
  constructor(number: number) {
    super(`${number} is unlucky`)
    this.name = "Unlucky"
    this.number = number
  }
}

export const check = Task.make(import.meta, function check(n: number) {
  if (n === 13) throw new Unlucky(n)
  return n * n
}, { errors: [Unlucky] })

if (import.meta.main) {
  console.log("== Process, async/await")
  for (const backend of ["thread", "process"] as const) {
    const p = new Process({ target: info, args: [`hello from a ${backend}`], backend })
    await p.start()
    console.log(await p.result(), "| exitcode", await p.join())
  }

  // The Effect part runs under NodeRuntime.runMain: Ctrl-C interrupts it, which terminates its
  // processes before the program exits.
  NodeRuntime.runMain(Effect.gen(function*() {
    yield* Effect.sync(() => console.log("\n== Process, Effect: errors keep their class and fields"))
    const outcome = yield* P.run({ target: check, args: [13], backend: "process" }).pipe(
      Effect.map((n) => `got ${n}`),
      Effect.catch((e) => Effect.succeed(e instanceof Unlucky ? `caught Unlucky(number=${e.number})` : `other: ${String(e)}`))
    )
    yield* Effect.sync(() => console.log(outcome))
  }))
}
