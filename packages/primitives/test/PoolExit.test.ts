import { expect, it } from "vitest"
import { runProgram } from "./program.ts"

it("a pool that is never closed does not keep the program alive (its workers are daemons)", async () => {
  const { code, stdout } = await runProgram("pool-forgotten.ts")
  expect(code).toBe(0)
  expect(stdout).toContain("[ 1, 4, 9 ]")
  expect(stdout).toContain("callback 16")
  expect(stdout).toContain("get 16")
})
