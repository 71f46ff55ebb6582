// Seed 002 "multiprocessing python package" (the official docs' examples), Pool objects:
// `with Pool(5) as p: print(p.map(f, [1, 2, 3]))` prints `[1, 4, 9]`.
//
// Python's `with Pool() as p:` calls `terminate()` on exit. `await using` here closes the pool
// and joins it instead (queued work is finished, then the workers exit); call
// `await p.terminate()` inside the block for Python's behaviour. For this program the result is
// the same: map has returned before the block ends.
//
// Workers import this module to find the task, so it imports only the lean Task module at the
// top and the facade in the main block: a worker then boots in ~50 ms instead of ~500 ms.
import * as Task from "@multiproc/runtime/Task"
import { print } from "../internal/py.ts"

export const f = Task.make(import.meta, function f(x: number) {
  return x * x
})

if (import.meta.main) {
  const { Pool } = await import("@multiproc/primitives/promise")
  await using p = new Pool({ processes: 5 })
  print(await p.map(f, [1, 2, 3]))
}
