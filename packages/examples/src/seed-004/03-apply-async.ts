// Seed 004, `apply_async` without callback: 10,000 calls submitted at once to a pool of 5, their
// AsyncResults kept in a list; `close()` and `join()`, then every result printed in submission
// order (1 … 10000) and the elapsed seconds. (Calling `get()` right after each submission would
// make it synchronous again, as the seed's comment says.)
//
// The seed says asynchronous use *must* close and join. Not so, in Python or here: `get()` waits
// for its result either way; close + join only wait for all the work before printing.
// An argument changes the count: `node 03-apply-async.ts 100`.
//
// Workers import this module to find the task, so it imports only the lean Task module at the
// top and the facade in the main block: a worker then boots in ~50 ms instead of ~500 ms.
import type { AsyncResult } from "@multiproc/primitives/promise"
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
  const l: Array<AsyncResult<number>> = []
  for (const i of range(count)) {
    const res = p.applyAsync(func, [i]) // 5 workers take the tasks as they become free
    l.push(res)
    // print(await res.get()) would also work, but makes it synchronous: one result at a time
  }
  p.close()
  await p.join()
  for (const i of l) print(await i.get())
  print((performance.now() - start) / 1000)
}
