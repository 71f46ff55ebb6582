// Seed 004 "Python Multiprocessing" (a Pool tutorial), `p.apply(func, args=(i,))`: 10,000 calls
// one after the other on a pool of 5 (apply blocks until its result is back, so only one worker
// is ever busy), printing each result (1 … 10000), then the elapsed seconds.
//
// As the seed says, synchronous use needs no close/join: the pool is left open, and its idle
// workers do not keep the program alive. An argument changes the count: `node 01-apply.ts 100`.
//
// Workers import this module to find the task, so it imports only the lean Task module at the
// top and the facade in the main block: a worker then boots in ~50 ms instead of ~500 ms.
import * as Task from "@multiproc/runtime/Task"
import { print, range } from "../internal/py.ts"

export const func = Task.make(import.meta, function func(num: number) {
  num += 1
  return num
})

if (import.meta.main) {
  const { Pool } = await import("@multiproc/primitives/promise")
  const count = Number(process.argv[2] ?? 10_000)
  const p = new Pool({ processes: 5 })
  const start = performance.now()
  for (const i of range(count)) {
    const res = await p.apply(func, [i]) // synchronous: one task at a time, even with 5 workers
    print(res)
  }
  print((performance.now() - start) / 1000)
}
