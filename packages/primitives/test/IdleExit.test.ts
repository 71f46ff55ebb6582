// Unclosed pools and managers do not keep a program alive (Python terminates them at exit), but
// work in flight does, and what pool workers printed is not lost at exit.
import { describe, expect, it } from "vitest"
import { runProgram } from "./program.ts"

const run = (backend: string) => runProgram("idle-exit-main.ts", [backend], 45_000)

describe("idle pool and manager workers", () => {
  it.each(["thread", "process"])("a program with an unclosed Pool and Manager ends when main is done (%s)", async (backend) => {
    const r = await run(backend)
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    const lines = r.stdout.split("\n").filter(Boolean)
    expect(lines.filter((l) => !l.startsWith("worker "))).toEqual(["map [1,4,9]", "apply slept", "applyAsync slept", "dict 1", "done"])
    expect(lines.filter((l) => l.startsWith("worker ")).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `worker ${i}`).sort())
  })
})
