// Seed 002, server process: a Manager's dict and list changed by a child; the parent prints
// `{1: '1', '2': 2, 0.25: None}` and `[9, 8, 7, 6, 5, 4, 3, 2, 1, 0]`.
//
// `with Manager() as manager:` is `await using manager = await Manager.start()` (shut down at the
// end of the block, as in Python). Every proxy call is a request to the server: `d[1] = '1'` is
// `await d.set(1, '1')`, `l.reverse()` is `await l.reverse()`. Python's `print(d)` prints the
// served dict; here `await d.getvalue()` fetches a copy to print. Keys 1 and '2' stay distinct,
// as in Python.
import type * as M from "@multiproc/primitives/Manager"
import { Manager } from "@multiproc/primitives/promise/Manager"
import { Process } from "@multiproc/primitives/promise/Process"
import * as Task from "@multiproc/runtime/Task"
import { print, range } from "../internal/py.ts"
import { proxy, type Shared } from "../internal/shared.ts"

type Key = number | string

export const f = Task.make(
  import.meta,
  async function f(dict: Shared<M.DictProxy<Key, unknown>>, list: Shared<M.ListProxy<number>>) {
    const d = proxy(dict)
    const l = proxy(list)
    await d.set(1, "1")
    await d.set("2", 2)
    await d.set(0.25, null)
    await l.reverse()
  }
)

if (import.meta.main) {
  await using manager = await Manager.start()
  const d = await manager.dict<Key, unknown>()
  const l = await manager.list(range(10))

  const p = new Process({ target: f, args: [d, l] })
  await p.start()
  await p.join()

  print(await d.getvalue())
  print(await l.getvalue())
}
