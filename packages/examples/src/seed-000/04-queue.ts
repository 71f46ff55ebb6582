// Seed 000, the Queue variant of doComplexCalculation: each process puts its result on a
// `multiprocessing.Queue` passed as the keyword argument `queue`. The seed only shows the
// function; this is the final program with a Queue instead of the Manager dict, the parent
// getting one result per process (in the order they were put: 51, 78 and 21 in any order).
//
// Differences: keyword arguments are one object. The seed's sketch returns 21 for num == 10
// before reaching `queue.put`, so the parent would wait for ever for a third result; this port
// computes the result first and puts it in every case, as the seed's final program does.
import { Process } from "@multiproc/primitives/promise/Process"
import { Queue } from "@multiproc/primitives/promise/Queue"
import * as Task from "@multiproc/runtime/Task"
import { print } from "../internal/py.ts"

export interface Kwargs {
  readonly num: number
  readonly queue?: Queue<number> | undefined
}

// Implementation of a Queue
export const doComplexCalculation = Task.make(import.meta, async function doComplexCalculation({ num, queue }: Kwargs) {
  const otherNum = 9
  const result = num === 10 ? 21 : num + otherNum
  if (queue !== undefined) await queue.put(result)
  return result
})

if (import.meta.main) {
  const q = new Queue<number>()
  const processes = [42, 69, 10].map((num) => new Process({ target: doComplexCalculation, args: [{ num, queue: q }] }))
  for (const p of processes) await p.start()
  // Unlike Python, joining a process that put items on a queue before they are consumed cannot
  // deadlock: the items are already in the queue.
  for (const p of processes) await p.join()
  const results: Array<number> = []
  for (const _ of processes) results.push(await q.get())
  print(results)
}
