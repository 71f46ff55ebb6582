import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFile } from "node:child_process"

const runProgram = (file: string, ...args: Array<string>) =>
  Effect.promise(() =>
    new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) => {
      execFile(process.execPath, [new URL(file, import.meta.url).pathname, ...args], { timeout: 120_000 }, (error, stdout, stderr) =>
        resolve({ stdout, stderr, code: error ? (error as any).code ?? 1 : 0 })
      )
    })
  )

describe("Logging", () => {
  it.live.each(["thread", "process"])("log_to_stderr: lifecycle records of every process, annotated with its name (%s)", (backend) =>
    Effect.gen(function*() {
      const { stdout, stderr, code } = yield* runProgram("./fixtures/logging-main.ts", backend)
      expect(code).toBe(0)
      expect(stdout.split("\n").filter(Boolean).sort()).toEqual(["10", "foxtrot", "tango"])
      const lines = stderr.split("\n").filter(Boolean)
      for (const n of [1, 2, 3]) {
        expect(lines).toContain(`[INFO/Process-${n}] child process calling self.run()`)
        expect(lines).toContain(`[INFO/Process-${n}] process shutting down`)
        expect(lines).toContain(`[INFO/Process-${n}] process exiting with exitcode 0`)
      }
      // Each child's own records come in its lifecycle order.
      const own = lines.filter((l) => l.startsWith("[INFO/Process-1]"))
      expect(own).toEqual([
        "[INFO/Process-1] child process calling self.run()",
        "[INFO/Process-1] process shutting down",
        "[INFO/Process-1] process exiting with exitcode 0"
      ])
    }))

  it.live("Logging.layer sends child records through Effect's logger with processName", () =>
    Effect.gen(function*() {
      const { stderr, code } = yield* runProgram("./fixtures/logging-effect.ts")
      expect(code).toBe(0)
      expect(stderr).toContain("[INFO/MainProcess] from the parent")
      expect(stderr).toContain("[WARNING/Worker-A] from the child")
    }))
})
