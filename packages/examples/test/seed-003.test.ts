// Seed 003 ("Python multiprocessing", python.land): the CPU-heavy examples, with fewer calls.
import { describe, expect, it } from "vitest"
import { runExample } from "./run.ts"

describe("seed 003: python.land", () => {
  it("heavy() in one process per call", async () => {
    const r = await runExample("seed-003/01-heavy-processes.ts", ["2"])
    expect(r.code).toBe(0)
    expect(r.lines.filter((l) => l.endsWith("is done")).sort()).toEqual(["0 is done", "1 is done"])
    expect(r.lines.at(-1)).toMatch(/^Took: {2}\d+(\.\d+)?$/)
  })
})
