// CPython's Lib/test/_test_multiprocessing.py, the process-level tests (_TestProcess,
// _TestSubclassingProcess, TestStdinBadfiledescriptor, MiscTestCase, ...), ported to both APIs and
// both backends.
import { describe, expect, it } from "vitest"
import { execFile } from "node:child_process"

const backends = ["thread", "process"] as const

/** Runs a fixture program with `input` written to its stdin, which stays open (as a terminal's). */
const runWithInput = (file: string, args: ReadonlyArray<string>, input: string) =>
  new Promise<{ stdout: string; stderr: string; code: number }>((resolve) => {
    const child = execFile(process.execPath, [new URL(`./fixtures/${file}`, import.meta.url).pathname, ...args], { timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ stdout, stderr, code: error ? Number((error as any).code ?? 1) : 0 }))
    child.stdin!.write(input)
  })

describe.each(backends)("TestStdinBadfiledescriptor (%s backend)", (backend) => {
  it("a child reading stdin gets end-of-file at once and does not take the main process's input", async () => {
    const { stdout, code } = await runWithInput("stdin-main.ts", [backend], "for the main process\n")
    expect(stdout.split("\n").filter(Boolean)).toEqual([
      `child: end-of-file; read ""`,
      "main: for the main process"
    ])
    expect(code).toBe(0)
  })
})
