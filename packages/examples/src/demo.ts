// The demo: a tour of multiproc on both backends. Run with `pnpm demo`.
import { NodeRuntime } from "@effect/platform-node"
import { Process as P } from "@multiproc/primitives"
import { currentProcess, Pool, Process, Queue, Value } from "@multiproc/primitives/promise"
import { Task } from "@multiproc/runtime"
import { Effect } from "effect"

export const info = Task.make(import.meta, function info(title: string) {
  const me = currentProcess()
  return `${title}: ${me.name} (pid ${me.pid}, ${me.backend})`
})

export const square = Task.make(import.meta, function square(x: number) {
  return x * x
})

/** Dies (process.exit) on 3: the pool fails that task only and replaces the worker. */
export const fragile = Task.make(import.meta, function fragile(x: number) {
  if (x === 3) process.exit(7)
  return x * 10
})

export const produce = Task.make(import.meta, async function produce(q: Queue<string>, n: number) {
  for (let i = 0; i < n; i++) await q.put(`item ${i} from ${currentProcess().name}`)
})

export const count = Task.make(import.meta, async function count(v: Value<number>, n: number) {
  const lock = v.getLock()
  for (let i = 0; i < n; i++) await lock.withLock(() => void (v.value = v.value + 1))
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

  console.log("\n== Pool.map, and a worker that dies fails only its own task")
  {
    await using pool = new Pool({ processes: 2, backend: "process" })
    console.log(await pool.map(square, [1, 2, 3, 4, 5]))
    const results = await Promise.allSettled([1, 2, 3, 4].map((x) => pool.apply(fragile, [x])))
    console.log(results.map((r) => r.status === "fulfilled" ? r.value : `${(r.reason as Error).name}: ${(r.reason as any).reason} (exitcode ${(r.reason as any).exitCode})`))
    console.log(await pool.map(square, [6, 7]), "(the pool goes on)")
  }

  console.log("\n== Queue between processes")
  {
    const q = new Queue<string>()
    const producers = [new Process({ target: produce, args: [q, 2] }), new Process({ target: produce, args: [q, 2], backend: "process" })]
    for (const p of producers) await p.start()
    const got: Array<string> = []
    for (let i = 0; i < 4; i++) got.push(await q.get())
    for (const p of producers) await p.join()
    console.log(got.sort())
  }

  console.log("\n== Value under its lock, two processes")
  {
    const v = new Value("i", 0)
    const workers = [new Process({ target: count, args: [v, 500] }), new Process({ target: count, args: [v, 500] })]
    for (const p of workers) await p.start()
    for (const p of workers) await p.join()
    console.log("value:", v.value)
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
