import { describe, expect, it } from "vitest"
import {
  activeChildren,
  Array as SharedArray,
  Barrier,
  BoundedSemaphore,
  Condition,
  cpuCount,
  currentProcess,
  Event,
  getContext,
  getLogger,
  getStartMethod,
  JoinableQueue,
  Lock,
  logToStderr,
  parentProcess,
  Pipe,
  Pool,
  Process,
  Queue,
  RawArray,
  RawValue,
  RLock,
  Semaphore,
  setStartMethod,
  SimpleQueue,
  Value
} from "@multiproc/primitives/promise"
import * as C from "./fixtures/context-tasks.ts"

describe("getContext (Python's multiprocessing.get_context)", () => {
  for (const [method, otherPid] of [["process", true], ["thread", false]] as const) {
    it(`a ${method} context's Process and Pool run ${otherPid ? "in other OS processes" : "in threads"}; its Queue crosses to its Process`, async () => {
      const ctx = getContext(method)
      expect(ctx.getStartMethod()).toBe(method)
      const q = new ctx.Queue<number>()
      const p = new ctx.Process({ target: C.putPid, args: [q] })
      expect(p).toBeInstanceOf(Process)
      await p.start()
      const got = await q.get()
      expect(await p.join()).toBe(0)
      expect(p.process.backend).toBe(method)
      expect(got !== process.pid).toBe(otherPid)

      await using pool = new ctx.Pool({ processes: 2 })
      expect(pool).toBeInstanceOf(Pool)
      const pids = await pool.map(C.pid, [1, 2, 3, 4])
      expect(pids.every((x) => x !== process.pid)).toBe(otherPid)
      expect(pids.every((x) => x === process.pid)).toBe(!otherPid)
    })
  }

  it("an explicit backend still wins over the context's", async () => {
    const p = new (getContext("process").Process)({ target: C.pid, backend: "thread" })
    await p.start()
    expect(await p.result()).toBe(process.pid)
  })

  it("class P extends ctx.Process runs in the context's start method", async () => {
    const q = new Queue<number>()
    const p = new C.PidProcess(q)
    expect(p.process.backend).toBe("process")
    await p.start()
    const got = await q.get()
    expect(await p.join()).toBe(0)
    expect(got).not.toBe(process.pid)
  })

  it("a context's Manager serves from a worker of its start method", async () => {
    for (const method of ["process", "thread"] as const) {
      const before = new Set(activeChildren())
      await using m = await getContext(method).Manager.start()
      const server = activeChildren().find((c) => !before.has(c) && c.name.startsWith("SyncManager"))
      expect(server).toBeDefined()
      expect(server!.pid !== process.pid).toBe(method === "process")
      const d = await m.dict<string, number>()
      await d.set("a", 1)
      expect(await d.get("a", 0)).toBe(1)
    }
  })

  it("offers the module's other names", () => {
    const ctx = getContext("thread")
    expect(ctx).toMatchObject({
      SimpleQueue,
      JoinableQueue,
      Pipe,
      Lock,
      RLock,
      Semaphore,
      BoundedSemaphore,
      Condition,
      Event,
      Barrier,
      Value,
      Array: SharedArray,
      RawValue,
      RawArray,
      activeChildren,
      currentProcess,
      parentProcess,
      cpuCount,
      getLogger,
      logToStderr
    })
    expect(ctx.Queue).toBe(Queue)
    expect(getContext("thread")).toBe(ctx)
    expect(ctx.getContext("process")).toBe(getContext("process"))
  })

  it("an unknown method throws BadStartMethod, Python's names included", () => {
    for (const m of ["spawn", "fork", "forkserver", "x"]) {
      expect(() => getContext(m as any)).toThrow(expect.objectContaining({ _tag: "ProcessError", reason: "BadStartMethod", message: `cannot find context for '${m}'` }))
    }
  })

  it("getContext() is the current start method's context, and fixes it", () => {
    try {
      setStartMethod("process", { force: true })
      expect(getContext().getStartMethod()).toBe("process")
      expect(getContext()).toBe(getContext("process"))
      setStartMethod("thread", { force: true })
      expect(getContext()).toBe(getContext("thread"))
      setStartMethod(undefined, { force: true })
      // As Python's get_context(None): fixes the default, so setting it again needs force.
      expect(getContext().getStartMethod()).toBe(getStartMethod())
      expect(() => setStartMethod("process")).toThrow(expect.objectContaining({ reason: "ContextAlreadySet" }))
    } finally {
      setStartMethod(undefined, { force: true })
    }
  })
})
