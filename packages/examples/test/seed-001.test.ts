// Seed 001 ("Python 201: a multiprocessing tutorial"), every example ported and run as a program.
import { describe, expect, it } from "vitest"
import { runExample } from "./run.ts"

describe("seed 001: Python 201", () => {
  it("doubler: five processes, each with its own pid", async () => {
    const r = await runExample("seed-001/01-doubler-pid.ts")
    expect(r.code).toBe(0)
    expect(r.lines.length).toBe(5)
    const pids = new Set<string>()
    for (const n of [5, 10, 15, 20, 25]) {
      const line = r.lines.find((l) => l.startsWith(`${n} doubled to ${n * 2} by process id: `))
      expect(line).toBeDefined()
      pids.add(line!.split(": ")[1]!)
    }
    expect(pids.size).toBe(5)
    expect(pids.has(String(process.pid))).toBe(false)
  })

  it("doubler with names: Process-2..6 by default, and Test", async () => {
    const r = await runExample("seed-001/02-doubler-names.ts")
    expect(r.code).toBe(0)
    expect(r.lines.sort()).toEqual([
      "10 doubled to 20 by: Process-3",
      "15 doubled to 30 by: Process-4",
      "2 doubled to 4 by: Test",
      "20 doubled to 40 by: Process-5",
      "25 doubled to 50 by: Process-6",
      "5 doubled to 10 by: Process-2"
    ])
  })
})
