import { expect, it } from "vitest"
import { runExample } from "./run.ts"

it("the demo runs", async () => {
  const r = await runExample("demo.ts")
  expect(r.code).toBe(0)
  expect(r.stdout).toContain("hello from a thread: Process-1")
  expect(r.stdout).toContain("hello from a process: Process-2")
  expect(r.stdout).toContain("[ 1, 4, 9, 16, 25 ]")
  expect(r.stdout).toContain("[ 10, 20, 'PoolError: WorkerCrashed (exitcode 7)', 40 ]")
  expect(r.stdout).toContain("[ 36, 49 ] (the pool goes on)")
  expect(r.stdout).toContain("value: 1000")
  expect(r.stdout).toContain("caught Unlucky(number=13)")
})
