// Seed 000 ("Intro to multiprocessing on Python"), every program ported and run as a program.
import { describe, expect, it } from "vitest"
import { items, runExample } from "./run.ts"

describe("seed 000: intro to multiprocessing", () => {
  it("Pool(5).map(doComplexCalculation, [25, 42, 69]) prints [34, 51, 78]", async () => {
    const r = await runExample("seed-000/01-pool-map.ts")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.lines).toEqual(["[34, 51, 78]"])
  })

  it("doEvenMoreComplexStuff with keyword arguments in three processes: prints nothing; the results exist", async () => {
    const quiet = await runExample("seed-000/02-process-kwargs.ts")
    expect(quiet.code).toBe(0)
    expect(quiet.stdout).toBe("")
    // isMutable=True adds 6 to otherNum, isDirty=False adds 6 to num: num + 12 + 9.
    const shown = await runExample("seed-000/02-process-kwargs.ts", ["--show"])
    expect(shown.code).toBe(0)
    expect(shown.lines).toEqual(["46", "63", "90"])
  })

  it("Manager().dict() filled by three processes", async () => {
    const r = await runExample("seed-000/03-manager-dict.ts")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.lines.length).toBe(1)
    expect(r.lines[0]).toMatch(/^\{.*\}$/)
    expect(items(r.lines[0]!).sort()).toEqual([
      "'complexCalculation for 10': 21",
      "'complexCalculation for 42': 51",
      "'complexCalculation for 69': 78"
    ])
  })

  it("the Queue variant: one result per process", async () => {
    const r = await runExample("seed-000/04-queue.ts")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.lines.length).toBe(1)
    expect(r.lines[0]).toMatch(/^\[.*\]$/)
    expect(items(r.lines[0]!).sort()).toEqual(["21", "51", "78"])
  })
})
