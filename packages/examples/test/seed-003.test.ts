// Seed 003 ("Python multiprocessing", python.land): the CPU-heavy examples, with fewer and smaller
// calls (count 3, size 100) to keep the test short.
import { describe, expect, it } from "vitest"
import { runExample } from "./run.ts"

const expectDone = (lines: Array<string>) => {
  expect(lines.filter((l) => l.endsWith("is done")).sort()).toEqual(["0 is done", "1 is done", "2 is done"])
  expect(lines.length).toBe(4)
  expect(lines.at(-1)).toMatch(/^Took: {2}\d+(\.\d+)?$/)
}

describe("seed 003: python.land", () => {
  it("heavy() in one process per call", async () => {
    const r = await runExample("seed-003/01-heavy-processes.ts", ["3", "100"])
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expectDone(r.lines)
  })

  it("heavy() through Pool().map", async () => {
    const r = await runExample("seed-003/02-heavy-pool.ts", ["3", "100"])
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expectDone(r.lines)
  })

  it("heavy() through Pool.map, Effect API", async () => {
    const r = await runExample("seed-003/02-heavy-pool-effect.ts", ["3", "100"])
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expectDone(r.lines)
  })
})
