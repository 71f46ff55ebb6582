// Seed 001, second example: default process names (Process-N) and a given name ("Test").
import { currentProcess, Process } from "@multiproc/primitives/promise/Process"
import * as Task from "@multiproc/runtime/Task"

export const doubler = Task.make(import.meta, function doubler(number: number) {
  const result = number * 2
  const procName = currentProcess().name
  console.log(`${number} doubled to ${result} by: ${procName}`)
})

if (import.meta.main) {
  const numbers = [5, 10, 15, 20, 25]
  const procs: Array<Process> = []
  // As in the tutorial, one Process object is created and never started: names start at Process-2.
  new Process({ target: doubler, args: [5] })
  for (const number of numbers) {
    const proc = new Process({ target: doubler, args: [number] })
    procs.push(proc)
    await proc.start()
  }
  const proc = new Process({ target: doubler, name: "Test", args: [2] })
  await proc.start()
  procs.push(proc)
  for (const proc of procs) await proc.join()
}
