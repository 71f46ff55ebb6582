// Seed 002, Pipe: the child sends `[42, None, 'hello']` through its end of a Pipe and closes it;
// the parent receives and prints `[42, None, 'hello']`.
import { Pipe, type PipeConnection } from "@multiproc/primitives/promise/Pipe"
import { Process } from "@multiproc/primitives/promise/Process"
import * as Task from "@multiproc/runtime/Task"
import { print } from "../internal/py.ts"

export const f = Task.make(import.meta, async function f(conn: PipeConnection) {
  await conn.send([42, null, "hello"])
  conn.close()
})

if (import.meta.main) {
  const [parentConn, childConn] = Pipe()
  const p = new Process({ target: f, args: [childConn] })
  await p.start()
  print(await parentConn.recv()) // prints "[42, None, 'hello']"
  await p.join()
}
