import { describe, expect, it } from "vitest"
import { activeChildren, cpuCount, currentProcess, Lock, parentProcess, Process, Queue } from "@multiproc/primitives/promise"
import * as S from "./fixtures/process-subclasses.ts"
import * as T from "./fixtures/tasks.ts"

describe("Process facade (async/await)", () => {
  it("start, join, exitCode, result", async () => {
    const p = new Process({ target: T.square, args: [6] })
    expect(p.name).toMatch(/^Process-\d+$/)
    await p.start()
    expect(p.isAlive()).toBe(true)
    expect(await p.join()).toBe(0)
    expect(p.exitCode).toBe(0)
    expect(await p.result()).toBe(36)
  })

  it("rejects with the worker's error, class kept", async () => {
    const p = new Process({ target: T.throwCustom, args: [3] })
    await p.start()
    await p.join()
    expect(p.exitCode).toBe(1)
    await expect(p.result()).rejects.toBeInstanceOf(T.QuotaError)
  })

  it("join(timeout) resolves undefined while running; terminate gives -15", async () => {
    const p = new Process({ target: T.sleep, args: [30_000], backend: "process" })
    await p.start()
    expect(await p.join(100)).toBeUndefined()
    expect(activeChildren()).toContain(p)
    await p.terminate()
    expect(await p.join()).toBe(-15)
    expect(activeChildren()).not.toContain(p)
  })

  it("await using joins a process, terminates a daemon", async () => {
    let joined!: Process
    let daemon!: Process
    {
      await using a = new Process({ target: T.sleep, args: [200] })
      await using d = new Process({ target: T.sleep, args: [30_000], daemon: true })
      joined = a
      daemon = d
      await a.start()
      await d.start()
    }
    expect(joined.exitCode).toBe(0)
    expect(daemon.exitCode).toBe(-15)
  })

  it("Python's checks: a plain-function target or non-array args throw at construction, unsendable arguments reject start(), a closed object throws", async () => {
    expect(() => new Process({ target: ((x: number) => x) as any })).toThrow(/must be a Task/)
    expect(() => new Process({ target: T.square, args: 5 as any })).toThrow(/args must be an array/)
    const bad = new Process({ target: T.square, args: [(() => 1) as any] })
    await expect(bad.start()).rejects.toMatchObject({ _tag: "SerializationError", path: "args[0]" })
    expect(bad.isAlive()).toBe(false)
    await expect(bad.join()).rejects.toMatchObject({ reason: "NotStarted" })

    const p = new Process({ target: T.square, args: [3], backend: "process" })
    expect(() => p.sentinel).toThrow(/process not started/)
    expect(p.authkey).toBe(currentProcess().authkey)
    await p.start()
    expect(p.sentinel).toBe(p.process)
    expect(p.ident).toBe(p.pid)
    expect(p.pid).not.toBe(process.pid)
    await p.join()
    await p.close()
    expect(String(p)).toContain("closed")
    for (const read of [() => p.pid, () => p.ident, () => p.exitCode, () => p.sentinel, () => p.isAlive()]) {
      expect(read).toThrow(/process object is closed/)
    }
  })

  it("process-level functions", () => {
    expect(currentProcess().name).toBe("MainProcess")
    expect(parentProcess()).toBeUndefined()
    expect(cpuCount()).toBeGreaterThan(0)
  })
})

describe("Process facade subclasses (class P(Process): def run(self))", () => {
  for (const backend of ["thread", "process"] as const) {
    it(`runs the overridden run() with the instance's fields, a Queue among them (${backend})`, async () => {
      const q = new Queue<number>()
      const p = new S.Doubler(21, q, { backend })
      expect(p.name).toMatch(/^Process-\d+$/)
      await p.start()
      expect(await q.get()).toBe(42)
      expect(await p.join()).toBe(0)
      expect(p.exitCode).toBe(0)
      expect(await p.result()).toBe(42)
    })

    it(`a Lock field is the parent's lock; super.run() runs the target (${backend})`, async () => {
      const lock = new Lock()
      await lock.acquire()
      const p = new S.Guarded(lock, backend)
      await p.start()
      expect(await p.result()).toEqual({ got: false, target: 49 })
      await lock.release()
    })

    it(`this.name, this.pid, this.daemon describe the child; run() throwing gives exitcode 1 (${backend})`, async () => {
      const p = new S.Introspect(backend)
      await p.start()
      const seen = await p.result() as any
      expect(seen).toMatchObject({ name: "Introspector", daemon: true, alive: true, exitCode: undefined, tag: "x", own: ["tag"] })
      expect(seen.pid).toBe(backend === "process" ? p.pid : process.pid)

      const f = new S.Failing(backend)
      await f.start()
      expect(await f.join()).toBe(1)
      await expect(f.result()).rejects.toThrow("run failed")
    })
  }

  it("the class is found by its name among the module's exports; an unexported one fails with a resolution error", async () => {
    const a = new S.RenamedAliased()
    await a.start()
    expect(await a.result()).toBe("aliased")

    const h = S.makeHidden()
    await h.start()
    expect(await h.join()).toBe(1)
    const e = await h.result().catch((e) => e)
    expect(e).toMatchObject({ _tag: "ProcessError", reason: "InvalidArgument" })
    expect(e.message).toMatch(/^cannot resolve class "Hidden" in file:.*process-subclasses\.ts: no exported Process subclass by that name/)
  })

  it("typed errors: neither target nor run(), no module, a field that cannot cross (start() rejects, unstarted)", async () => {
    expect(new Process({ target: T.square, args: [6] }).run()).toBe(36) // Python's p.run(): the target, here
    expect(() => new Process({} as any)).toThrow(expect.objectContaining({ reason: "InvalidArgument", message: expect.stringMatching(/needs a target/) }))
    expect(() => new S.NoModule()).toThrow(expect.objectContaining({ reason: "InvalidArgument", message: expect.stringMatching(/NoModule overrides run\(\): pass \{ module: import.meta \}/) }))
    const bad = new S.Unsendable()
    await expect(bad.start()).rejects.toMatchObject({ _tag: "SerializationError", path: "fields.f" })
    expect(bad.isAlive()).toBe(false)
    await expect(bad.join()).rejects.toMatchObject({ reason: "NotStarted" })
    // Fixed, it starts: the failed start left it unstarted.
    bad.f = undefined
    await bad.start()
    expect(await bad.result()).toBe("no f")
  })
})
