import { describe, expect, it } from "@effect/vitest"
import { Child, Task } from "@multiproc/runtime"
import * as kernel from "@multiproc/runtime/internal/kernel"
import { Effect, Exit, Fiber } from "effect"
import { spawn as spawnOs } from "node:child_process"
import { existsSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as E from "./fixtures/effect-tasks.ts"
import * as Long from "./fixtures/a-task-module-whose-url-is-longer-than-sixty-four-characters.ts"
import * as L from "./fixtures/lean.ts"
import { isomorphic } from "./isomorphic.ts"

const backends = ["thread", "process"] as const

const failure = <A, E>(exit: Exit.Exit<A, E>) =>
  Exit.isFailure(exit) ? exit.cause.reasons[0] as any : undefined

describe("Child (thread backend): kills and module imports", () => {
  it.live("a kill waits until the thread is not in the middle of importing a task module", () =>
    Effect.scoped(Effect.gen(function*() {
      // V8 can abort the whole process when a thread is terminated as an async module finishes
      // evaluating; the kill is held (bounded) until the import is over.
      const { loaded } = yield* Effect.promise(() => import("./fixtures/slow-import.ts"))
      const child = yield* Child.spawn({ backend: "thread" })
      yield* child.ready
      const call = yield* Effect.forkChild(Effect.exit(child.call(loaded, [])))
      yield* Effect.sleep("100 millis")
      const t0 = Date.now()
      yield* child.kill
      expect(yield* child.exited).toBe(-9)
      expect(Date.now() - t0).toBeGreaterThanOrEqual(500)
      // The call settles either way: done if it finished before the kill landed, else crashed.
      const exit = yield* Fiber.join(call)
      if (Exit.isFailure(exit)) expect(failure(exit)?.error?.reason).toBe("Crashed")
      else expect(exit.value).toBe("loaded")
    })), 20_000)
})

describe("Child (thread backend): eager compilation of the runtime", () => {
  it.live("threads count themselves while they compile the runtime eagerly; ready or killed during boot, none stays counted", () =>
    Effect.gen(function*() {
      const count = new Int32Array(kernel.eagerCounter())
      yield* Effect.scoped(Effect.gen(function*() {
        const children = yield* Effect.all(Array.from({ length: 4 }, () => Child.spawn({ backend: "thread" })), { concurrency: "unbounded" })
        yield* Effect.forEach(children, (c) => c.ready, { concurrency: "unbounded" })
        expect(Atomics.load(count, 0)).toBe(0)
      }))
      // Killed while it compiles: as soon as it counted itself (this thread spins until then).
      let caught = 0
      for (let i = 0; i < 3; i++) {
        yield* Effect.scoped(Effect.gen(function*() {
          const child = yield* Child.spawn({ backend: "thread" })
          const deadline = Date.now() + 10_000
          yield* Effect.sync(() => {
            while (Atomics.load(count, 0) === 0 && Date.now() < deadline) {
              // spin
            }
          })
          if (Atomics.load(count, 0) > 0) caught++
          yield* child.kill
          yield* child.exited
        }))
      }
      expect(caught).toBeGreaterThan(0)
      expect(Atomics.load(count, 0)).toBe(0)
    }))
})

describe.each(backends)("Child (%s backend)", (backend) => {
  it.live("the worker's compile cache is on from its start, and the variables that turn it on do not reach the task", () =>
    Effect.scoped(Effect.gen(function*() {
      const child = yield* Child.spawn({ backend })
      const [dir, cacheVar, marker] = yield* child.call(L.compileCache, [])
      expect(typeof dir).toBe("string")
      expect(cacheVar).toBe(process.env.NODE_COMPILE_CACHE)
      expect(marker).toBeUndefined()
      // A cache directory given to the worker is the one it uses, and the task sees it.
      const own = join(tmpdir(), `multiproc-cache-test-${process.pid}-${backend}`)
      const given = yield* Child.spawn({ backend, env: { NODE_COMPILE_CACHE: own } })
      const [ownDir, ownVar, ownMarker] = yield* given.call(L.compileCache, [])
      expect(ownDir?.startsWith(own)).toBe(true)
      expect(ownVar).toBe(own)
      expect(ownMarker).toBeUndefined()
      yield* Effect.sync(() => rmSync(own, { recursive: true, force: true }))
    })))

  it.live("awakeAfterReply: the worker's event loop keeps polling for that long after a reply, then sleeps", () =>
    Effect.scoped(Effect.gen(function*() {
      // Event-loop utilisation tells polling (active) from sleeping in the poll phase (idle).
      const awake = yield* Child.spawn({ backend, awakeAfterReply: "40 millis" })
      const asleep = yield* Child.spawn({ backend, awakeAfterReply: 0 })
      // A loaded machine can make a sleeping loop look busy (a process descheduled in a callback
      // counts as active), never a polling one look idle: the sleeping one gets three tries.
      let asleepActive = Infinity
      for (let attempt = 0; attempt < 3 && asleepActive >= 20; attempt++) {
        for (const child of [awake, asleep]) yield* child.call(L.loopUse, [])
        yield* Effect.sleep("150 millis")
        const [a, b] = yield* Effect.all([awake.call(L.loopUse, []), asleep.call(L.loopUse, [])])
        expect(a.active).toBeGreaterThanOrEqual(30)
        expect(a.idle).toBeGreaterThanOrEqual(50)
        expect(b.idle).toBeGreaterThanOrEqual(100)
        asleepActive = b.active
      }
      expect(asleepActive).toBeLessThan(20)
    })))

  it.live("a worker whose messages are all plain never loads msgpackr; the first other message loads it", () =>
    Effect.scoped(Effect.gen(function*() {
      const child = yield* Child.spawn({ backend })
      expect(yield* child.call(L.usesMsgpackr, [])).toBe(false)
      expect(yield* child.call(L.usesMsgpackr, [[1, "two", [3], null, undefined]])).toBe(false)
      // A task that returns nothing (a Process target, typically) answers plainly too.
      expect(yield* child.call(L.setFlag, [])).toBe(undefined)
      expect(yield* child.call(L.usesMsgpackr, [])).toBe(false)
      expect(yield* child.call(L.usesMsgpackr, [new Map([[1, 2]])])).toBe(true)
    })))

  it.live("a task whose module URL is long is named to its worker without msgpackr", () =>
    Effect.scoped(Effect.gen(function*() {
      expect(Long.usesMsgpackr.module.length).toBeGreaterThan(64)
      const child = yield* Child.spawn({ backend })
      expect(yield* child.call(Long.usesMsgpackr, [])).toBe(false)
    })))

  it.live("awakeAfterReply and pollForReply must be durations from 0 to 1 second: anything else is a SpawnFailed error", () =>
    Effect.gen(function*() {
      for (const option of ["awakeAfterReply", "pollForReply"] as const) {
        for (const bad of ["2 seconds", "Infinity", -1, Number.NaN, "soon"] as const) {
          const error = yield* Effect.flip(Effect.scoped(Child.spawn({ backend, [option]: bad as any })))
          expect(error.reason).toBe("SpawnFailed")
          expect(error.message).toContain(`${option} must be a duration from 0 to 1 second`)
        }
      }
    }))

  it.live("calls sent before the worker is ready all run (nothing waits for READY, nothing is lost)", () =>
    Effect.scoped(Effect.gen(function*() {
      const child = yield* Child.spawn({ backend, concurrency: 1 })
      const results = yield* Effect.forEach(Array.from({ length: 50 }, (_, i) => i), (i) => child.call(L.echo, [i]), { concurrency: "unbounded" })
      expect(results).toEqual(Array.from({ length: 50 }, (_, i) => i))
    })))

  it.live("pollForReply: the caller's event loop keeps polling while a call awaits its reply, up to that long", () =>
    Effect.scoped(Effect.gen(function*() {
      const polling = yield* Child.spawn({ backend, pollForReply: "40 millis" })
      const quiet = yield* Child.spawn({ backend })
      const use = (child: Child.Child) =>
        Effect.gen(function*() {
          const before = performance.eventLoopUtilization()
          // The reply comes after 150 ms: the loop polls for the first 40 ms, then sleeps.
          yield* child.call(L.sleep, [150])
          return performance.eventLoopUtilization(before)
        })
      // A loaded machine can make a sleeping loop look busy, or keep a polling one from
      // reaching its sleep in time (seen once at load average 9: no idle time at all), never
      // make a polling loop look idle while it polls: three tries.
      let pollingIdle = 0
      let quietActive = Infinity
      for (let attempt = 0; attempt < 3 && (pollingIdle < 50 || quietActive >= 25); attempt++) {
        const a = yield* use(polling)
        const b = yield* use(quiet)
        expect(a.active).toBeGreaterThanOrEqual(30)
        pollingIdle = a.idle
        quietActive = b.active
      }
      expect(pollingIdle).toBeGreaterThanOrEqual(50)
      expect(quietActive).toBeLessThan(25)
    })))

  it.live("values cross both ways exactly", () =>
    Effect.scoped(Effect.gen(function*() {
      const child = yield* Child.spawn({ backend })
      const shared = { s: "x" }
      const value = {
        lone: "\ud800", negZero: -0, nan: NaN, big: 2n ** 80n, holes: [1, , 3], undef: undefined,
        map: new Map([[1, new Set(["a"])]]), date: new Date(7), bytes: new Float64Array([1.5]),
        a: shared, b: shared
      }
      const back = yield* child.call(L.echo, [value])
      expect(isomorphic(structuredClone(value), back)).toBeUndefined()
    })))

  it.live("an argument that cannot cross fails that call at the sender; the child goes on", () =>
    Effect.scoped(Effect.gen(function*() {
      const child = yield* Child.spawn({ backend })
      const error = yield* Effect.flip(child.call(L.echo, [{ nested: [{ f: () => 1 }] }] as any))
      expect((error as any)._tag).toBe("SerializationError")
      expect((error as any).path).toBe("args[0].nested[0].f")
      expect(yield* child.call(L.echo, ["still here"])).toBe("still here")
    })))

  it.live("a result that cannot cross fails the call with SerializationError", () =>
    Effect.scoped(Effect.gen(function*() {
      const child = yield* Child.spawn({ backend })
      const error = yield* Effect.flip(child.call(L.giveFunction, []))
      expect(error._tag).toBe("SerializationError")
      expect((error as any).path).toBe("result.fn")
      expect(yield* child.call(L.echo, [1])).toBe(1)
    })))

  it.live("an unresolvable task names the module, the export and the reason", () =>
    Effect.scoped(Effect.gen(function*() {
      const child = yield* Child.spawn({ backend })
      const module = new URL("./fixtures/lean.ts", import.meta.url).href
      const missing = failure(yield* Effect.exit(child.call(Task.ref(module, "nope"), [])))
      expect(missing._tag).toBe("Die")
      expect(missing.defect).toBeInstanceOf(Task.TaskResolutionError)
      expect(missing.defect.module).toBe(module)
      expect(missing.defect.key).toBe("nope")
      expect(missing.defect.message).toMatch(/no task or exported function by that name/)
      const notFn = failure(yield* Effect.exit(child.call(Task.ref(module, "notAFunction"), [])))
      expect(notFn.defect.reason).toMatch(/is a number, not a function/)
      const noModule = failure(yield* Effect.exit(child.call(Task.ref(new URL("./fixtures/absent.ts", import.meta.url), "x"), [])))
      expect(noModule.defect.reason).toMatch(/the module failed to load/)
    })))

  it.live("a worker that exits mid-call fails that call with a typed crash carrying the exit code", () =>
    Effect.scoped(Effect.gen(function*() {
      const child = yield* Child.spawn({ backend })
      const error = yield* Effect.flip(child.call(L.exitNow, [3]))
      expect(error._tag).toBe("ChildError")
      expect((error as Child.ChildError).reason).toBe("Crashed")
      expect((error as Child.ChildError).exitCode).toBe(3)
      expect(yield* child.exited).toBe(3)
      const after = yield* Effect.flip(child.call(L.echo, [1]))
      expect((after as Child.ChildError).reason).toBe("Exited")
    })))

  it.live("an uncaught exception in a callback crashes the worker with exitcode 1", () =>
    Effect.scoped(Effect.gen(function*() {
      const child = yield* Child.spawn({ backend })
      const error = (yield* Effect.flip(child.call(L.throwInTimer, []))) as Child.ChildError
      expect(error.reason).toBe("Crashed")
      expect(error.exitCode).toBe(1)
    })))

  it.live("interrupting a call interrupts the Effect task in the worker (finalizers run)", () =>
    Effect.scoped(Effect.gen(function*() {
      const child = yield* Child.spawn({ backend })
      const call = yield* Effect.forkChild(child.call(E.waitForever, []))
      // Interrupt only once the Effect runs in the worker (an earlier interrupt cancels it unstarted).
      for (let i = 0; i < 1000 && (yield* child.call(E.starts, [])) === 0; i++) yield* Effect.sleep("10 millis")
      yield* Fiber.interrupt(call)
      let count = 0
      for (let i = 0; i < 1000 && count === 0; i++) {
        count = (yield* child.call(E.interruptions, [])) as number
        if (count === 0) yield* Effect.sleep("10 millis")
      }
      expect(count).toBe(1)
    })))

  it.live("callUnsafe: the callback form answers once with the call's Exit, and cancelling interrupts the task", () =>
    Effect.scoped(Effect.gen(function*() {
      const child = yield* Child.spawn({ backend })
      const exitOf = <A>(start: (done: (exit: Exit.Exit<A, unknown>) => void) => void) =>
        Effect.callback<Exit.Exit<A, unknown>>((resume) => {
          let calls = 0
          start((exit) => {
            calls++
            if (calls === 1) resume(Effect.succeed(exit))
            else resume(Effect.die(new Error("answered twice")))
          })
        })
      expect(yield* exitOf((done) => child.callUnsafe(L.echo, [{ a: [1, 2] }], done))).toEqual(Exit.succeed({ a: [1, 2] }))
      // An argument that cannot cross: answered at once, with nothing sent.
      const bad = yield* exitOf((done) => child.callUnsafe(L.echo, [() => 1] as any, done))
      expect(failure(bad)?.error?._tag).toBe("SerializationError")
      const cancel = child.callUnsafe(E.waitForever, [], () => {
        throw new Error("a cancelled call must not answer")
      })
      for (let i = 0; i < 1000 && (yield* child.call(E.starts, [])) === 0; i++) yield* Effect.sleep("10 millis")
      cancel()
      let count = 0
      for (let i = 0; i < 1000 && count === 0; i++) {
        count = (yield* child.call(E.interruptions, [])) as number
        if (count === 0) yield* Effect.sleep("10 millis")
      }
      expect(count).toBe(1)
      yield* child.terminate
      yield* child.exited
      const gone = yield* exitOf((done) => child.callUnsafe(L.echo, [1], done))
      expect(failure(gone)?.error?.reason).toBe("Exited")
    })))

  it.live("closing the scope terminates a running child", () =>
    Effect.gen(function*() {
      let child!: Child.Child
      yield* Effect.scoped(Effect.gen(function*() {
        child = yield* Child.spawn({ backend })
        yield* Effect.forkChild(child.call(L.sleep, [60_000]))
        yield* child.ready
      }))
      expect(child.isAlive()).toBe(false)
      expect(child.exitCode).toBe(-15)
    }))
})

describe("No orphans", () => {
  it.live("children and grandchildren of a SIGKILLed parent are gone within 2 seconds", () =>
    Effect.gen(function*() {
      const script = new URL("./fixtures/orphan-parent.ts", import.meta.url).pathname
      const parent = spawnOs(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] })
      const pids = yield* Effect.promise(() =>
        new Promise<Array<number>>((resolve, reject) => {
          let out = ""
          parent.stdout!.on("data", (d) => {
            out += d
            const line = out.split("\n")[0]
            if (out.includes("\n")) resolve(JSON.parse(line!).pids)
          })
          parent.on("exit", () => reject(new Error("parent exited early")))
        })
      )
      expect(pids.length).toBe(3)
      // A zombie is dead (it only waits for init to reap it), so read the state where /proc exists.
      const alive = (pid: number) => {
        try {
          return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"))
        } catch {
          try {
            process.kill(pid, 0)
            return !existsSync("/proc")
          } catch {
            return false
          }
        }
      }
      expect(pids.every(alive)).toBe(true)
      parent.kill("SIGKILL")
      const t0 = Date.now()
      while (pids.some(alive) && Date.now() - t0 < 2_000) yield* Effect.sleep("25 millis")
      expect(pids.filter(alive)).toEqual([])
    }))
})
