// Seed 002, Lock, second version: `print('hello world', i)`. The seed's output is garbled
// ("hello world3 ", " 2hello world"): Python's print writes 'hello world', ' ', i and '\n' one
// by one, and the notebook interleaved the children's streams even though each print ran under
// the lock. Here `print` writes each line in one piece and the children's output reaches the
// parent's stdout line by line, so the ten lines come out whole: hello world 0 … 9.
import { Lock } from "@multiproc/primitives/promise/Lock"
import { Process } from "@multiproc/primitives/promise/Process"
import * as Task from "@multiproc/runtime/Task"
import { print } from "../internal/py.ts"

export const f = Task.make(import.meta, async function f(l: Lock, i: number) {
  await l.acquire()
  try {
    print("hello world", i)
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
