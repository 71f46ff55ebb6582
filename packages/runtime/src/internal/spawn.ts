/**
 * Spawning a worker on either backend and speaking the runtime protocol with it (parent side).
 * Lean: the Effect API in `Child.ts` wraps this with scopes and typed errors.
 * @internal
 */
import { type ChildProcess, fork } from "node:child_process"
import { fileURLToPath } from "node:url"
import { type ResourceLimits, Worker } from "node:worker_threads"
import { isPlainArray, prepareOpaque } from "./codec.ts"
import * as kernel from "./kernel.ts"
import { ipcEndpoint, Link, portEndpoint, receiveData } from "./link.ts"
import * as P from "./protocol.ts"

const entry = new URL("./worker-entry.mjs", import.meta.url)

export type Backend = "thread" | "process"

export interface SpawnOptions {
  readonly backend: Backend
  readonly boot: P.BootData
  readonly resourceLimits?: ResourceLimits | undefined
  readonly execArgv?: ReadonlyArray<string> | undefined
  readonly env?: Record<string, string | undefined> | undefined
}

export interface ChildEvents {
  onReady(pid: number, threadId: number): void
  onDone(callId: number, status: number, value: unknown): void
  /** `code` is Python's exitcode: N, or minus the signal number. */
  onExit(code: number, signal: NodeJS.Signals | null, error: unknown): void
}

const signalNumbers: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 }
export const signalNumber = (signal: NodeJS.Signals): number => signalNumbers[signal] ?? 1

const inheritedExecArgv = (): Array<string> => process.execArgv.filter((a) => !a.startsWith("--inspect") && !a.startsWith("--test"))

/** A worker's environment: this process's, the given variables, and what turns the worker's
 * compile cache on (`kernel.compileCacheEnv`), unless the given variables set the cache
 * themselves (then the worker's entry enables it as they say). */
const childEnv = (env: Record<string, string | undefined> | undefined): Record<string, string | undefined> =>
  env !== undefined && ("NODE_COMPILE_CACHE" in env || "NODE_DISABLE_COMPILE_CACHE" in env)
    ? { ...process.env, ...env }
    : { ...process.env, ...env, ...kernel.compileCacheEnv() }

/** A started worker: the OS resource plus its protocol link. */
export class ChildHandle {
  readonly backend: Backend
  readonly identity: ReadonlyArray<number>
  readonly link: Link
  pid = 0
  threadId = 0
  ready = false
  exited = false
  exitCode: number | undefined = undefined
  private worker: Worker | undefined
  private child: ChildProcess | undefined
  private killedWith: NodeJS.Signals | undefined
  private uncaught: unknown
  private readonly events: ChildEvents

  constructor(options: SpawnOptions, events: ChildEvents) {
    if (!(process.features as { typescript?: unknown }).typescript) {
      throw new Error(
        `Node ${process.version} cannot strip TypeScript types, which the worker runtime needs: use Node 24 ` +
          "(the project's `node` devDependency, which pnpm scripts run)"
      )
    }
    this.backend = options.backend
    this.identity = options.boot.identity
    this.events = events
    if (options.backend === "thread") {
      // [imports in progress, counted in the eager-compilation word] (see worker-entry.mjs)
      this.importing = new Int32Array(new SharedArrayBuffer(8))
      const worker = new Worker(entry, {
        workerData: { ...options.boot, importing: this.importing.buffer, eager: kernel.eagerCounter() },
        ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
        execArgv: [...(options.execArgv ?? [])],
        env: childEnv(options.env)
      })
      this.worker = worker
      this.pid = process.pid
      this.threadId = worker.threadId
      // Not held until ready: a thread's port queues what is posted before the worker listens,
      // and the worker holds calls until it is ready itself (no round trip before the first call).
      this.link = new Link(portEndpoint(worker), (m) => this.onMessage(m))
      worker.on("message", (data) => receiveData(this.link, data))
      worker.on("error", (e) => {
        this.uncaught = e
      })
      worker.on("exit", (code) => this.onExit(code, null))
    } else {
      const child = fork(fileURLToPath(entry), [JSON.stringify(options.boot)], {
        serialization: "advanced",
        execArgv: [...(options.execArgv ?? inheritedExecArgv())],
        // stdin is /dev/null, as Python's child's (`os.devnull`): a child reading it gets
        // end-of-file at once instead of taking the input meant for the main process.
        stdio: ["ignore", "inherit", "inherit", "ipc"],
        env: childEnv(options.env)
      })
      this.child = child
      this.pid = child.pid ?? 0
      // Not held either: a child starts reading its IPC channel when its first 'message'
      // listener is added (worker.ts), so what is written before waits in the pipe.
      this.link = new Link(ipcEndpoint(child), (m) => this.onMessage(m))
      child.on("message", (data: any) => receiveData(this.link, data))
      child.on("error", (e) => {
        this.uncaught = e
        // A failed spawn emits 'error' and never 'close'.
        if (child.pid === undefined) this.onExit(1, null)
      })
      // 'close' comes after every IPC message was delivered, unlike 'exit'.
      child.on("close", (code, signal) => this.onExit(code ?? 1, signal))
    }
    this.link.onDecodeError = (e) => kernel.log(P.levels.ERROR, `undecodable message from ${options.boot.name}: ${(e as Error)?.message ?? e}`)
    kernel.addChild(this.identity, this.link)
  }

  private onMessage(message: unknown): void {
    const m = message as Array<any>
    switch (m[0]) {
      case P.READY:
        this.ready = true
        this.pid = m[1]
        this.events.onReady(m[1], m[2])
        return
      case P.DONE:
        this.events.onDone(m[1], m[2], m[3])
        return
      case P.LOG:
        kernel.emitLog(m[1], m[2], m[3], m[4])
        return
      case P.ROUTE:
        kernel.route(m[1], m[2], m[3], m[4])
        return
      case P.DOWN:
        kernel.receiveDown(m[1], 1, this.identity[this.identity.length - 1])
        return
    }
  }

  private onExit(code: number, signal: NodeJS.Signals | null): void {
    if (this.exited) return
    this.exited = true
    if (this.importing) kernel.eagerDone(kernel.eagerCounter(), this.importing)
    kernel.removeChild(this.identity)
    this.link.close()
    const sig = signal ?? (this.backend === "thread" ? this.killedWith ?? null : null)
    const exitCode = sig ? -signalNumber(sig) : code
    this.exitCode = exitCode
    kernel.announceDown(kernel.addressOf(this.identity), this.identity[this.identity.length - 1])
    this.events.onExit(exitCode, sig, this.uncaught)
  }

  /** The worker's index of each task sent to it, by task object and by address. */
  private readonly taskObjects = new WeakMap<object, number>()
  private readonly tasks = new Map<string, number>()

  /** Sends a call; throws `CodecError` (path under `args`) if an argument cannot be encoded. */
  call(callId: number, task: { readonly module: string; readonly key: string }, args: ReadonlyArray<unknown>, awake = false): void {
    // Arguments travel opaque: the worker decodes them after importing the task's module, which
    // may register the codecs they need. Plain ones need no decoding: they travel as they are.
    const shared: Array<unknown> | undefined = this.link.endpoint.sharesMemory ? [] : undefined
    const plain = isPlainArray(args, 2)
    const prepared = plain ? args : prepareOpaque(args, { shared }, "args")
    let index = this.taskObjects.get(task)
    if (index === undefined) {
      const id = task.module + "#" + task.key
      index = this.tasks.get(id)
      if (index === undefined) {
        index = this.tasks.size
        this.tasks.set(id, index)
        // Plain even when the module URL is long (most are): otherwise the worker would load
        // msgpackr for this message alone (3-5 ms of its boot).
        this.link.send([P.TASK, index, task.module, task.key], task.module.isWellFormed() && task.key.isWellFormed())
      }
      this.taskObjects.set(task, index)
    }
    // Plain arguments make a plain, flat RUN (its other fields are numbers): not walked a second
    // time, and one array less to clone.
    if (plain) {
      const m: Array<unknown> = [P.RUN_FLAT, callId, index, awake ? 1 : 0]
      for (let i = 0; i < args.length; i++) m.push(args[i])
      this.link.send(m, true)
      return
    }
    const withShared = shared !== undefined && shared.length > 0
    if (awake) this.link.send([P.RUN, callId, index, prepared, withShared ? shared : null, 1], false)
    else if (withShared) this.link.send([P.RUN, callId, index, prepared, shared], false)
    else this.link.send([P.RUN, callId, index, prepared], false)
  }

  interrupt(callId: number): void {
    this.link.send([P.INTERRUPT, callId])
  }

  /** Asks the worker to exit once its current calls are done. */
  close(): void {
    this.link.send([P.CLOSE])
  }

  /** SIGTERM, or `Worker.terminate()` on the thread backend (reported as -15). */
  terminate(): void {
    this.signal("SIGTERM")
  }

  /** SIGKILL, or `Worker.terminate()` on the thread backend (reported as -9). */
  kill(): void {
    this.signal("SIGKILL")
  }

  private signal(sig: NodeJS.Signals): void {
    if (this.exited) return
    if (this.worker) {
      this.killedWith ??= sig
      this.terminateWhenNotImporting(this.worker, Date.now() + 2000)
    } else {
      try {
        this.child?.kill(sig)
      } catch {
        // already gone
      }
    }
  }

  /** Modules the thread is importing, counted by the thread itself. */
  private importing: Int32Array | undefined

  /** V8 can abort the whole process (a CHECK in `AsyncModuleExecutionFulfilled`) when a thread is
   * terminated while an async module finishes evaluating: a termination waits (up to a bound)
   * until the thread is not in the middle of an import. */
  private terminateWhenNotImporting(worker: Worker, deadline: number): void {
    if (this.exited) return
    if (this.importing !== undefined && Atomics.load(this.importing, 0) > 0 && Date.now() < deadline) {
      setTimeout(() => this.terminateWhenNotImporting(worker, deadline), 1)
      return
    }
    void worker.terminate()
  }

  ref(): void {
    this.worker?.ref()
    this.child?.ref()
    ;(this.child?.channel as any)?.ref?.()
  }

  unref(): void {
    this.worker?.unref()
    this.child?.unref()
    ;(this.child?.channel as any)?.unref?.()
  }
}
