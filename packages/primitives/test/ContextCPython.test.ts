// CPython's TestStartMethod and MiscTestCase.test__all__ (Lib/test/_test_multiprocessing.py), and
// the exception classes of `multiprocessing` (ProcessError, BufferTooShort, TimeoutError,
// AuthenticationError), through the async/await API.
import { describe, expect, it } from "vitest"
import * as F from "@multiproc/primitives/promise"
import { ManagerError } from "@multiproc/primitives/Manager"
import * as fs from "node:fs"
import * as P from "./fixtures/pool-tasks.ts"
import * as T from "./fixtures/tasks.ts"

/** Python's `check_context`: a child started by `ctx.Process` reports `ctx`'s start method. */
const checkContext = async (ctx: { readonly Process: typeof F.Process; readonly Pipe: typeof F.Pipe }, method: string) => {
  const [r, w] = ctx.Pipe(false)
  const p = new ctx.Process({ target: T.startMethodInChild })
  await p.start()
  await w.close()
  expect(p.process.backend).toBe(method)
  expect(await p.result()).toEqual([method, method])
  await r.close()
  expect(await p.join()).toBe(0)
}

describe("CPython TestStartMethod", () => {
  it("test_context: each method's context, its own getContext(), no setStartMethod on it", async () => {
    for (const method of F.getAllStartMethods()) {
      const ctx = F.getContext(method)
      expect(ctx.getStartMethod()).toBe(method)
      expect(ctx.getContext()).toBe(ctx)
      expect(ctx.getContext(null)).toBe(ctx)
      for (const m of ["process", undefined] as const) {
        expect(() => ctx.setStartMethod(m)).toThrow(expect.objectContaining({ _tag: "ProcessError", reason: "BadStartMethod", message: "cannot set start method of concrete context" }))
      }
    }
    await checkContext(F.getContext("process"), "process")
  })

  it("test_set_get: the method set is the module's (getStartMethod, getContext(), a new Process)", async () => {
    const old = F.getStartMethod()
    try {
      for (const method of F.getAllStartMethods()) {
        F.setStartMethod(method, { force: true })
        expect(F.getStartMethod()).toBe(method)
        expect(F.getContext().getStartMethod()).toBe(method)
        if (method === "process") await checkContext(F, method)
      }
    } finally {
      F.setStartMethod(old, { force: true })
    }
  })

  it("test_get_all: the methods, the default first; a new array each time, as Python's list", () => {
    const methods = F.getAllStartMethods() as Array<string>
    expect(methods).toEqual(["thread", "process"])
    methods.push("fork")
    expect(F.getAllStartMethods()).toEqual(["thread", "process"])
    expect(() => F.setStartMethod("fork" as any, { force: true })).toThrow(expect.objectContaining({ reason: "BadStartMethod" }))
  })

  it("get_start_method(allow_none=True) does not fix the method; set_start_method twice fails as Python's", () => {
    const old = F.getStartMethod()
    try {
      F.setStartMethod(undefined, { force: true })
      expect(F.getStartMethod(true)).toBeUndefined()
      F.setStartMethod("process")
      expect(() => F.setStartMethod("thread")).toThrow(expect.objectContaining({ _tag: "ProcessError", reason: "ContextAlreadySet", message: "context has already been set" }))
    } finally {
      F.setStartMethod(old, { force: true })
    }
  })
})

describe("MiscTestCase.test__all__: Python's public names in the async/await API", () => {
  // Python's name -> this API's; `null`: deliberately not provided, and named as such in docs/api.md.
  const names: Record<string, Record<string, string | null>> = {
    multiprocessing: {
      Array: "Array", AuthenticationError: "AuthenticationError", Barrier: "Barrier", BoundedSemaphore: "BoundedSemaphore",
      BufferTooShort: "BufferTooShort", Condition: "Condition", Event: "Event", JoinableQueue: "JoinableQueue", Lock: "Lock",
      Manager: "Manager", Pipe: "Pipe", Pool: "Pool", Process: "Process", ProcessError: "ProcessError", Queue: "Queue",
      RLock: "RLock", RawArray: "RawArray", RawValue: "RawValue", Semaphore: "Semaphore", SimpleQueue: "SimpleQueue",
      TimeoutError: "TimeoutError", Value: "Value", active_children: "activeChildren", allow_connection_pickling: null,
      cpu_count: "cpuCount", current_process: "currentProcess", freeze_support: "freezeSupport",
      get_all_start_methods: "getAllStartMethods", get_context: "getContext", get_logger: "getLogger",
      get_start_method: "getStartMethod", log_to_stderr: "logToStderr", parent_process: "parentProcess", reducer: null,
      set_executable: null, set_forkserver_preload: null, set_start_method: "setStartMethod"
    },
    "multiprocessing.connection": { Client: "Client", Listener: "Listener", Pipe: "Pipe", wait: "wait", Connection: "Connection" },
    "multiprocessing.managers": { BaseManager: "Manager", SyncManager: "Manager", BaseProxy: null, Token: null, SharedMemoryManager: "SharedMemoryManager" },
    "multiprocessing.pool": { Pool: "Pool", ThreadPool: null, AsyncResult: "AsyncResult" },
    "multiprocessing.shared_memory": { SharedMemory: "SharedMemory", ShareableList: "ShareableList" }
  }
  const api = fs.readFileSync(new URL("../../../docs/api.md", import.meta.url), "utf8")
  const notProvided = api.slice(api.indexOf("## Not provided"))

  for (const [module, map] of Object.entries(names)) {
    it(`${module}: each name is exported, or listed under docs/api.md's "Not provided"`, () => {
      const missing = Object.entries(map).filter(([, ours]) => ours !== null && (F as Record<string, unknown>)[ours] === undefined)
      expect(missing).toEqual([])
      const undocumented = Object.entries(map).filter(([python, ours]) => ours === null && !notProvided.includes(`\`${python}\``))
      expect(undocumented).toEqual([])
    })
  }

  it("a context offers the module's names too (Python's ctx has multiprocessing's)", () => {
    const ctx = F.getContext("thread") as unknown as Record<string, unknown>
    const skip = new Set(["Process", "Pool", "Manager", "getContext", "setStartMethod", "getStartMethod"])
    const missing = Object.values(names.multiprocessing!).filter((ours) => ours !== null && !skip.has(ours) && (ctx[ours] === undefined || ctx[ours] !== (F as Record<string, unknown>)[ours]))
    expect(missing).toEqual([])
  })

  it("_TestImportStar: every module the package exports imports, and none of its names is undefined", async () => {
    const dir = new URL("../src/", import.meta.url)
    const modules = fs.readdirSync(dir).filter((f) => f.endsWith(".ts")).map((f) => `@multiproc/primitives/${f.slice(0, -3)}`)
    const empty: Array<string> = []
    for (const name of ["@multiproc/primitives", "@multiproc/primitives/promise", ...modules]) {
      const mod = await import(name) as Record<string, unknown>
      for (const [key, value] of Object.entries(mod)) if (value === undefined) empty.push(`${name}.${key}`)
    }
    expect(modules.length).toBeGreaterThan(10)
    expect(empty).toEqual([])
  })

  it("freezeSupport does nothing, as Python's outside a frozen Windows program", () => {
    expect(F.freezeSupport()).toBeUndefined()
  })
})

describe("the exception classes: `instanceof` matches the errors of that kind, as Python's `except`", () => {
  it("BufferTooShort: a pipe's and a network connection's recvBytesInto into a short buffer", async () => {
    const [a, b] = F.Pipe()
    await a.sendBytes(new Uint8Array(8))
    const e = await b.recvBytesInto(new Uint8Array(4)).catch((x) => x)
    expect(e instanceof F.BufferTooShort).toBe(true)
    expect(e instanceof F.TimeoutError || e instanceof F.AuthenticationError).toBe(false)
    expect(e instanceof F.PipeError).toBe(true)
    await using listener = await F.Listener.listen({})
    const [client, served] = await Promise.all([F.Client(listener.address), listener.accept()])
    await client.sendBytes(new Uint8Array(8))
    const n = await served.recvBytesInto(new Uint8Array(4)).catch((x) => x)
    expect(n instanceof F.BufferTooShort).toBe(true)
    await client.close()
    await served.close()
  })

  it("AuthenticationError: a wrong authkey, on both sides; a manager's too", async () => {
    await using listener = await F.Listener.listen({ authkey: "right" })
    const [client, served] = await Promise.allSettled([F.Client(listener.address, { authkey: "wrong" }), listener.accept()])
    expect(client.status === "rejected" && client.reason instanceof F.AuthenticationError).toBe(true)
    expect(served.status === "rejected" && served.reason instanceof F.AuthenticationError).toBe(true)
    // Manager.connect with a wrong key: a ManagerError with reason AuthenticationError.
    await using manager = await F.Manager.start({ address: { port: 0 }, authkey: "right" })
    const refused = await F.Manager.connect(manager.address!, { authkey: "wrong" }).catch((e) => e)
    expect(refused.reason).toBe("AuthenticationError")
    expect(refused instanceof F.AuthenticationError).toBe(true)
    expect(new ManagerError({ reason: "ServerGone", message: "x" }) instanceof F.AuthenticationError).toBe(false)
  })

  it("TimeoutError: AsyncResult.get(timeout) of a result not ready", async () => {
    await using pool = new F.Pool(1)
    const r = pool.applyAsync(P.square, [3])
    const e = await pool.applyAsync(P.sleepThen, [300, 1]).get(10).catch((x) => x)
    expect(e instanceof F.TimeoutError).toBe(true)
    expect(e instanceof F.PoolError).toBe(true)
    expect(await r.get()).toBe(9)
    expect(new Error("x") instanceof F.TimeoutError).toBe(false)
    expect((null as unknown) instanceof F.BufferTooShort).toBe(false)
  })

  it("the module's error classes are exported, for `instanceof` and `_tag` checks", () => {
    for (const name of ["ProcessError", "PoolError", "PipeError", "QueueError", "LockError", "SemaphoreError", "ConditionError", "EventError", "BarrierError", "ConnectionError", "ManagerError", "SharedValueError", "SharedMemoryError", "LoggingError"]) {
      expect(typeof (F as Record<string, unknown>)[name], name).toBe("function")
    }
  })
})
