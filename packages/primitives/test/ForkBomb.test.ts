// CPython's TestNoForkBomb: a main program without the `if __name__ == "__main__"` guard (here
// `if (import.meta.main)`) fails in the child with a clear error instead of starting processes
// without end.
import { describe, expect, it } from "vitest"
import { runProgram } from "./program.ts"

describe("no fork bomb", () => {
  it.each(["thread", "process"])("an unguarded program's child fails at import, exit code 1 (%s)", async (backend) => {
    const r = await runProgram("fork-bomb.ts", [backend])
    expect(r.stdout).toBe("")
    expect(r.code).toBe(1)
    expect(r.stderr).toContain("Process Process-1:")
    expect(r.stderr).toContain("starts a process")
    expect(r.stderr).toContain("import.meta.main")
  })

  it("an unguarded program's pool works; the pools its workers would start fail", async () => {
    const r = await runProgram("fork-bomb-pool.ts")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    const lines = r.stdout.split("\n").filter(Boolean)
    expect(lines.filter((l) => l.startsWith("main"))).toEqual(["main [2,4,6]"])
    const workers = lines.filter((l) => l.startsWith("worker"))
    expect(workers.length).toBeGreaterThan(0)
    expect(new Set(workers)).toEqual(new Set(["worker failed: true"]))
  })
})
