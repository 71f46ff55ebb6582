// Seed 001, Logging: the Lock example with multiprocessing's logger sent to stderr at INFO.
// Python: `multiprocessing.log_to_stderr()`, `logger = multiprocessing.get_logger()`,
// `logger.setLevel(logging.INFO)`. Every child logs its lifecycle ("child process calling
// self.run()", "process shutting down", "process exiting with exitcode 0") as `[INFO/Process-N]`,
// and the parent logs "[INFO/MainProcess] process shutting down" at exit.
//
// One difference in the records: Python runs its exit handler as soon as the main script ends,
// while children may still run, and logs "calling join() for process Process-N" for each of them.
// Node has no such moment: a program ends when nothing is left to do, and running non-daemonic
// children are something to do. So the implicit join happens first, and MainProcess logs
// "process shutting down" after the children are gone (no "calling join()" lines).
import { Lock } from "@multiproc/primitives/promise/Lock"
import { Process } from "@multiproc/primitives/promise/Process"
import * as Logging from "@multiproc/runtime/Logging"
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
  Logging.logToStderr()
  const logger = Logging.getLogger()
  logger.setLevel("INFO")
  for (const item of items) {
    const p = new Process({ target: printer, args: [item, lock] })
    await p.start()
  }
}
