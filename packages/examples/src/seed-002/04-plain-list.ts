// Seed 002, "a plain list does not work": the child appends to a list passed as an argument, and
// the parent's list stays empty: prints `[]`. Arguments are copied to the child (encoded when the
// process starts), as Python pickles them; the child appends to its own copy. Use a Queue, a Pipe
// or a Manager list to get data back.
import { Process } from "@multiproc/primitives/promise"
import { Task } from "@multiproc/runtime"
import { print } from "../internal/py.ts"

export const f = Task.make(import.meta, function f(q: Array<unknown>) {
  q.push([42, null, "hello"])
})

if (import.meta.main) {
  const q: Array<unknown> = []
  const p = new Process({ target: f, args: [q] })
  await p.start()
  print(q) // the seed's comment says "[42, None, 'hello']"; it prints []
  await p.join()
}
