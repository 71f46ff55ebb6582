// Seed 002, the Process class: `info(title)` prints the module name, the parent's pid and its own
// pid, from the main process and then from a child running `f('bob')`.
//
// The child runs on the "process" backend, so that it has its own pid and its parent is this
// program, as in Python. Python's `__name__` in the child depends on the start method: `'__main__'`
// with fork (Linux's default up to Python 3.13, the seed's output), `'__mp_main__'` with spawn and
// forkserver. A child here imports this module afresh, as spawn does (`import.meta.main` is false
// there, which is what keeps it from running the main block), but the program prints what the
// seed's does: `module name: __main__` in both processes.
//
// Workers import this module to find the task, so it imports only the lean Task module at the
// top and the facade in the main block: a worker then boots in ~50 ms instead of ~500 ms.
import * as Task from "@multiproc/runtime/Task"
import { print } from "../internal/py.ts"

const __name__ = "__main__"

const info = (title: string) => {
  print(title)
  print("module name:", __name__)
  print("parent process:", process.ppid)
  print("process id:", process.pid)
}

export const f = Task.make(import.meta, function f(name: string) {
  info("function f")
  print("hello", name)
})

if (import.meta.main) {
  const { Process } = await import("@multiproc/primitives/promise")
  info("main line")
  const p = new Process({ target: f, args: ["bob"], backend: "process" })
  await p.start()
  await p.join()
}
