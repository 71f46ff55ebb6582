// Seed 001 "Python 201", Locks: three processes print an item each while holding a shared Lock.
// Python: `lock.acquire()`, `try: print(item) finally: lock.release()`; no join: the parent
// joins its (non-daemonic) children implicitly at exit, and so does this port.
import { Lock } from "@multiproc/primitives/promise/Lock"
import { Process } from "@multiproc/primitives/promise/Process"
import * as Task from "@multiproc/runtime/Task"
import { print } from "../internal/py.ts"

/** Prints out the item that was passed in. */
export const printer = Task.make(import.meta, async function printer(item: string | number, lock: Lock) {
  await lock.acquire()
  try {
    print(item)
  } finally {
    await lock.release()
  }
})

if (import.meta.main) {
  const lock = new Lock()
  const items = ["tango", "foxtrot", 10]
  for (const item of items) {
    const p = new Process({ target: printer, args: [item, lock] })
    await p.start()
  }
}
