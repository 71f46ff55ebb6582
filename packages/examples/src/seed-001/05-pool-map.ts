// Seed 001, the Pool class: `Pool(processes=3)` maps a doubler over [5, 10, 20] and prints the
// list `[10, 20, 40]`. As in the seed the pool is not closed; its idle workers do not keep the
// program alive (Python terminates them at exit).
import { Pool } from "@multiproc/primitives/promise"
import { Task } from "@multiproc/runtime"
import { print } from "../internal/py.ts"

export const doubler = Task.make(import.meta, function doubler(number: number) {
  return number * 2
})

if (import.meta.main) {
  const numbers = [5, 10, 20]
  const pool = new Pool({ processes: 3 })
  print(await pool.map(doubler, numbers))
}
