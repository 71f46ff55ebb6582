// Seed 002 ("multiprocessing python package", the official docs' examples), every program
// ported and run as a program.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { byNumber, items, range, runExample } from "./run.ts"

const helloWorlds = range(10).map((i) => `hello world ${i}`)

describe("seed 002: multiprocessing python package", () => {
  it("with Pool(5) as p: p.map(f, [1, 2, 3]) prints [1, 4, 9]", async () => {
    const r = await runExample("seed-002/01-pool-map.ts")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.lines).toEqual(["[1, 4, 9]"])
  })

  it("Process: info() from the main process and from a child process", async () => {
    const r = await runExample("seed-002/02-process-info.ts")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.lines).toEqual([
      "main line",
      "module name: __main__",
      `parent process: ${process.pid}`,
      `process id: ${r.pid}`,
      "function f",
      "module name: __main__", // as with Python's fork, the seed's start method
      `parent process: ${r.pid}`,
      expect.stringMatching(/^process id: \d+$/),
      "hello bob"
    ])
    expect(r.lines[7]).not.toBe(`process id: ${r.pid}`)
  })

  it("Queue: the parent gets [42, None, 'hello'] from the child", async () => {
    const r = await runExample("seed-002/03-queue.ts")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.lines).toEqual(["[42, None, 'hello']"])
  })

  it("a plain list does not work: the parent's list stays []", async () => {
    const r = await runExample("seed-002/04-plain-list.ts")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.lines).toEqual(["[]"])
  })

  it("Pipe: the parent receives [42, None, 'hello']", async () => {
    const r = await runExample("seed-002/05-pipe.ts")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.lines).toEqual(["[42, None, 'hello']"])
  })

  it("try / except / finally: a missing file, an integer, not an integer", async () => {
    const dir = mkdtempSync(join(tmpdir(), "seed-002-"))
    try {
      const missing = await runExample("seed-002/06-try-finally.ts", [], 30_000, { cwd: dir })
      expect(missing.code).toBe(0)
      expect(missing.lines).toEqual(["未知错误！", "t1.txt"])
      writeFileSync(join(dir, "t1.txt"), " 42\n")
      const good = await runExample("seed-002/06-try-finally.ts", [], 30_000, { cwd: dir })
      expect(good.lines).toEqual(["42", "t1.txt"])
      const bad = join(dir, "bad.txt")
      writeFileSync(bad, "4.2")
      const notInt = await runExample("seed-002/06-try-finally.ts", [bad])
      expect(notInt.lines).toEqual(["未知错误！", bad])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it("Lock: ten processes print 'hello world i' in one piece each", async () => {
    const r = await runExample("seed-002/07-lock-hello.ts")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.stdout.endsWith("\n")).toBe(true)
    expect([...r.lines].sort()).toEqual(helloWorlds)
  })

  it("Lock with print('hello world', i): the lines come out whole", async () => {
    const r = await runExample("seed-002/08-lock-print.ts")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect([...r.lines].sort()).toEqual(helloWorlds)
  })

  it("Value and Array in shared memory, written by the child", async () => {
    const r = await runExample("seed-002/09-value-array.ts")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.lines).toEqual(["3.1415927", "[0, -1, -2, -3, -4, -5, -6, -7, -8, -9]"])
  })

  it("Manager dict and list changed by a child", async () => {
    const r = await runExample("seed-002/10-manager-dict-list.ts")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.lines).toEqual(["{1: '1', '2': 2, 0.25: None}", "[9, 8, 7, 6, 5, 4, 3, 2, 1, 0]"])
  })

  it("Pool map, then imap_unordered", async () => {
    const r = await runExample("seed-002/11-pool-imap-unordered.ts")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    const squares = range(10).map((x) => String(x * x))
    expect(r.lines[0]).toBe("[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]")
    expect(r.lines.slice(1).sort(byNumber)).toEqual(squares)
  })

  it("shared dict and list of two managers, filled by ten processes", async () => {
    const r = await runExample("seed-002/12-manager-shared-dict-list.ts")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.lines.length).toBe(3)
    expect(r.lines[0]).toBe("Results:")
    expect(r.lines[1]).toMatch(/^字典 \{.*\}$/)
    expect(items(r.lines[1]!.slice("字典 ".length)).sort()).toEqual(range(10).map((i) => `${i}: ${i * 2}`).sort())
    expect(r.lines[2]).toMatch(/^列表 \[.*\]$/)
    expect(items(r.lines[2]!.slice("列表 ".length)).sort(byNumber)).toEqual(range(10).map(String))
  })
})
