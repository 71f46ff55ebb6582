// Seed 001, process communication: a creator process puts data on a Queue, a consumer process
// gets and doubles it until it sees the sentinel -1. The parent closes its own handle of the
// queue (`q.close()`, `q.join_thread()`) and joins both processes.
//
// Output: "Creating data and putting it on the queue" from the creator, and from the consumer,
// in order, "data found to be processed: 5", "10", ..., "data found to be processed: -1", "-2".
// (The two processes run at the same time, so the creator's line may come anywhere.)
import { Process } from "@multiproc/primitives/promise/Process"
import { Queue } from "@multiproc/primitives/promise/Queue"
import * as Task from "@multiproc/runtime/Task"
import { print } from "../internal/py.ts"

const sentinel = -1

/** Creates data to be consumed and waits for the consumer to finish processing. */
export const creator = Task.make(import.meta, async function creator(data: Array<number>, q: Queue<number>) {
  print("Creating data and putting it on the queue")
  for (const item of data) {
    await q.put(item)
  }
})

/** Consumes some data and works on it; in this case, all it does is double the input. */
export const myConsumer = Task.make(import.meta, async function my_consumer(q: Queue<number>) {
  while (true) {
    const data = await q.get()
    print(`data found to be processed: ${data}`)
    const processed = data * 2
    print(processed)
    // Python's `data is sentinel` works because small ints are cached; `===` is the equivalent.
    if (data === sentinel) break
  }
})

if (import.meta.main) {
  const q = new Queue<number>()
  const data = [5, 10, 13, -1]
  const processOne = new Process({ target: creator, args: [data, q] })
  const processTwo = new Process({ target: myConsumer, args: [q] })
  await processOne.start()
  await processTwo.start()

  q.close()
  await q.joinThread()

  await processOne.join()
  await processTwo.join()
}
