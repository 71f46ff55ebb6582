// Seed 000, the final program ("put it all together"): three processes store their results in a
// `Manager().dict()` passed as the keyword argument `queue`, and the parent prints the dict:
// `{'complexCalculation for 42': 51, 'complexCalculation for 69': 78, 'complexCalculation for 10': 21}`
// (the order of the entries is the order the processes finished in, in Python too).
//
// Differences: keyword arguments are one object (`{ num, queue }`); each proxy call is awaited;
// Python's `print(q)` prints the served dict, here `await q.getvalue()` fetches it to print. The
// seed never shuts the manager down (Python does at exit); here the idle manager does not keep
// the program alive either.
import type * as M from "@multiproc/primitives/Manager"
import { Manager } from "@multiproc/primitives/promise/Manager"
import { Process } from "@multiproc/primitives/promise/Process"
import * as Task from "@multiproc/runtime/Task"
import { print } from "../internal/py.ts"
import { proxy, type Shared } from "../internal/shared.ts"

export interface Kwargs {
  readonly num: number
  readonly queue?: Shared<M.DictProxy<string, number>> | undefined
}

// Implementation of a Manager.dict()
export const doComplexCalculation = Task.make(import.meta, async function doComplexCalculation({ num, queue }: Kwargs) {
  const otherNum = 9
  let result: number
  if (num === 10) result = 21
  else result = num + otherNum
  if (queue !== undefined) await proxy(queue).set(`complexCalculation for ${num}`, result)
  return result
})

if (import.meta.main) {
  const q = await (await Manager.start()).dict<string, number>()
  const processes: Array<Process> = []
  const process1 = new Process({ target: doComplexCalculation, args: [{ num: 42, queue: q }] })
  const process2 = new Process({ target: doComplexCalculation, args: [{ num: 69, queue: q }] })
  const process3 = new Process({ target: doComplexCalculation, args: [{ num: 10, queue: q }] })
  processes.push(process1)
  processes.push(process2)
  processes.push(process3)
  for (const p of processes) await p.start()
  for (const p of processes) await p.join()
  print(await q.getvalue())
}
