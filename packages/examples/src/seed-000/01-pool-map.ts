// Seed 000 "Intro to multiprocessing on Python", first example: a dummy calculation mapped over a
// pool of 5 workers. Python: `pool = Pool(5); result = pool.map(doComplexCalculation, [25, 42, 69])`.
// Prints `[34, 51, 78]`.
//
// As in the seed, the pool is never closed: Python terminates an unclosed pool's workers at exit;
// here idle pool workers do not keep the program alive either, so it ends once main is done.
//
// Workers import this module to find the task, so it imports only the lean Task module at the
// top and the facade in the main block: a worker then boots in ~50 ms instead of ~500 ms.
import * as Task from "@multiproc/runtime/Task"
import { print } from "../internal/py.ts"

export const doComplexCalculation = Task.make(import.meta, function doComplexCalculation(num: number) {
  const otherNum = 9
  if (num === 10) return 21
  return num + otherNum
})

if (import.meta.main) {
  const { Pool } = await import("@multiproc/primitives/promise")
  const pool = new Pool({ processes: 5 })
  const result = await pool.map(doComplexCalculation, [25, 42, 69])
  print(result)
}
