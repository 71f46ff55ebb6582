// Unclosed pools and managers do not keep a program alive (Python terminates them at exit), but
// work in flight does, and what pool workers printed is not lost at exit.
import { describe, expect, it } from "vitest"
import { execFile } from "node:child_process"

const run = (backend: string) =>
  new Promise<{ stdout: string; stderr: string; code: number }>((resolve) => {
    execFile(process.execPath, [new URL("./fixtures/idle-exit-main.ts", import.meta.url).pathname, backend], { timeout: 45_000 }, (error, stdout, stderr) =>
      resolve({ stdout, stderr, code: error ? Number((error as any).code ?? 1) : 0 }))
  })

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
