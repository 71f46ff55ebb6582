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

  it.live.each(["thread", "process"])("children still running when the program is done are joined then, logged as Python's exit handler does (%s)", (backend) =>
    Effect.gen(function*() {
      const { stdout, stderr, code } = yield* run("logging-exit-join.ts", backend)
      expect(code).toBe(0)
      expect(stdout).toBe("slow done\nslow done\n")
      const lines = stderr.split("\n").filter(Boolean)
      const of = (name: string) => lines.filter((l) => l.startsWith(`[INFO/${name}] `)).map((l) => l.slice(`[INFO/${name}] `.length))
      // The main program is done at once: it shuts down and joins both children (in no set order,
      // as Python's active_children() is a set) while they still run.
      const main = of("MainProcess")
      expect(main[0]).toBe("process shutting down")
      expect(main.slice(1).sort()).toEqual(["calling join() for process Process-1", "calling join() for process Process-2"])
      expect(lines.indexOf("[INFO/MainProcess] process shutting down")).toBeLessThan(
        lines.indexOf("[INFO/Process-1] process exiting with exitcode 0")
      )
      // A child shuts down, then joins its own child, then exits.
      expect(of("Process-2")).toEqual([
        "child process calling self.run()",
        "process shutting down",
        "calling join() for process Process-2:1",
        "process exiting with exitcode 0"
      ])
      expect(of("Process-2:1")).toEqual([
        "child process calling self.run()",
        "process shutting down",
        "process exiting with exitcode 0"
      ])
    }))

  it.live("Logging.layer sends child records through Effect's logger with processName", () =>
    Effect.gen(function*() {
      const { stderr, code } = yield* run("logging-effect.ts")
      expect(code).toBe(0)
      expect(stderr).toContain("[INFO/MainProcess] from the parent")
      expect(stderr).toContain("[WARNING/Worker-A] from the child")
    }))

  it.live.each(["thread", "process"])("CPython's _TestLogging: the logger's name and format, a level set before logToStderr() kept, a child starts with its parent's level, bad levels refused (%s)", (backend) =>
    Effect.gen(function*() {
      const { stdout, stderr, code } = yield* run("logging-cpython-main.ts", backend)
      expect(code).toBe(0)
      expect(stdout.split("\n").filter(Boolean)).toEqual([
        "name multiprocessing",
        "level after logToStderr() 20",
        "child level 32",
        "refused LoggingError InvalidLevel: Unknown level: 'FOO'",
        "refused LoggingError InvalidLevel: Level not an integer or a valid string: 1.5",
        "refused LoggingError InvalidLevel: Level not an integer or a valid string: NaN",
        "refused LoggingError InvalidLevel: Level not an integer or a valid string: null",
        "level kept 32"
      ])
      // Python's format, `[%(levelname)s/%(processName)s] %(message)s`; a level without a name is
      // `Level 32`. Records under the level are dropped: the INFO lifecycle records too.
      expect(stderr.split("\n").filter(Boolean)).toEqual([
        "[SUBWARNING/MainProcess] but this will",
        "[Level 32/Process-1] from the child at 32"
      ])
    }))
})
