// Seed 001, Logging: the Lock example with multiprocessing's logger sent to stderr at INFO.
// Python: `multiprocessing.log_to_stderr()`, `logger = multiprocessing.get_logger()`,
// `logger.setLevel(logging.INFO)`. Every child logs its lifecycle ("child process calling
// self.run()", "process shutting down", "process exiting with exitcode 0") as `[INFO/Process-N]`.
// As in Python, the parent's exit handler runs once the main program is done, while the children
// may still run: it logs "[INFO/MainProcess] process shutting down", then "calling join() for
// process Process-N" for each child still running then, and joins them (the seed has no join).
// Which children are still running at that moment depends on timing, in Python too.
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
