// Seed 004, `p.apply_async(func, args=(i,), callback=call_back)`: ten asynchronous calls on a
// pool with the default size; each result (i + 1) goes to the callback, which runs in the parent
// and prints it plus one: 2 … 11, in the order the results arrive. Then `close()` and `join()`.
//
// Workers import this module to find the task, so it imports only the lean Task module at the
// top and the facade in the main block: a worker then boots in ~50 ms instead of ~500 ms.
import * as Task from "@multiproc/runtime/Task"
import { print, range } from "../internal/py.ts"

export const func = Task.make(import.meta, function func(i: number) {
  i += 1
  return i // the worker's result goes back to the parent
})

const callBack = (p1: number) => {
  p1 += 1
  print(p1)
}

if (import.meta.main) {
  const { Pool } = await import("@multiproc/primitives/promise")
  const p = new Pool()
  for (const i of range(10)) {
    p.applyAsync(func, [i], { callback: callBack }) // the result is handed to the callback
  }
  p.close()
  await p.join()
}
