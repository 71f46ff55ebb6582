// CPython's Lib/test/_test_multiprocessing.py, the process-level tests (_TestProcess,
// _TestSubclassingProcess, _TestAtExit, TestStdinBadfiledescriptor, TestTimeouts, TestIgnoreEINTR,
// TestStartMethod.test_nested_startmethod, ...), ported to both APIs and both backends (the rest of
// TestStartMethod and MiscTestCase.test__all__: ContextCPython.test.ts).
import { describe, expect, it } from "@effect/vitest"
import { Connection, Event, Manager, Pipe, Pool, Process, Queue } from "@multiproc/primitives"
import * as F from "@multiproc/primitives/promise"
import { Logging } from "@multiproc/runtime"
import { Duration, Effect } from "effect"
import { execFile, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { inspect } from "node:util"
import * as C from "./fixtures/cpython-process-tasks.ts"
import * as S from "./fixtures/process-subclasses.ts"
import * as T from "./fixtures/tasks.ts"

const backends = ["thread", "process"] as const

/** Runs a fixture program with `input` written to its stdin, which stays open (as a terminal's). */
const runWithInput = (file: string, args: ReadonlyArray<string>, input: string) =>
  new Promise<{ stdout: string; stderr: string; code: number }>((resolve) => {
    const child = execFile(process.execPath, [new URL(`./fixtures/${file}`, import.meta.url).pathname, ...args], { timeout: 20_000 }, (error, stdout, stderr) =>
      resolve({ stdout, stderr, code: error ? Number((error as any).code ?? 1) : 0 }))
    child.stdin!.write(input)
  })

/** Runs a fixture program whose stdout is read only after `delay` ms (a reader that is behind). */
const runReadingLate = (file: string, args: ReadonlyArray<string>, delay: number) =>
  new Promise<{ stdout: string; stderr: string; code: number }>((resolve) => {
    const child = spawn(process.execPath, [new URL(`./fixtures/${file}`, import.meta.url).pathname, ...args], { timeout: 20_000 })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8")
    child.stderr.setEncoding("utf8")
    // Listening at once (else Node drops unread output when the program exits), paused at once.
    child.stdout.on("data", (chunk) => stdout += chunk).pause()
    setTimeout(() => child.stdout.resume(), delay)
    child.stderr.on("data", (chunk) => stderr += chunk)
    // 'end' once all of stdout was read ('close' may come before that).
    const ended = new Promise((end) => child.stdout.on("end", end))
    const exited = new Promise<number>((exit) => child.on("exit", (code) => exit(code ?? 1)))
    void Promise.all([ended, exited]).then(([, code]) => resolve({ stdout, stderr, code }))
  })

/** How long an Effect took, in milliseconds. */
const timed = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.timed(effect), ([d, a]) => [a, Duration.toMillis(d)] as const)

describe.each(backends)("_TestProcess (%s backend)", (backend) => {
  it("test_current: the current process is alive, not daemonic, has an authkey, ident is the pid, no exitcode", () => {
    for (const current of [Process.currentProcess(), F.currentProcess()]) {
      expect(current.isAlive()).toBe(true)
      expect(current.daemon).toBe(false)
      expect(current.authkey.length).toBeGreaterThan(0)
      expect(current.ident).toBe(process.pid)
      expect(current.exitCode).toBeUndefined()
    }
  })

  it.live("current_process().name = …: renames this process, as its children see it", () =>
    Effect.scoped(Effect.gen(function*() {
      const current = Process.currentProcess()
      current.name = "Coordinator"
      try {
        expect(Process.currentProcess().name).toBe("Coordinator")
        expect(F.currentProcess().name).toBe("Coordinator")
        const [r, w] = yield* Pipe.make({ duplex: false })
        yield* Process.run({ target: C.parentOfChild, args: [w], backend })
        expect(((yield* Pipe.recv(r)) as Array<unknown>)[1]).toBe("Coordinator")
      } finally {
        current.name = "MainProcess"
      }
      expect(Process.currentProcess().name).toBe("MainProcess")
    })))

  it.live("test_daemon_argument: the creator's daemon flag by default, else the one given", () =>
    Effect.gen(function*() {
      expect((yield* Process.make({ target: T.square, backend })).daemon).toBe(Process.currentProcess().daemon)
      expect((yield* Process.make({ target: T.square, daemon: true, backend })).daemon).toBe(true)
      expect((yield* Process.make({ target: T.square, daemon: false, backend })).daemon).toBe(false)
      expect(new F.Process({ target: T.square, daemon: true, backend }).daemon).toBe(true)
    }))

  it.live("test_parent_process_attributes: the child's parent_process() is this process (pid, name, ident)", () =>
    Effect.scoped(Effect.gen(function*() {
      expect(Process.parentProcess()).toBeUndefined()
      const [r, w] = yield* Pipe.make({ duplex: false })
      yield* Process.run({ target: C.parentOfChild, args: [w], backend })
      const [pid, name, ident, alive, exitCode] = (yield* Pipe.recv(r)) as Array<unknown>
      expect(pid).toBe(Process.currentProcess().pid)
      expect(pid).toBe(process.pid)
      expect(ident).toBe(pid)
      expect(name).toBe(Process.currentProcess().name)
      expect(alive).toBe(true)
      expect(exitCode).toBeNull()
    })))

  it.live("test_process (Effect API): arguments, name, daemon set before start, authkey, pid, is_alive, active_children, exitcode", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<unknown>({ maxsize: 1 })
      const kwargs = { hello: 23, bye: 2.54 }
      const p = yield* Process.make({ target: C.report, args: [q, 1, 2, kwargs], name: "SomeProcess", backend })
      p.daemon = true
      const current = Process.currentProcess()
      expect(p.authkey).toBe(current.authkey)
      expect(p.isAlive()).toBe(false)
      expect(p.daemon).toBe(true)
      expect(yield* Process.activeChildren()).not.toContain(p)
      expect(Array.isArray(yield* Process.activeChildren())).toBe(true)
      expect(p.exitCode).toBeUndefined()
      yield* Process.start(p)
      expect(() => (p.daemon = false)).toThrow(expect.objectContaining({ reason: "AlreadyStarted", message: "process has already started" }))
      expect(p.daemon).toBe(true)
      expect(p.exitCode).toBeUndefined()
      expect(p.isAlive()).toBe(true)
      expect(yield* Process.activeChildren()).toContain(p)
      expect(yield* Queue.get(q)).toEqual([1, 2])
      expect(yield* Queue.get(q)).toEqual(kwargs)
      expect(yield* Queue.get(q)).toBe(p.name)
      expect(yield* Queue.get(q)).toBe(current.authkey)
      expect(yield* Queue.get(q)).toBe(p.pid)
      yield* Process.join(p)
      expect(p.exitCode).toBe(0)
      expect(p.isAlive()).toBe(false)
      expect(yield* Process.activeChildren()).not.toContain(p)
    })))

  it("test_process (async/await): the same, and active_children() lists the Process objects made", async () => {
    const q = new F.Queue<unknown>({ maxsize: 1 })
    const p = new F.Process({ target: C.report, args: [q.queue, 1, 2, { hello: 23 }], name: "SomeProcess", backend })
    p.daemon = true
    expect(p.daemon).toBe(true)
    expect(p.authkey).toBe(F.currentProcess().authkey)
    expect(p.isAlive()).toBe(false)
    expect(F.activeChildren()).not.toContain(p)
    await p.start()
    expect(() => (p.daemon = false)).toThrow(expect.objectContaining({ reason: "AlreadyStarted" }))
    expect(p.isAlive()).toBe(true)
    expect(F.activeChildren()).toContain(p)
    expect(await q.get()).toEqual([1, 2])
    expect(await q.get()).toEqual({ hello: 23 })
    expect(await q.get()).toBe("SomeProcess")
    expect(await q.get()).toBe(p.authkey)
    expect(await q.get()).toBe(p.pid)
    await p.join()
    expect(p.exitCode).toBe(0)
    expect(F.activeChildren()).not.toContain(p)
  })

  for (const [method, signal] of [["terminate", -15], ["kill", -9]] as const) {
    it.live(`test_${method}: join(0) and join(-1) return at once while it runs; after ${method}() the exitcode is ${signal}`, () =>
      Effect.scoped(Effect.gen(function*() {
        const event = yield* Event.make()
        const p = yield* Process.make({ target: C.setThenSleep, args: [event], daemon: true, backend })
        yield* Process.start(p)
        expect(p.isAlive()).toBe(true)
        expect(yield* Process.activeChildren()).toContain(p)
        expect(p.exitCode).toBeUndefined()
        for (const timeout of [0, -1]) {
          const [code, ms] = yield* timed(Process.join(p, timeout))
          expect(code).toBeUndefined()
          expect(ms).toBeLessThan(100)
          expect(p.isAlive()).toBe(true)
        }
        expect(yield* Event.wait(event, "30 seconds")).toBe(true)
        yield* Process[method](p)
        const [code] = yield* timed(Process.join(p, "10 seconds"))
        expect(code).toBe(signal)
        expect(p.isAlive()).toBe(false)
        expect(yield* Process.activeChildren()).not.toContain(p)
        expect(p.exitCode).toBe(signal)
        // Python: terminate() / kill() of an ended process do nothing.
        yield* Process.terminate(p)
        yield* Process.kill(p)
        expect(yield* Process.join(p)).toBe(signal)
      })))
  }

  it("test_cpu_count: an integer, at least 1", () => {
    for (const n of [Process.cpuCount(), F.cpuCount()]) {
      expect(Number.isInteger(n)).toBe(true)
      expect(n).toBeGreaterThanOrEqual(1)
    }
  })

  it("test_active_children (async/await): listed from start to end", async () => {
    expect(Array.isArray(F.activeChildren())).toBe(true)
    const event = new F.Event()
    const p = new F.Process({ target: C.waitEvent, args: [event.handle], backend })
    expect(F.activeChildren()).not.toContain(p)
    p.daemon = true
    await p.start()
    expect(F.activeChildren()).toContain(p)
    await event.set()
    await p.join()
    expect(F.activeChildren()).not.toContain(p)
  })

  it.live("test_recursion: nested processes write to one pipe in depth-first order", () =>
    Effect.scoped(Effect.gen(function*() {
      const [r, w] = yield* Pipe.make({ duplex: false })
      yield* Process.run({ target: C.recurse, args: [w, []], backend })
      const result: Array<unknown> = []
      while (yield* Pipe.poll(r, 100)) result.push(yield* Pipe.recv(r))
      expect(result).toEqual([[], [0], [0, 0], [0, 1], [1], [1, 0], [1, 1]])
    })))

  it.live("test_sentinel: none before start (NotStarted), not ready while running, ready once ended", () =>
    Effect.scoped(Effect.gen(function*() {
      const event = yield* Event.make()
      const p = yield* Process.make({ target: C.waitEvent, args: [event], backend })
      expect(() => p.sentinel).toThrow(expect.objectContaining({ _tag: "ProcessError", reason: "NotStarted" }))
      yield* Process.start(p)
      const sentinel = p.sentinel
      expect(yield* Pipe.wait([sentinel], 0)).toEqual([])
      yield* Event.set(event)
      yield* Process.join(p)
      expect(yield* Pipe.wait([sentinel], 1000)).toEqual([sentinel])
      yield* Process.close(p)
      expect(() => p.sentinel).toThrow(expect.objectContaining({ reason: "Closed" }))
    })))

  it("test_sentinel (async/await)", async () => {
    const event = new F.Event()
    const p = new F.Process({ target: C.waitEvent, args: [event.handle], backend })
    expect(() => p.sentinel).toThrow(expect.objectContaining({ reason: "NotStarted" }))
    await p.start()
    expect(await F.wait([p.sentinel], 0)).toEqual([])
    await event.set()
    await p.join()
    expect(await F.wait([p.sentinel], 1000)).toEqual([p.sentinel])
  })

  it.live("repr: Python's <Process name=… pid=… parent=… status exitcode=… daemon>, signals by name", () =>
    Effect.scoped(Effect.gen(function*() {
      const p = yield* Process.make({ target: T.sleep, args: [30_000], name: "Sleeper", daemon: true, backend })
      const parent = `parent=${process.pid}`
      expect(String(p)).toBe(`<Process name='Sleeper' ${parent} initial daemon>`)
      yield* Process.start(p)
      expect(String(p)).toBe(`<Process name='Sleeper' pid=${p.pid} ${parent} started daemon>`)
      yield* Process.terminate(p)
      yield* Process.join(p)
      expect(String(p)).toBe(`<Process name='Sleeper' pid=${p.pid} ${parent} stopped exitcode=-SIGTERM daemon>`)
      expect(inspect(p)).toBe(String(p))
      yield* Process.close(p)
      expect(String(p)).toBe(`<Process name='Sleeper' pid=${p.pid} ${parent} closed daemon>`)
      const ok = yield* Process.make({ target: T.square, args: [2], backend })
      yield* Process.start(ok)
      yield* Process.join(ok)
      expect(String(ok)).toBe(`<Process name='${ok.name}' pid=${ok.pid} ${parent} stopped exitcode=0>`)
    })))

  it("repr (async/await): a subclass is named after its class, also in the child", async () => {
    const p = new S.Introspect(backend)
    expect(String(p)).toBe(`<Introspect name='Introspector' parent=${process.pid} initial daemon>`)
    await p.start()
    expect((await p.result() as { repr: string }).repr).toBe(`<Introspect name='Introspector' parent=${process.pid} started daemon>`)
    expect(String(p)).toBe(`<Introspect name='Introspector' pid=${p.pid} parent=${process.pid} stopped exitcode=0 daemon>`)
  })

  it.live("test_close: refused while running; afterwards is_alive, join and terminate fail, close again is fine", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<number>()
      const p = yield* Process.make({ target: T.sleep, args: [300], daemon: true, backend })
      yield* Process.start(p)
      expect(p.isAlive()).toBe(true)
      expect((yield* Effect.flip(Process.close(p))).reason).toBe("StillRunning")
      yield* Process.join(p)
      expect(p.isAlive()).toBe(false)
      expect(p.exitCode).toBe(0)
      yield* Process.close(p)
      expect((yield* Effect.flip(Process.isAlive(p))).reason).toBe("Closed")
      expect((yield* Effect.flip(Process.join(p))).reason).toBe("Closed")
      expect((yield* Effect.flip(Process.terminate(p))).reason).toBe("Closed")
      yield* Process.close(p)
      yield* Queue.close(q)
    })))

  it.live("test_many_processes: short ones all exit 0; long ones terminated at once all give -15", () =>
    Effect.scoped(Effect.gen(function*() {
      const N = 10
      const short = yield* Effect.forEach(Array.from({ length: N }), () => Process.make({ target: T.sleep, args: [10], backend }))
      for (const p of short) yield* Process.start(p)
      for (const p of short) yield* Process.join(p)
      expect(short.map((p) => p.exitCode)).toEqual(short.map(() => 0))
      const long = yield* Effect.forEach(Array.from({ length: N }), () => Process.make({ target: T.sleep, args: [100_000], backend }))
      for (const p of long) yield* Process.start(p)
      yield* Effect.sleep(1)
      for (const p of long) yield* Process.terminate(p)
      for (const p of long) yield* Process.join(p)
      expect(long.map((p) => p.exitCode)).toEqual(long.map(() => -15))
    })), 120_000)

  it.live("test_error_on_stdio_flush_2: a child that breaks its own stdout or stderr still exits 0", () =>
    Effect.scoped(Effect.gen(function*() {
      for (const stream of ["stdout", "stderr"] as const) {
        const event = yield* Event.make()
        const p = yield* Process.make({ target: C.breakStdio, args: [event, stream], backend })
        yield* Process.start(p)
        expect(yield* Process.join(p)).toBe(0)
        expect(yield* Event.isSet(event)).toBe(true)
      }
    })))

  it.live("_TestAtExit: an exit handler the target registered runs when the child exits", () =>
    Effect.gen(function*() {
      const file = path.join(os.tmpdir(), `multiproc-atexit-${process.pid}-${backend}`)
      fs.rmSync(file, { force: true })
      yield* Process.run({ target: C.writeAtExit, args: [file], backend })
      expect(fs.readFileSync(file, "utf8")).toBe("deadbeef")
      fs.rmSync(file)
    }))

  it.live("test_sys_exit: process.exit(N) gives N, process.exit() 0", () =>
    Effect.scoped(Effect.gen(function*() {
      for (const [arg, code] of [[8, 8], [undefined, 0], [0, 0], [1, 1]] as const) {
        const p = yield* Process.make({ target: T.exitWith, args: [arg as number], daemon: true, backend })
        yield* Process.start(p)
        expect(yield* Process.join(p)).toBe(code)
      }
    })))

  it("_TestSubclassingProcess.test_subclassing: a subclass with pipe fields answers from run(); daemon set before start", async () => {
    const uppercaser = new S.UpperCaser(backend)
    uppercaser.daemon = true
    await uppercaser.start()
    expect(await uppercaser.submit("hello")).toBe("HELLO")
    expect(await uppercaser.submit("world")).toBe("WORLD")
    await uppercaser.stop()
    expect(await uppercaser.join()).toBe(0)
  })

  it.live("_TestLogging.test_level: a child starts with its parent's logger level", () =>
    Effect.gen(function*() {
      const logger = Logging.getLogger()
      const before = logger.getLevel()
      try {
        for (const level of [32, 37]) {
          logger.setLevel(level)
          expect(yield* Process.run({ target: C.loggerLevel, backend })).toBe(level)
        }
      } finally {
        logger.setLevel(before)
      }
    }))

  it.live("TestTimeouts: a pipe and an AF_INET listener, the child answering after a second", () =>
    Effect.scoped(Effect.gen(function*() {
      const [parent, child] = yield* Pipe.make()
      const l = yield* Connection.listen({ family: "AF_INET" })
      const p = yield* Process.make({ target: C.answerLater, args: [child, l.address as Connection.Address], backend })
      yield* Process.start(p)
      yield* Pipe.close(child)
      expect(yield* Pipe.recv(parent)).toBe(123)
      yield* Pipe.close(parent)
      const conn = yield* Connection.accept(l)
      expect(yield* Connection.recv(conn)).toBe(456)
      yield* Connection.close(conn)
      yield* Connection.closeListener(l)
      expect(yield* Process.join(p)).toBe(0)
    })))

  it.live("TestStartMethod.test_nested_startmethod: a child passes its queue argument on to its own child", () =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* Queue.make<number>()
      yield* Process.run({ target: C.putTwoAndNest, args: [q], backend })
      const results = new Set<number>()
      while (!(yield* Queue.empty(q))) results.add(yield* Queue.get(q))
      expect(results).toEqual(new Set([2, 1]))
    })))

  it.live("TestSyncManagerTypes.wait_proc_exit: a manager's process is among active_children (SyncManager-N) until shut down", () =>
    Effect.gen(function*() {
      const isManager = (p: { readonly name: string }) => /^SyncManager-\d+$/.test(p.name)
      yield* Effect.scoped(Effect.gen(function*() {
        const m = yield* Manager.make({ backend })
        const managers = (yield* Process.activeChildren()).filter(isManager)
        expect(managers.length).toBe(1)
        expect(F.activeChildren().filter(isManager).length).toBe(1)
        const d = yield* Manager.dict<string, number>(m)
        yield* d.set("x", 1)
      }))
      expect((yield* Process.activeChildren()).filter(isManager)).toEqual([])
    }))
})

describe("_TestProcess (process backend only)", () => {
  it.live("test_child_fd_inflation: children's file descriptors do not grow with the number of running children", () =>
    Effect.scoped(Effect.gen(function*() {
      const N = 5
      const event = yield* Event.make()
      const q = yield* Queue.make<number>()
      const procs = yield* Effect.forEach(Array.from({ length: N }), () => Process.make({ target: C.fdCount, args: [event, q], backend: "process" }))
      for (const p of procs) yield* Process.start(p)
      const counts = yield* Effect.forEach(procs, () => Queue.get(q))
      yield* Event.set(event)
      for (const p of procs) yield* Process.join(p)
      expect(new Set(counts).size).toBe(1)
    })))

  it.live("TestIgnoreEINTR.test_ignore: SIGUSR1 (handled) during recv and a large send disturbs nothing", () =>
    Effect.scoped(Effect.gen(function*() {
      const size = 4 << 20
      const [conn, child] = yield* Pipe.make()
      const p = yield* Process.make({ target: C.echoUnderSignals, args: [child, size], daemon: true, backend: "process" })
      yield* Process.start(p)
      yield* Pipe.close(child)
      expect(yield* Pipe.recv(conn)).toBe("ready")
      yield* Effect.sleep(100)
      process.kill(p.pid!, "SIGUSR1")
      yield* Effect.sleep(100)
      yield* Pipe.send(conn, 1234)
      expect(yield* Pipe.recv(conn)).toBe(1234)
      yield* Effect.sleep(100)
      process.kill(p.pid!, "SIGUSR1")
      expect((yield* Pipe.recvBytes(conn)).length).toBe(size)
      yield* Pipe.send(conn, "done")
      // The handler ran (how many times by then is up to the OS's delivery).
      expect(yield* Process.result(p)).toBeGreaterThanOrEqual(1)
      expect(p.exitCode).toBe(0)
    })))
})

describe.each(backends)("TestCloseFds, TestPoolNotLeakOnFailure (%s backend)", (backend) => {
  it.live("TestCloseFds.test_closefd: a process child does not inherit the parent's file descriptors (EBADF); a thread shares them, as Python's fork", () =>
    Effect.gen(function*() {
      const fd = fs.openSync(new URL(import.meta.url).pathname, "r")
      try {
        const error = yield* Process.run({ target: C.useFd, args: [fd], backend })
        expect(error).toBe(backend === "process" ? "EBADF" : null)
      } finally {
        fs.closeSync(fd)
      }
    }))

  it.live("test_release_unused_processes: a pool whose workers cannot start fails its work and leaves no worker behind", () =>
    Effect.scoped(Effect.gen(function*() {
      const isWorker = (p: { readonly name: string }) => /PoolWorker-/.test(p.name)
      const before = (yield* Process.activeChildren()).filter(isWorker).length
      const pool = yield* Pool.make({ processes: 3, backend, maxBootAttempts: 3, bootBackoff: 20, worker: { execArgv: ["--no-such-node-option"] } })
      const error = yield* Effect.flip(Pool.map(pool, T.square, [1, 2, 3]))
      expect(error).toMatchObject({ _tag: "PoolError", reason: "BootFailed" })
      // As CPython's test joins the processes it made: a retry that was already starting when
      // the pool gave up fails on its own a moment later (on a loaded host, after the check).
      const left = () => Effect.map(Process.activeChildren(), (ps) => ps.filter(isWorker).length)
      for (let waited = 0; (yield* left()) !== before && waited < 5_000; waited += 20) yield* Effect.sleep(20)
      expect(yield* left()).toBe(before)
    })))
})

describe.each(backends)("_TestSubclassingProcess.test_stderr_flush / test_sys_exit (%s backend)", (backend) => {
  // More than a pipe holds (64 KiB): the child ends while most of it is still to be read, also by
  // an explicit `process.exit()` (which in a plain Node program drops what is still queued).
  it.each([["return", 0, 200_000], ["throw", 1, 200_000], ["exit-message", 1, 200_000], ["exit", 0, 200_000]] as const)("a child's stdout and stderr reach the terminal in full when it ends by %s (exitcode %i, %i bytes)", async (how, code, size) => {
    const { stdout, stderr } = await runReadingLate("stdio-main.ts", [backend, how, String(size)], 1500)
    const lines = stdout.split("\n")
    expect(lines[0]).toHaveLength(size)
    expect(lines.slice(1).filter(Boolean)).toEqual(["all written", `exitcode ${code}`])
    expect(stderr).toContain("stderr marker\n")
    if (how === "throw") {
      // Python prints "Process Process-1:" and the whole traceback.
      expect(stderr).toMatch(/Process Process-\d+:\nRangeError: division by zero # MARKER\n\s+at writeThenEnd \(file:.*stdio-main\.ts:\d+:\d+\)/)
    }
    if (how === "exit-message") expect(stderr).toContain("ignore this")
  })
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
