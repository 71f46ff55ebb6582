// Seed 003, the pooled version: `with multiprocessing.Pool() as pool: pool.map(doit, range(80))`,
// where doit(n) runs heavy(500, n) (x**y for x, y in 1..499 on big integers, as BigInt here).
// The pool has one worker per CPU by default, as in Python, and reuses them for the 80 calls.
//
// `await using` closes and joins the pool at the end of the block (Python's `with` terminates it;
// map has returned by then, so nothing differs). Arguments change the count and the size
// (defaults 80 and 500, as in the seed): `node 02-heavy-pool.ts 8 200`. The size reaches the
// workers through the environment they inherit, so that `doit` keeps the seed's signature.
//
// Workers import this module to find the task, so it imports only the lean Task module at the
// top and the facade in the main block: a worker then boots in ~50 ms instead of ~500 ms.
import * as Task from "@multiproc/runtime/Task"

// A CPU heavy calculation, just as an example. This can be anything you like.
const heavy = (n: number, myid: number) => {
  for (let x = 1n; x < BigInt(n); x++) {
    for (let y = 1n; y < BigInt(n); y++) {
      void (x ** y)
    }
  }
  console.log(myid, "is done")
}

export const doit = Task.make(import.meta, function doit(n: number) {
  heavy(Number(process.env.HEAVY_SIZE ?? 500), n)
})

if (import.meta.main) {
  const { Pool } = await import("@multiproc/primitives/promise")
  if (process.argv[3] !== undefined) process.env.HEAVY_SIZE = process.argv[3]

  const pooled = async (n: number) => {
    // By default, our pool will have cpuCount() slots.
    await using pool = new Pool()
    await pool.map(doit, Array.from({ length: n }, (_, i) => i))
  }

  const start = performance.now()
  await pooled(Number(process.argv[2] ?? 80))
  console.log("Took: ", (performance.now() - start) / 1000)
}
