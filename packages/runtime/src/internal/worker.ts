/**
 * The worker bootstrap: connects to the parent, announces readiness, runs calls, and makes sure
 * the worker never outlives its parent. It imports nothing heavy; a task's own module decides
 * what else gets loaded.
 * @internal
 */
import { parentPort, threadId, workerData } from "node:worker_threads"
import * as Task from "../Task.ts"
import { CodecError, decode } from "./codec.ts"
import * as kernel from "./kernel.ts"
import { ipcEndpoint, Link, portEndpoint, receiveThreadData } from "./link.ts"
import * as P from "./protocol.ts"

const isThread = parentPort !== null
const boot: P.BootData = isThread ? workerData : JSON.parse(process.argv[2]!)

const onMessage = (message: unknown): void => {
  const m = message as Array<any>
  switch (m[0]) {
    case P.RUN:
      void runCall(m[1], m[2], m[3], m[4], m[5] ?? undefined)
      return
    case P.INTERRUPT:
      running.get(m[1])?.()
      return
    case P.ROUTE:
      kernel.route(m[1], m[2], m[3], m[4])
      return
    case P.DOWN:
      kernel.receiveDown(m[1], 0)
      return
    case P.CLOSE:
      closing = true
      if (running.size === 0) void exit(0)
      return
  }
}

const link = new Link(isThread ? portEndpoint(parentPort!) : ipcEndpoint(process), onMessage)
link.onDecodeError = (e) => kernel.log(P.levels.ERROR, `undecodable message from parent: ${(e as Error)?.message ?? e}`)

if (isThread) {
  parentPort!.on("message", (data) => receiveThreadData(link, data))
} else {
  process.on("message", (data: any) => link.receive(data instanceof Uint8Array ? data : new Uint8Array(data), undefined))
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

const running = new Map<number, () => void>()
let closing = false
let exiting = false

const exit = async (code: number): Promise<void> => {
  if (exiting) return
  exiting = true
  await kernel.runExitHandlers()
  if (boot.mode === "once") {
    kernel.log(P.levels.INFO, "process shutting down")
    kernel.log(P.levels.INFO, `process exiting with exitcode ${code}`)
  }
  if (isThread) {
    link.flush()
    process.exit(code)
  } else {
    link.flush(() => process.exit(code))
  }
}

const sendDone = (callId: number, status: number, value: unknown): void => {
  try {
    link.send([P.DONE, callId, status, value])
  } catch (e) {
    const error = e instanceof CodecError
      ? new CodecError(`result${e.path.slice(1)}`, e.reason)
      : e
    link.send([P.DONE, callId, P.THROW, error])
  }
}

/** Tasks already resolved in this worker: later calls skip the dynamic `import()`. */
const resolved = new Map<string, (...args: ReadonlyArray<any>) => unknown>()

const isEffect = (u: unknown): boolean => typeof u === "object" && u !== null && "~effect/Effect" in u

async function runCall(callId: number, module: string, key: string, argsBytes: Uint8Array, shared: ReadonlyArray<unknown> | undefined): Promise<void> {
  let status: number = P.OK
  let value: unknown
  try {
    const id = `${module}#${key}`
    let fn = resolved.get(id)
    if (fn === undefined) resolved.set(id, fn = await Task.resolve(module, key))
    const args = decode(argsBytes, { shared }) as Array<unknown>
    if (boot.mode === "once") kernel.log(P.levels.INFO, "child process calling self.run()")
    let out = fn(...args)
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
      const runner = await import("./effect-runner.ts")
      ;[status, value] = await runner.run(out as any, (interrupt) => running.set(callId, interrupt))
    }
  } catch (e) {
    status = P.THROW
    value = e
  } finally {
    running.delete(callId)
  }
  if (boot.mode === "once" && status !== P.OK && status !== P.INTERRUPTED) {
    process.stderr.write(`Process ${boot.name}:\n${formatError(value)}\n`)
  }
  sendDone(callId, status, value)
  if (boot.mode === "once") await exit(status === P.OK ? 0 : 1)
  else if (closing && running.size === 0) await exit(0)
}

const formatError = (e: unknown): string => e instanceof Error ? (e.stack ?? `${e.name}: ${e.message}`) : String(e)

try {
  for (const m of boot.preload ?? []) await import(m)
  link.send([P.READY, process.pid, threadId])
} catch (e) {
  process.stderr.write(`Process ${boot.name} failed to start:\n${formatError(e)}\n`)
  link.send([P.DONE, -1, P.THROW, e])
  link.flush(() => process.exit(1))
  if (isThread) process.exit(1)
}
