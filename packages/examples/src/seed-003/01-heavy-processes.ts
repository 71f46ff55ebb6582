// Seed 003 "Python multiprocessing", first example: 80 CPU-heavy calls, one process each.
// Python's heavy(n) computes x**y for x, y in 1..n-1 on arbitrary-precision integers; BigInt is
// the faithful equivalent. Arguments change the count and the size (defaults 80 and 500, as in
// the seed): `node 01-heavy-processes.ts 8 200`.
//
// Workers import this module to find the task, so it imports only the lean Task module at the
// top and the facade in the main block: a worker then boots in ~50 ms instead of ~500 ms.
import type { Process } from "@multiproc/primitives/promise"
import * as Task from "@multiproc/runtime/Task"

export const heavy = Task.make(import.meta, function heavy(n: number, myid: number) {
  for (let x = 1n; x < BigInt(n); x++) {
    for (let y = 1n; y < BigInt(n); y++) {
      void (x ** y)
    }
  }
  console.log(myid, "is done")
})

if (import.meta.main) {
  const { Process } = await import("@multiproc/primitives/promise")

  const multiproc = async (n: number, size: number) => {
    const processes: Array<Process> = []
    for (let i = 0; i < n; i++) {
      const p = new Process({ target: heavy, args: [size, i] })
      processes.push(p)
      await p.start()
    }
    for (const p of processes) await p.join()
  }

  const start = performance.now()
  await multiproc(Number(process.argv[2] ?? 80), Number(process.argv[3] ?? 500))
  console.log("Took: ", (performance.now() - start) / 1000)
}
