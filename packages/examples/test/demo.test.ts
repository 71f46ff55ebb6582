import { expect, it } from "vitest"
import { runExample } from "./run.ts"

it("the demo runs", async () => {
  const r = await runExample("demo.ts")
  expect(r.code).toBe(0)
  expect(r.stdout).toContain("hello from a thread: Process-1")
  expect(r.stdout).toContain("hello from a process: Process-2")
  expect(r.stdout).toContain("caught Unlucky(number=13)")
})
