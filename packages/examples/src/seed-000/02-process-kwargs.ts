// Seed 000, second example: a function with keyword arguments run by three processes, started
// together and then joined. Python passes `kwargs={"isMutable": True, "isDirty": False, "num": n}`;
// JavaScript has no keyword arguments, so the task takes one object with the same names (and the
// same defaults). Like the seed, the program prints nothing.
//
// The seed then says the return values cannot be retrieved from processes. Here they can:
// `await p.result()` gives the task's return value. Run with `--show` to print them.
//
// Workers import this module to find the task, so it imports only the lean Task module at the
// top and the facade in the main block: a worker then boots in ~50 ms instead of ~500 ms.
import type { Process } from "@multiproc/primitives/promise"
import * as Task from "@multiproc/runtime/Task"
import { print } from "../internal/py.ts"

export interface Kwargs {
  readonly num: number
  readonly isMutable?: boolean
  readonly isDirty?: boolean
}

export const doEvenMoreComplexStuff = Task.make(
  import.meta,
  function doEvenMoreComplexStuff({ num, isMutable = false, isDirty = true }: Kwargs) {
    let otherNum = 9
    if (isMutable === true) otherNum += 6
    if (isDirty === false) num += 6
    return num + otherNum
  }
)

if (import.meta.main) {
  const { Process } = await import("@multiproc/primitives/promise")
  const processes: Array<Process<typeof doEvenMoreComplexStuff>> = []
  const nums = [25, 42, 69]
  for (let i = 0; i < 3; i++) {
    const p = new Process({
      target: doEvenMoreComplexStuff,
      args: [{ isMutable: true, isDirty: false, num: nums[i]! }]
    })
    processes.push(p)
  }
  // Start them all, then join them all: joining inside the first loop would run them one by one.
  for (const p of processes) await p.start()
  for (const p of processes) await p.join()

  if (process.argv.includes("--show")) {
    for (const p of processes) print(await p.result())
  }
}
