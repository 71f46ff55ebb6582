import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { runProgram } from "./program.ts"

const run = (file: string, ...args: Array<string>) => Effect.promise(() => runProgram(file, args, 120_000))

describe("Logging", () => {
  it.live.each(["thread", "process"])("log_to_stderr: lifecycle records of every process, annotated with its name (%s)", (backend) =>
    Effect.gen(function*() {
      const { stdout, stderr, code } = yield* run("logging-main.ts", backend)
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
      const { stderr, code } = yield* run("logging-effect.ts")
      expect(code).toBe(0)
      expect(stderr).toContain("[INFO/MainProcess] from the parent")
      expect(stderr).toContain("[WARNING/Worker-A] from the child")
    }))
})
