// Seed 001 "Python 201", first example: processes doubling numbers, each printing its pid.
// Python: Process(target=doubler, args=(number,)) for 5 numbers, start each, then join each.
//
// Workers import this module to find the task, so it imports only the lean Task module at the
// top and the facade in the main block: a worker then boots in ~50 ms instead of ~500 ms.
import type { Process } from "@multiproc/primitives/promise"
import * as Task from "@multiproc/runtime/Task"

export const doubler = Task.make(import.meta, function doubler(number: number) {
  const result = number * 2
  console.log(`${number} doubled to ${result} by process id: ${process.pid}`)
})

if (import.meta.main) {
  const { Process } = await import("@multiproc/primitives/promise")
  const numbers = [5, 10, 15, 20, 25]
  const procs: Array<Process> = []
  for (const number of numbers) {
    // The process backend gives each its own OS pid, as in Python.
    const proc = new Process({ target: doubler, args: [number], backend: "process" })
    procs.push(proc)
    await proc.start()
  }
  for (const proc of procs) await proc.join()
}
