// Seed 001 "Python 201", first example: processes doubling numbers, each printing its pid.
// Python: Process(target=doubler, args=(number,)) for 5 numbers, start each, then join each.
import { Process } from "@multiproc/primitives/promise"
import { Task } from "@multiproc/runtime"

export const doubler = Task.make(import.meta, function doubler(number: number) {
  const result = number * 2
  console.log(`${number} doubled to ${result} by process id: ${process.pid}`)
})

if (import.meta.main) {
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
