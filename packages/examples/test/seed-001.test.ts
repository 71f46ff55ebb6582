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
    expect(pids.has(String(r.pid))).toBe(false)
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

  it("Lock: three processes print their item under a shared lock, joined implicitly at exit", async () => {
    const r = await runExample("seed-001/03-lock-printer.ts")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.lines.sort()).toEqual(["10", "foxtrot", "tango"])
  })

  it("logging: log_to_stderr at INFO shows each process's lifecycle", async () => {
    const r = await runExample("seed-001/04-logging.ts")
    expect(r.code).toBe(0)
    expect(r.lines.sort()).toEqual(["10", "foxtrot", "tango"])
    const log = r.stderr.split("\n").filter(Boolean)
    for (const n of [1, 2, 3]) {
      expect(log.filter((l) => l.startsWith(`[INFO/Process-${n}] `))).toEqual([
        `[INFO/Process-${n}] child process calling self.run()`,
        `[INFO/Process-${n}] process shutting down`,
        `[INFO/Process-${n}] process exiting with exitcode 0`
      ])
    }
    // The parent's exit handler: "process shutting down" first, then a join for each child still
    // running at that moment (which ones depends on timing, as in Python).
    const main = log.filter((l) => l.startsWith("[INFO/MainProcess] "))
    expect(main[0]).toBe("[INFO/MainProcess] process shutting down")
    const joins = main.slice(1)
    for (const l of joins) expect(l).toMatch(/^\[INFO\/MainProcess\] calling join\(\) for process Process-[123]$/)
    expect(new Set(joins).size).toBe(joins.length)
    // The last child cannot be done yet when the program is: it has to get the lock from it first.
    expect(joins).toContain("[INFO/MainProcess] calling join() for process Process-3")
    expect(log.length).toBe(10 + joins.length)
  })

  it("Pool(processes=3).map(doubler, [5, 10, 20]) prints [10, 20, 40]", async () => {
    const r = await runExample("seed-001/05-pool-map.ts")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.lines).toEqual(["[10, 20, 40]"])
  })

  it("the same map with the Effect API", async () => {
    const r = await runExample("seed-001/05-pool-map-effect.ts")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.lines).toEqual(["[10, 20, 40]"])
  })

  it("apply_async(doubler, (25,)).get(timeout) prints 50", async () => {
    // The seed's timeout is 1 s (the default); a loaded test machine gets more room.
    const r = await runExample("seed-001/06-pool-apply-async.ts", ["30"])
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.lines).toEqual(["50"])
  })

  it("Queue between a creator and a consumer, ending at the sentinel", async () => {
    const r = await runExample("seed-001/07-queue-sentinel.ts")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    const creator = "Creating data and putting it on the queue"
    expect(r.lines.filter((l) => l === creator).length).toBe(1)
    expect(r.lines.filter((l) => l !== creator)).toEqual([
      "data found to be processed: 5",
      "10",
      "data found to be processed: 10",
      "20",
      "data found to be processed: 13",
      "26",
      "data found to be processed: -1",
      "-2"
    ])
  })
})
