import { describe, expect, it } from "@effect/vitest"
import { Process } from "@multiproc/primitives"
import { Effect, Exit } from "effect"
import * as T from "./fixtures/tasks.ts"

const backends = ["thread", "process"] as const

describe.each(backends)("Process (%s backend)", (backend) => {
  it.live("lifecycle: state before start, after start, after join", () =>
    Effect.scoped(Effect.gen(function*() {
      const p = yield* Process.make({ target: T.sleep, args: [200], backend })
      expect(p.isAlive()).toBe(false)
      expect(p.exitCode).toBeUndefined()
      expect(p.pid).toBeUndefined()
      expect(p.name).toMatch(/^Process-\d+$/)
      yield* Process.start(p)
      expect(p.isAlive()).toBe(true)
      expect(p.pid).toBeTypeOf("number")
      expect(p.exitCode).toBeUndefined()
      const code = yield* Process.join(p)
      expect(code).toBe(0)
      expect(p.isAlive()).toBe(false)
      expect(p.exitCode).toBe(0)
      expect(yield* Process.result(p)).toBe("slept")
    })))

  it.live("exit codes: 0, 1 on an uncaught failure, N for exit(N)", () =>
    Effect.scoped(Effect.gen(function*() {
      const ok = yield* Process.make({ target: T.square, args: [3], backend })
      const bad = yield* Process.make({ target: T.throwPlain, args: ["nope"], backend })
      const exit7 = yield* Process.make({ target: T.exitWith, args: [7], backend })
      for (const p of [ok, bad, exit7]) yield* Process.start(p)
      for (const p of [ok, bad, exit7]) yield* Process.join(p)
      expect([ok.exitCode, bad.exitCode, exit7.exitCode]).toEqual([0, 1, 7])
      expect(yield* Process.result(ok)).toBe(9)
      const e = yield* Effect.exit(Process.result(exit7))
      expect(Exit.isFailure(e)).toBe(true)
    })))

  it.live("terminate and kill report -15 and -9", () =>
    Effect.scoped(Effect.gen(function*() {
      const a = yield* Process.make({ target: T.sleep, args: [30_000], backend })
      const b = yield* Process.make({ target: T.sleep, args: [30_000], backend })
      yield* Process.start(a)
      yield* Process.start(b)
      yield* Process.terminate(a)
      yield* Process.kill(b)
      expect(yield* Process.join(a)).toBe(-15)
      expect(yield* Process.join(b)).toBe(-9)
    })))

  it.live("join with a timeout on a sleeping child", () =>
    Effect.scoped(Effect.gen(function*() {
      const p = yield* Process.make({ target: T.sleep, args: [30_000], backend })
      yield* Process.start(p)
      const t0 = Date.now()
      const code = yield* Process.join(p, "300 millis")
      const took = Date.now() - t0
      expect(code).toBeUndefined()
      expect(took).toBeGreaterThanOrEqual(250)
      expect(took).toBeLessThan(5_000)
      expect(p.isAlive()).toBe(true)
      expect(yield* Process.join(p, 0)).toBeUndefined()
      yield* Process.terminate(p)
      expect(yield* Process.join(p)).toBe(-15)
    })))

  it.live("close rules", () =>
    Effect.scoped(Effect.gen(function*() {
      const p = yield* Process.make({ target: T.sleep, args: [100], backend })
      yield* Process.start(p)
      const early = yield* Effect.flip(Process.close(p))
      expect(early.reason).toBe("StillRunning")
      yield* Process.join(p)
      yield* Process.close(p)
      yield* Process.close(p)
      const after = yield* Effect.flip(Process.join(p))
      expect(after.reason).toBe("Closed")
      const again = yield* Effect.flip(Process.start(p))
      expect(again.reason).toBe("Closed")
    })))

  it.live("misuse: join before start, start twice", () =>
    Effect.scoped(Effect.gen(function*() {
      const p = yield* Process.make({ target: T.square, args: [2], backend })
      expect((yield* Effect.flip(Process.join(p))).reason).toBe("NotStarted")
      yield* Process.start(p)
      expect((yield* Effect.flip(Process.start(p))).reason).toBe("AlreadyStarted")
      yield* Process.join(p)
    })))

  it.live("bad input: a target that is not a Task or args that are not an array fail make; arguments that cannot cross fail start and leave the process unstarted", () =>
    Effect.scoped(Effect.gen(function*() {
      const plain = yield* Effect.flip(Process.make({ target: ((x: number) => x) as any, args: [1], backend }))
      expect(plain.reason).toBe("InvalidArgument")
      expect(plain.message).toContain("Task")
      const notArray = yield* Effect.flip(Process.make({ target: T.square, args: 5 as any, backend }))
      expect(notArray.reason).toBe("InvalidArgument")
      const p = yield* Process.make({ target: T.square, args: [(() => 1) as any], backend })
      const e = yield* Effect.flip(Process.start(p))
      expect(e._tag).toBe("SerializationError")
      expect((e as any).path).toBe("args[0]")
      // Python: a start() that raised leaves the object unstarted; nothing waits for a worker.
      expect(p.isAlive()).toBe(false)
      expect(p.pid).toBeUndefined()
      expect((yield* Effect.flip(Process.join(p))).reason).toBe("NotStarted")
      expect((yield* Process.activeChildren()).includes(p)).toBe(false)
      // The whole run fails at once rather than waiting for a worker that never got its task.
      const run = yield* Effect.flip(Process.run({ target: T.square, args: [Symbol("x") as any], backend }))
      expect(run._tag).toBe("SerializationError")
    })))

  it.live("names: Process-N by default, given names kept; currentProcess and parentProcess in the child", () =>
    Effect.scoped(Effect.gen(function*() {
      const p = yield* Process.make({ target: T.whoAmI, backend })
      const named = yield* Process.make({ target: T.whoAmI, name: "Test", backend })
      yield* Process.start(p)
      yield* Process.start(named)
      const a = (yield* Process.result(p)) as any
      const b = (yield* Process.result(named)) as any
      expect(a.name).toBe(p.name)
      expect(b.name).toBe("Test")
      expect(a.parent).toBe("MainProcess")
      expect(a.parentAlive).toBe(true)
      if (backend === "process") expect(a.pid).not.toBe(process.pid)
      expect(Process.currentProcess().name).toBe("MainProcess")
      expect(Process.parentProcess()).toBeUndefined()
    })))

  it.live("nested processes report in depth-first order", () =>
    Effect.gen(function*() {
      const names = yield* Process.run({ target: T.nested, args: [2, 2], name: "Process-root", backend })
      expect(names).toEqual([
        "Process-root",
        expect.stringMatching(/^Process-\d+:1$/),
        expect.stringMatching(/^Process-\d+:1:1$/),
        expect.stringMatching(/^Process-\d+:1:2$/),
        expect.stringMatching(/^Process-\d+:2$/),
        expect.stringMatching(/^Process-\d+:2:1$/),
        expect.stringMatching(/^Process-\d+:2:2$/)
      ])
    }))

  it.live("50 processes started and joined", () =>
    Effect.scoped(Effect.gen(function*() {
      const ps = yield* Effect.forEach(Array.from({ length: 50 }, (_, i) => i), (i) => Process.make({ target: T.square, args: [i], backend }))
      for (const p of ps) yield* Process.start(p)
      for (const p of ps) yield* Process.join(p)
      expect(ps.map((p) => p.exitCode)).toEqual(ps.map(() => 0))
      const results = yield* Effect.forEach(ps, (p) => Process.result(p))
      expect(results).toEqual(ps.map((_, i) => i * i))
    })), 120_000)

  it.live("interrupting a process's scope terminates it; a daemon is terminated at scope close", () =>
    Effect.gen(function*() {
      let daemon!: Process.Process<unknown, never>
      yield* Effect.scoped(Effect.gen(function*() {
        daemon = yield* Process.make({ target: T.sleep, args: [30_000], daemon: true, backend })
        yield* Process.start(daemon)
      }))
      expect(daemon.isAlive()).toBe(false)
      expect(daemon.exitCode).toBe(-15)
    }))
})

describe("Process errors across the boundary", () => {
  it.live("a custom error class with fields and a cause keeps class, message, stack, fields and cause", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Process.run({ target: T.throwCustom, args: [5] }))
      expect(Exit.isFailure(exit)).toBe(true)
      const error = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Fail") as any : undefined
      const e = error.error as T.QuotaError
      expect(e).toBeInstanceOf(T.QuotaError)
      expect(e.name).toBe("QuotaError")
      expect(e.message).toBe("over quota 5")
      expect(e.limit).toBe(5)
      expect(e.stack).toContain("tasks.ts")
      expect(e.cause).toBeInstanceOf(TypeError)
      expect((e.cause as any).code).toBe("ENOSPC")
    }))

  it.live("an undeclared thrown error is a defect with its class kept", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Process.run({ target: T.throwPlain, args: ["out of range"] }))
      const die = Exit.isFailure(exit) ? exit.cause.reasons.find((r) => r._tag === "Die") as any : undefined
      expect(die.defect).toBeInstanceOf(RangeError)
      expect(die.defect.message).toBe("out of range")
    }))

  it.live("a Schema.TaggedError arrives typed in the error channel", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Process.run({ target: T.effectFail, args: [42] }))
      expect(error).toBeInstanceOf(T.NotFound)
      expect((error as T.NotFound)._tag).toBe("NotFound")
      expect((error as T.NotFound).id).toBe(42)
      const handled = yield* Process.run({ target: T.effectFail, args: [1] }).pipe(
        Effect.catchTag("NotFound", (e) => Effect.succeed(`missing ${e.id}`))
      )
      expect(handled).toBe("missing 1")
    }))
})

describe("start methods", () => {
  it.live("StartMethod picks the backend for the Effects it is provided to", () =>
    Effect.gen(function*() {
      const p = yield* Process.make({ target: T.square, args: [2] }).pipe(Effect.provideService(Process.StartMethod, "process"))
      expect(p.backend).toBe("process")
      const q = yield* Process.make({ target: T.square, args: [2], backend: "thread" }).pipe(Effect.provideService(Process.StartMethod, "process"))
      expect(q.backend).toBe("thread")
    }))

  it("setStartMethod: once, again only with force; unknown methods refused", () => {
    expect(Process.getAllStartMethods()).toEqual(["thread", "process"])
    expect(() => Process.setStartMethod("fork" as any, { force: true })).toThrow(/cannot find context/)
    Process.setStartMethod("process", { force: true })
    expect(() => Process.setStartMethod("thread")).toThrow(/context has already been set/)
    expect(Process.getStartMethod()).toBe("process")
    Process.setStartMethod(undefined, { force: true })
    expect(Process.getStartMethod(true)).toBeUndefined()
    expect(Process.getStartMethod()).toBe("thread")
  })

  it.live.each(["thread", "process"] as const)("a child's default start method is the one it was started with (%s), as in Python", (backend) =>
    Effect.gen(function*() {
      expect(yield* Process.run({ target: T.startMethodInChild, backend })).toEqual([backend, backend])
    }))

  it("setStartMethod(undefined) without force fixes the default, as Python's set_start_method(None)", () => {
    Process.setStartMethod(undefined, { force: true })
    Process.setStartMethod(undefined)
    expect(Process.getStartMethod(true)).toBe("thread")
    expect(() => Process.setStartMethod("process")).toThrow(/context has already been set/)
    Process.setStartMethod(undefined, { force: true })
    expect(Process.getStartMethod(true)).toBeUndefined()
  })

  it.live("a daemonic process may not start children", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(Process.run({ target: T.startChild, daemon: true }))
      expect(Exit.isFailure(exit)).toBe(true)
      const reason = Exit.isFailure(exit) ? (exit.cause.reasons[0] as any).error?.reason : undefined
      expect(reason).toBe("DaemonChildren")
    }))
})
