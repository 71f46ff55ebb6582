// Seed 002, using a pool of workers: `with Pool(processes=4) as pool:` prints
// `pool.map(f, range(10))` (`[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]`), then the same squares from
// `pool.imap_unordered(f, range(10))`, one per line, in the order they are done.
//
// `await using` closes and joins the pool at the end of the block (Python's `with` terminates it).
// `imapUnordered` is an async iterable: `for await`.
//
// Workers import this module to find the task, so it imports only the lean Task module at the
// top and the facade in the main block: a worker then boots in ~50 ms instead of ~500 ms.
import * as Task from "@multiproc/runtime/Task"
import { print, range } from "../internal/py.ts"

export const f = Task.make(import.meta, function f(x: number) {
  return x * x
})

if (import.meta.main) {
  const { Pool } = await import("@multiproc/primitives/promise")
  // start 4 worker processes
  await using pool = new Pool({ processes: 4 })

  // print "[0, 1, 4,..., 81]"
  print(await pool.map(f, range(10)))

  // print same numbers in arbitrary order
  for await (const i of pool.imapUnordered(f, range(10))) {
    print(i)
  }
}
