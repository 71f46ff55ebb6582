// Seed 002, Queue: a child puts `[42, None, 'hello']` on a Queue and the parent prints what it
// gets: `[42, None, 'hello']` (Python's None is null here; `print` writes it as Python does).
import { Process } from "@multiproc/primitives/promise/Process"
import { Queue } from "@multiproc/primitives/promise/Queue"
import * as Task from "@multiproc/runtime/Task"
import { print } from "../internal/py.ts"

export const f = Task.make(import.meta, async function f(q: Queue) {
  await q.put([42, null, "hello"])
})

if (import.meta.main) {
  const q = new Queue()
  const p = new Process({ target: f, args: [q] })
  await p.start()
  print(await q.get()) // prints "[42, None, 'hello']"
  await p.join()
}
