// Seed 002, "a plain list does not work": the child appends to a list passed as an argument, and
// the parent's list stays empty: prints `[]`. Arguments are copied to the child (encoded when the
// process starts), as Python pickles them; the child appends to its own copy. Use a Queue, a Pipe
// or a Manager list to get data back.
//
// Workers import this module to find the task, so it imports only the lean Task module at the
// top and the facade in the main block: a worker then boots in ~50 ms instead of ~500 ms.
import * as Task from "@multiproc/runtime/Task"
import { print } from "../internal/py.ts"

export const f = Task.make(import.meta, function f(q: Array<unknown>) {
  q.push([42, null, "hello"])
})

if (import.meta.main) {
  const { Process } = await import("@multiproc/primitives/promise")
  const q: Array<unknown> = []
  const p = new Process({ target: f, args: [q] })
  await p.start()
  print(q) // the seed's comment says "[42, None, 'hello']"; it prints []
  await p.join()
}
