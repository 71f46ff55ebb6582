// Seed 001, `apply_async`: one call on a pool of 3, its result fetched with a 1 second timeout
// (`result.get(timeout=1)`); prints 50. A timeout rejects with `PoolError` reason "Timeout"
// (Python: `multiprocessing.TimeoutError`).
//
// The timeout counts from the call, and the call waits for a worker to boot. Python forks its
// workers in an instant; a worker here imports this module to find `doubler`. So this module
// imports only the (effect-free) Task module at the top and the facade inside the main block:
// the workers then boot in about 50 ms instead of about 400 ms. An optional argument sets the
// timeout in seconds (default 1, as in the seed).
import * as Task from "@multiproc/runtime/Task"
import { print } from "../internal/py.ts"

export const doubler = Task.make(import.meta, function doubler(number: number) {
  return number * 2
})

if (import.meta.main) {
  const { Pool } = await import("@multiproc/primitives/promise")
  const timeout = Number(process.argv[2] ?? 1)
  const pool = new Pool({ processes: 3 })
  const result = pool.applyAsync(doubler, [25])
  // Python's timeout is in seconds; a number here is milliseconds (or a Duration: "1 second").
  print(await result.get(timeout * 1000))
}
