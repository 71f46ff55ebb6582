// Seed 002, Lock: ten processes print "hello world i" while holding a shared lock, each line
// written in one piece (`print(f'hello world {i}\n', end='')`). Prints hello world 0 … 9, one per
// line (in the order the processes get the lock: usually, not necessarily, 0 to 9). As in the
// seed there is no join: the parent joins its children at exit.
import { Lock } from "@multiproc/primitives/promise/Lock"
import { Process } from "@multiproc/primitives/promise/Process"
import * as Task from "@multiproc/runtime/Task"

export const f = Task.make(import.meta, async function f(l: Lock, i: number) {
  await l.acquire()
  try {
    process.stdout.write(`hello world ${i}\n`)
  } finally {
    await l.release()
  }
})

if (import.meta.main) {
  const lock = new Lock()
  for (let num = 0; num < 10; num++) {
    await new Process({ target: f, args: [lock, num] }).start()
  }
}
