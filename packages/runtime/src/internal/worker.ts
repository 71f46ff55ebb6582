/**
 * The worker bootstrap: connects to the parent, announces readiness, runs calls, and makes sure
 * the worker never outlives its parent. It imports nothing heavy; a task's own module decides
 * what else gets loaded.
 * @internal
 */
import * as Task from "../Task.ts"
import type * as Awake from "./awake.ts"
import { CodecError, type Opaque } from "./codec.ts"
import * as kernel from "./kernel.ts"
import { ipcEndpoint, Link, portEndpoint, receiveData } from "./link.ts"
import * as P from "./protocol.ts"

// The runtime's modules are compiled now: back to lazy compilation (see worker-entry.mjs).
const eager = Symbol.for("@multiproc/runtime/eager")
const eagerMode = (globalThis as any)[eager] as "counted" | "alone" | undefined
delete (globalThis as any)[eager]
// A forked child has an IPC channel and no worker_threads loaded; a thread has no `process.send`
// (builtins through `process.getBuiltinModule`: see kernel.ts).
const isThread = typeof process.send !== "function"
const { parentPort, threadId, workerData } = isThread ? process.getBuiltinModule("node:worker_threads") : { parentPort: null, threadId: 0, workerData: undefined }
if (eagerMode === "alone") process.getBuiltinModule("node:v8").setFlagsFromString("--lazy")
else if (eagerMode === "counted") kernel.eagerDone(workerData.eager, new Int32Array(workerData.importing))

const boot: P.BootData = isThread ? workerData : JSON.parse(process.argv[2]!)

// Imports in progress, visible to the parent: it does not terminate a thread in the middle of one
// (see `ChildHandle.signal`).
const importingWord = boot.importing ? new Int32Array(boot.importing) : undefined
const importing = async <A>(load: () => Promise<A>): Promise<A> => {
  if (importingWord) Atomics.add(importingWord, 0, 1)
  try {
    return await load()
  } finally {
    if (importingWord) Atomics.sub(importingWord, 0, 1)
  }
}

const onMessage = (message: unknown): void => {
  const m = message as Array<any>
  switch (m[0]) {
    case P.TASK:
      tasks[m[1]] = [m[2], m[3]]
      return
    case P.RUN_FLAT: {
      const args = m.slice(4)
      if (m[3] === 1) awakeCalls.add(m[1])
      if (mayStart()) runCall(m[1], m[2], args, undefined)
      else waitingRuns.push([P.RUN, m[1], m[2], args])
      return
    }
    case P.RUN:
      if (m[5] === 1) awakeCalls.add(m[1])
      if (mayStart()) runCall(m[1], m[2], m[3], m[4] ?? undefined)
      else waitingRuns.push(m)
      return
    case P.INTERRUPT: {
      // A call still waiting for its turn never starts.
      const i = waitingRuns.findIndex((w) => w[1] === m[1])
      if (i >= 0) {
        waitingRuns.splice(i, 1)
        awakeCalls.delete(m[1])
        sendDone(m[1], P.INTERRUPTED, undefined)
        return
      }
      running.get(m[1])?.()
      return
    }
    case P.ROUTE:
      kernel.route(m[1], m[2], m[3], m[4])
      return
    case P.DOWN:
      kernel.receiveDown(m[1], 0)
      return
    case P.CLOSE:
      closing = true
      if (allDone()) void exit(0)
      return
  }
}

const link = new Link(isThread ? portEndpoint(parentPort!) : ipcEndpoint(process), onMessage)
link.onDecodeError = (e) => kernel.log(P.levels.ERROR, `undecodable message from parent: ${(e as Error)?.message ?? e}`)

if (isThread) {
  parentPort!.on("message", (data) => receiveData(link, data))
} else {
  process.on("message", (data: any) => receiveData(link, data))
  // No orphans: when the parent goes away (even by SIGKILL) the IPC channel closes.
  process.on("disconnect", () => {
    link.close()
    process.exit(1)
  })
  // The parent decides about Ctrl-C; the terminal's SIGINT reaches the whole process group.
  process.on("SIGINT", () => {})
}

kernel.initChild(
  {
    identity: boot.identity,
    name: boot.name,
    daemon: boot.daemon,
    backend: boot.backend,
    pid: process.pid,
    threadId,
    parentPid: boot.parentPid,
    parentName: boot.parentName,
    logLevel: boot.logLevel,
    authkey: boot.authkey
  },
  link,
  () => isThread || process.connected === true
)

// A task (or a served object) that calls `process.exit` itself must not take what it already sent
// with it: messages wait for the end of the tick to be batched, so write them out first. (Not
// from an 'exit' listener: a thread being terminated must not post from there.)
// (Arguments passed on as given: Node's own exit after an uncaught exception calls it with none.)
const exitNow = process.exit.bind(process)
process.exit = ((...args: Parameters<typeof process.exit>) => {
  kernel.flushAll()
  return exitNow(...args)
}) as typeof process.exit

// Python flushes the child's stdout and stderr when it ends. A forked child's stdout and stderr
// are its parent's; when one is a pipe whose reader is behind, Node writes to it asynchronously
// and `process.exit` would drop what is still queued: the worker waits for them before it exits,
// and the streams write synchronously, as Python's do (a write waits while the pipe is full), so
// that a task's own `process.exit()` loses nothing either. (The pipe's blocking mode is shared
// with the parent; libuv already sets it so in every child it spawns, and treats a stream it was
// told is blocking correctly either way.) Only the streams the task used (Node creates them on
// first use, which takes a few ms).
const stdio: Array<NodeJS.WriteStream> = []
if (!isThread) {
  for (const name of ["stdout", "stderr"] as const) {
    const descriptor = Object.getOwnPropertyDescriptor(process, name)
    const get = descriptor?.get
    if (get === undefined || !descriptor!.configurable) continue
    Object.defineProperty(process, name, {
      ...descriptor,
      get() {
        const stream = get.call(process) as NodeJS.WriteStream
        if (!stdio.includes(stream)) {
          stdio.push(stream)
          ;(stream as { _handle?: { setBlocking?: (on: boolean) => unknown } })._handle?.setBlocking?.(true)
        }
        return stream
      }
    })
  }
}

/** Resolves once what was written to the used stdio streams has left this process. */
const stdioFlushed = (): Promise<unknown> =>
  Promise.all(stdio.map((stream) =>
    new Promise<void>((resolve) => {
      if (stream.writableLength === 0 || stream.destroyed || !stream.writable) return resolve()
      // Called (also with an error, EPIPE say) once the writes before it are done.
      stream.write("", () => resolve())
    })
  ))

const running = new Map<number, () => void>()
let closing = false
/** Ready (preloads imported): calls that arrive earlier wait (a thread's parent does not wait
 * for READY before it sends them). */
let booted = false
let inflight = 0
Task.setCallsRunning(() => inflight)
let exiting = false
// After a reply, a service worker stays awake for a moment (see awake.ts): a caller that sends its
// next call at once finds it polling, not asleep.
const AWAKE_MS = boot.mode === "service" ? boot.awakeMs ?? 0 : 0
/** Loaded before READY in a service worker (a Process never stays awake). */
let stayAwake: typeof Awake.stayAwake = () => {}
/** Calls whose caller polls for the reply: the worker stays awake this long after each (see `ReplyPolling`). */
const awakeCalls = new Set<number>()
let replyPollMs = 0

/** How many calls run at once (Python's pool workers run one task at a time); the rest wait. */
const concurrency = boot.concurrency ?? Infinity
const waitingRuns: Array<Array<any>> = []
/** A finished call's result is on its way out; the next call waits for it (limited concurrency). */
let draining = false
/** Whether a call may start now (else it waits in `waitingRuns`). */
const mayStart = (): boolean => booted && inflight < concurrency && !draining
/** Nothing runs, waits or is on its way out (a closing worker may exit). */
const allDone = (): boolean => booted && inflight === 0 && waitingRuns.length === 0 && !draining

const exit = async (code: number): Promise<void> => {
  if (exiting) return
  exiting = true
  // Python's order: "process shutting down", then the exit handlers (which join this process's
  // own children, logging "calling join() for process …"), then the exit code.
  if (boot.mode === "once") kernel.log(P.levels.INFO, "process shutting down")
  await kernel.runExitHandlers()
  if (boot.mode === "once") kernel.log(P.levels.INFO, `process exiting with exitcode ${code}`)
  if (isThread) {
    link.flush()
    process.exit(code)
  } else {
    await stdioFlushed()
    link.flush(() => process.exit(code))
  }
}

const sendDone = (callId: number, status: number, value: unknown): void => {
  try {
    link.send([P.DONE, callId, status, value])
  } catch (e) {
    // The path is relative to the DONE message; report it relative to the result.
    const error = e instanceof CodecError
      ? new CodecError(`result${e.path.startsWith("$[3]") ? e.path.slice(4) : e.path.slice(1)}`, e.reason)
      : e
    link.send([P.DONE, callId, P.THROW, error])
  }
}

const isEffect = (u: unknown): boolean => typeof u === "object" && u !== null && "~effect/Effect" in u

type Fn = (...args: ReadonlyArray<unknown>) => unknown
const tasks: Array<readonly [string, string]> = []
/** Resolved task functions by task index. */
const resolvedByIndex: Array<Fn | undefined> = []

const isThenable = (u: unknown): u is PromiseLike<unknown> =>
  (typeof u === "object" || typeof u === "function") && u !== null && typeof (u as any).then === "function"

/** A call's arguments: plain ones travel as they are, the others opaque (see `ChildHandle.call`). */
const openArgs = (args: Opaque | Array<unknown>, shared: ReadonlyArray<unknown> | undefined): Array<unknown> =>
  Array.isArray(args) ? args : args.open({ shared }) as Array<unknown>

function runCall(callId: number, index: number, args: Opaque | Array<unknown>, shared: ReadonlyArray<unknown> | undefined): void {
  inflight++
  const fn = resolvedByIndex[index]
  // Hot path: a resolved task with a synchronous result is answered without a microtask.
  if (fn !== undefined && boot.mode === "service") {
    let out: unknown
    try {
      out = fn(...openArgs(args, shared))
    } catch (e) {
      return finish(callId, P.THROW, e)
    }
    if (!isThenable(out) && !isEffect(out)) return finish(callId, P.OK, out)
    void settle(callId, out)
    return
  }
  void runCallSlow(callId, index, args, shared)
}

async function runCallSlow(callId: number, index: number, args: Opaque | Array<unknown>, shared: ReadonlyArray<unknown> | undefined): Promise<void> {
  let out: unknown
  try {
    let fn = resolvedByIndex[index]
    if (fn === undefined) {
      const [module, key] = tasks[index]!
      fn = await importing(() => Task.resolve(module, key)) as Fn
      resolvedByIndex[index] = fn
    }
    const argv = openArgs(args, shared)
    if (boot.mode === "once") kernel.log(P.levels.INFO, "child process calling self.run()")
    out = fn(...argv)
  } catch (e) {
    return finish(callId, P.THROW, e)
  }
  return settle(callId, out)
}

async function settle(callId: number, out: unknown): Promise<void> {
  let status: number = P.OK
  let value: unknown
  try {
    if (!isEffect(out)) {
      // A task may also resolve to an Effect (one that loads `effect` lazily): an interrupt that
      // arrives before the Effect starts is remembered and applied when it does.
      let interrupted = false
      running.set(callId, () => {
        interrupted = true
      })
      out = await out
      if (!isEffect(out)) value = out
      else if (interrupted) status = P.INTERRUPTED
    }
    if (isEffect(out) && status === P.OK) {
      const runner = await importing(() => import("./effect-runner.ts"))
      ;[status, value] = await runner.run(out as any, (interrupt) => running.set(callId, interrupt))
    }
  } catch (e) {
    status = P.THROW
    value = e
  } finally {
    running.delete(callId)
  }
  return finish(callId, status, value)
}

function finish(callId: number, status: number, value: unknown): void {
  if (boot.mode === "once" && status !== P.OK && status !== P.INTERRUPTED) {
    process.stderr.write(`Process ${boot.name}:\n${formatError(value)}\n`)
  }
  inflight--
  sendDone(callId, status, value)
  if (awakeCalls.delete(callId)) stayAwake(Math.max(AWAKE_MS, replyPollMs))
  else if (AWAKE_MS > 0) stayAwake(AWAKE_MS)
  if (boot.mode === "once") void exit(status === P.OK ? 0 : 1)
  else if (concurrency !== Infinity) {
    // With limited concurrency, a finished call's result goes out (handed to the OS) before the
    // next call starts: a task that kills the worker must not take an earlier result with it.
    draining = true
    link.flush(() => {
      draining = false
      startWaiting()
    })
  } else if (closing && inflight === 0) void exit(0)
}

let starting = false
/** Starts waiting calls while there is room (a loop, not recursion: sync calls finish inline). */
function startWaiting(): void {
  if (starting) return
  starting = true
  try {
    while (waitingRuns.length > 0 && mayStart()) {
      const m = waitingRuns.shift()!
      runCall(m[1], m[2], m[3], m[4] ?? undefined)
    }
  } finally {
    starting = false
  }
  if (closing && allDone()) void exit(0)
}

const formatError = (e: unknown): string => e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e)

// No top-level await in the bootstrap (see codec.ts): the preloads run in a function.
const start = async (): Promise<void> => {
  try {
    if (boot.mode === "service") {
      const awake = await importing(() => import("./awake.ts"))
      stayAwake = awake.stayAwake
      replyPollMs = awake.REPLY_POLL_MS
    }
    for (const m of boot.preload ?? []) await importing(() => Task.track(m, () => import(m)))
    link.send([P.READY, process.pid, threadId])
    booted = true
    startWaiting()
  } catch (e) {
    process.stderr.write(`Process ${boot.name} failed to start:\n${formatError(e)}\n`)
    link.send([P.DONE, -1, P.THROW, e])
    link.flush(() => process.exit(1))
    if (isThread) process.exit(1)
  }
}
void start()
