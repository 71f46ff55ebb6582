/**
 * Process: run a task in another process (a worker thread or a child process) and watch it.
 *
 * A started process is an Effect fiber in its parent that owns the OS worker: the fiber's Exit is
 * the process's fate, interrupting it terminates the worker, and the Scope that started it cannot
 * close with it running (non-daemonic processes are joined, daemonic ones terminated; if the scope
 * closes because of a failure or an interruption, all are terminated).
 *
 * Python equivalent: `multiprocessing.Process` and the process-level functions.
 *
 * @since 0.1.0
 */
import * as Child from "@multiproc/runtime/Child"
import type * as Codec from "@multiproc/runtime/Codec"
import * as kernel from "@multiproc/runtime/internal/kernel"
import * as Task from "@multiproc/runtime/Task"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as os from "node:os"
import { whileWaiting } from "./internal/alive.ts"
import { backendProblem, timeoutProblem } from "./internal/args.ts"

/**
 * Misuse of a process, or a process that could not run.
 *
 * - `NotStarted`: `join` / `terminate` / `result` before `start` (Python: AssertionError).
 * - `AlreadyStarted`: a second `start` (Python: "cannot start a process twice").
 * - `StillRunning`: `close` while running (Python: ValueError).
 * - `Closed`: using a closed process (Python: ValueError).
 * - `DaemonChildren`: a daemonic process tried to start a child.
 * - `SpawnFailed`: the worker could not be created.
 * - `Exited`: the process ended without a result (an explicit exit(N), a signal, a crash).
 * - `ContextAlreadySet` / `BadStartMethod`: misuse of {@link setStartMethod}.
 * - `InvalidArgument`: a `target` that is not a Task, or `args` that is not an array (Python:
 *   TypeError at construction).
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const code = (p: Process.Process<number>) =>
 *   Process.result(p).pipe(Effect.catchTag("ProcessError", (e) => Effect.succeed(e.exitCode ?? -1)))
 * ```
 * @category errors
 * @since 0.1.0
 */
export class ProcessError extends Schema.TaggedError<ProcessError>()("ProcessError", {
  reason: Schema.Literals(["NotStarted", "AlreadyStarted", "StillRunning", "Closed", "DaemonChildren", "SpawnFailed", "Exited", "ContextAlreadySet", "BadStartMethod", "InvalidArgument"]),
  message: Schema.String,
  name: Schema.String,
  exitCode: Schema.optional(Schema.NullOr(Schema.Number)),
  cause: Schema.optional(Schema.Defect())
}) {}

/** Where a process runs: `thread` (worker_threads, the default) or `process` (child_process). */
export type Backend = Child.Backend

/**
 * The backend used when none is given, for the Effects it is provided to.
 *
 * Python equivalent: `multiprocessing.get_context(method)` (a context bound to one start method).
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const program: Effect.Effect<void>
 * const onProcesses = program.pipe(Effect.provideService(Process.StartMethod, "process"))
 * ```
 * @category context
 * @since 0.1.0
 */
export const StartMethod = Context.Reference<Backend | undefined>("@multiproc/primitives/Process/StartMethod", {
  defaultValue: () => undefined
})

let globalStartMethod: Backend | undefined
let globalStartMethodUsed = false

const allStartMethods: ReadonlyArray<Backend> = ["thread", "process"]

/**
 * Sets the process-wide default backend, once (or again with `force`).
 *
 * Python equivalent: `multiprocessing.set_start_method(method, force=False)`.
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * Process.setStartMethod("process")
 * ```
 * @category context
 * @since 0.1.0
 */
export const setStartMethod = (method: Backend | undefined, options: { readonly force?: boolean } = {}): void => {
  if ((globalStartMethod !== undefined || globalStartMethodUsed) && !options.force) {
    throw new ProcessError({ reason: "ContextAlreadySet", message: "context has already been set", name: kernel.self.name })
  }
  if (method !== undefined && !allStartMethods.includes(method)) {
    throw new ProcessError({ reason: "BadStartMethod", message: `cannot find context for '${String(method)}'`, name: kernel.self.name })
  }
  // Python: `set_start_method(None)` fixes the default, `set_start_method(None, force=True)` unsets.
  if (method === undefined && !options.force) {
    getStartMethod()
    return
  }
  globalStartMethod = method
  globalStartMethodUsed = method !== undefined
}

/** The default when none was set: the main process's is `thread`; a child's, the backend it runs
 * on (Python's child uses the start method it was started with). */
const defaultStartMethod = (): Backend => kernel.self.backend === "main" ? "thread" : kernel.self.backend

/**
 * The process-wide default backend (fixing it unless `allowNone`: to `thread` in the main process,
 * to its own backend in a child).
 *
 * Python equivalent: `multiprocessing.get_start_method(allow_none=False)`.
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * Process.getStartMethod() // "thread"
 * ```
 * @category context
 * @since 0.1.0
 */
export const getStartMethod = (allowNone = false): Backend | undefined => {
  if (globalStartMethod === undefined && !allowNone) {
    globalStartMethod = defaultStartMethod()
    globalStartMethodUsed = true
  }
  return globalStartMethod
}

/**
 * The available backends, the default first (a new array each time, as Python's list).
 *
 * Python equivalent: `multiprocessing.get_all_start_methods()`.
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * Process.getAllStartMethods() // ["thread", "process"]
 * ```
 * @category context
 * @since 0.1.0
 */
export const getAllStartMethods = (): Array<Backend> => [...allStartMethods]

/**
 * The backend for a new process: the given one, else the provided {@link StartMethod}, else the
 * process-wide default.
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * const backend = Process.resolveBackend(undefined) // Effect<"thread" | "process">
 * ```
 * @category context
 * @since 0.1.0
 */
export const resolveBackend = (given: Backend | undefined): Effect.Effect<Backend> =>
  given != null ? Effect.succeed(given) : Effect.map(Effect.service(StartMethod), (provided) => provided ?? getStartMethod()!)

/** Options of {@link make}. */
export interface Options<T extends Task.Task<any, any, any>> {
  /** The task to run (Python's `target`). */
  readonly target: T
  /** Its arguments (Python's `args`; use an object argument for Python's `kwargs`). */
  readonly args?: Task.Args<T> | undefined
  /** Defaults to `Process-N` (`Process-1:2` for the second child of the first child). */
  readonly name?: string | undefined
  /** Defaults to the creating process's own daemon flag. */
  readonly daemon?: boolean | undefined
  readonly backend?: Backend | undefined
  /** Extra worker settings (resource limits, exec arguments, environment). */
  readonly worker?: Pick<Child.SpawnOptions, "resourceLimits" | "execArgv" | "env" | "killAfter"> | undefined
}

type State = "initial" | "started" | "closed"

/**
 * A process object: created with {@link make}, run with {@link start}.
 *
 * Python equivalent: a `multiprocessing.Process` instance.
 *
 * @category models
 * @since 0.1.0
 */
export interface Process<A = unknown, E = never> {
  /** Settable, for identification only (Python's `name`). */
  name: string
  /** Settable until the process starts (Python's `daemon`); setting it afterwards throws
   * `ProcessError` `AlreadyStarted`, as Python's assertion "process has already started". */
  daemon: boolean
  readonly backend: Backend
  readonly identity: ReadonlyArray<number>
  /** The OS pid once started; on the thread backend, the hosting process's pid. */
  readonly pid: number | undefined
  /** Python's `ident`: the same as {@link pid}. */
  readonly ident: number | undefined
  /** The worker thread id on the thread backend, once started. */
  readonly threadId: number | undefined
  /** Python's `authkey`, hex-encoded: the key of the process tree, which the child inherits. */
  readonly authkey: string
  /** Python's `sentinel`: something `Pipe.wait` accepts, ready once the process has ended
   * (here the process object itself; Python's is a file descriptor). Throws `ProcessError`
   * `NotStarted` before `start` and `Closed` after `close`, as Python's raises ValueError. */
  readonly sentinel: Process<A, E>
  /** `undefined` until the process has ended (Python's `None`); then 0, 1, N or -signal. */
  readonly exitCode: number | undefined
  /** Python's `is_alive()`: started and not yet ended. */
  readonly isAlive: () => boolean
  /** Phantom: the task's success and failure types. */
  readonly "~types"?: (_: never) => [A, E]
}

interface Internal<A, E> {
  state: State
  daemon: boolean
  readonly task: Task.Task<any, any, any>
  readonly args: ReadonlyArray<unknown>
  readonly options: Options<any>
  child: Child.Child | undefined
  fiber: Fiber.Fiber<A, E | ProcessError> | undefined
  readonly ended: Deferred.Deferred<number>
}

const internals = new WeakMap<object, Internal<any, any>>()
const internalOf = <A, E>(p: Process<A, E>): Internal<A, E> => internals.get(p)!

const children = new Set<Process<any, any>>()

/** Per Scope, the processes started in it; once it closes, those still running at that moment.
 * Python's exit handler lists `active_children()` once, then logs "calling join()" for and joins
 * each of them, even one that ends while an earlier one is joined: the finalizers decide from the
 * list taken when the first of them runs. */
const startedIn = new WeakMap<Scope.Scope, Set<Process<any, any>>>()
const runningAtClose = new WeakMap<Scope.Scope, Set<Process<any, any>>>()
/** Whether `p` (started in `scope`) was running when the scope's first process finalizer ran. */
const wasRunningAtClose = (scope: Scope.Scope, p: Process<any, any>): boolean => {
  let running = runningAtClose.get(scope)
  if (running === undefined) {
    running = new Set([...startedIn.get(scope) ?? []].filter((q) => q.isAlive() || internalOf(q).child === undefined))
    runningAtClose.set(scope, running)
  }
  return running.has(p)
}

class ProcessImpl<A, E> implements Process<A, E> {
  name: string
  readonly backend: Backend
  readonly identity: ReadonlyArray<number>
  constructor(options: Options<any>, backend: Backend, ended: Deferred.Deferred<number>, identity?: ReadonlyArray<number>) {
    this.identity = identity ?? kernel.nextIdentity()
    this.name = options.name ?? `Process-${this.identity.join(":")}`
    this.backend = backend
    internals.set(this, {
      state: "initial",
      daemon: options.daemon ?? kernel.self.daemon,
      task: options.target,
      args: options.args ?? [],
      options,
      child: undefined,
      fiber: undefined,
      ended
    })
  }
  get daemon(): boolean {
    return internalOf<A, E>(this).daemon
  }
  set daemon(value: boolean) {
    const i = internalOf<A, E>(this)
    // The worker is spawned daemonic or not: the flag is fixed from start() on.
    if (i.state !== "initial") throw misuse(this, "AlreadyStarted", "process has already started")
    i.daemon = value
  }
  get pid(): number | undefined {
    return internalOf<A, E>(this).child?.pid
  }
  get ident(): number | undefined {
    return this.pid
  }
  get authkey(): string {
    return kernel.self.authkey
  }
  get sentinel(): Process<A, E> {
    // Python: ValueError before start() (there is nothing to wait for yet) and once closed.
    const state = internalOf<A, E>(this).state
    if (state === "initial") throw misuse(this, "NotStarted", "process not started")
    if (state === "closed") throw misuse(this, "Closed", "process object is closed")
    return this
  }
  get threadId(): number | undefined {
    const c: Child.Child | undefined = internalOf<A, E>(this).child
    return c && c.backend === "thread" ? c.threadId : undefined
  }
  get exitCode(): number | undefined {
    return internalOf<A, E>(this).child?.exitCode
  }
  isAlive(): boolean {
    const c: Child.Child | undefined = internalOf<A, E>(this).child
    return c !== undefined && c.isAlive()
  }
  /** Python's repr: `<Process name='Process-1' pid=123 parent=122 stopped exitcode=-SIGTERM daemon>`. */
  toString() {
    const i = internalOf<A, E>(this)
    const status = i.state === "initial" ? "initial" : i.state === "closed" ? "closed" : this.isAlive() ? "started" : `stopped exitcode=${exitCodeName(this.exitCode)}`
    return `<Process name='${this.name}'${i.child ? ` pid=${i.child.pid}` : ""} parent=${kernel.self.pid} ${status}${this.daemon ? " daemon" : ""}>`
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString()
  }
}

/** Python's `_exitcode_to_name`: minus a signal's number is printed as `-SIGTERM`. */
const exitCodeName = (code: number | undefined): string => {
  if (code === undefined || code >= 0) return String(code)
  const name = Object.entries(os.constants.signals).find(([, n]) => n === -code)?.[0]
  return name === undefined ? String(code) : `-${name}`
}

/**
 * Creates a process object (nothing runs until {@link start}).
 *
 * Python equivalent: `Process(target=f, args=(...), name=..., daemon=...)`.
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * import * as Task from "@multiproc/runtime/Task"
 * export const doubler = Task.make(import.meta, (n: number) => n * 2, { name: "doubler" })
 * const p = Process.make({ target: doubler, args: [5] })
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const make = <T extends Task.Task<any, any, any>>(
  options: Options<T>
): Effect.Effect<Process<Task.Success<T>, Task.Failure<T>>, ProcessError> =>
  Effect.gen(function*() {
    // Python's "name must be a string"; a number here failed the error's own schema instead.
    if (options.name != null && typeof options.name !== "string") {
      return yield* new ProcessError({ reason: "InvalidArgument", message: `name must be a string, got ${describe(options.name)}`, name: "Process" })
    }
    const name = options.name ?? "Process"
    if (!Task.isTask(options.target)) {
      return yield* new ProcessError({
        reason: "InvalidArgument",
        message: `target must be a Task (Task.make(import.meta, fn)), got ${describe(options.target)}`,
        name
      })
    }
    if (options.args !== undefined && !Array.isArray(options.args)) {
      return yield* new ProcessError({ reason: "InvalidArgument", message: `args must be an array, got ${describe(options.args)}`, name })
    }
    const badBackend = backendProblem(options.backend)
    if (badBackend !== undefined) return yield* new ProcessError({ reason: "InvalidArgument", message: badBackend, name })
    const backend = yield* resolveBackend(options.backend)
    const ended = yield* Deferred.make<number>()
    return new ProcessImpl<Task.Success<T>, Task.Failure<T>>(options, backend, ended)
  })

const describe = (u: unknown): string =>
  typeof u === "function" ? `the plain function ${u.name || "(anonymous)"}` : u === null ? "null" : typeof u

const misuse = (p: Process<any, any>, reason: ProcessError["reason"], message: string) =>
  new ProcessError({ reason, message, name: p.name })

/**
 * Starts the process in the current Scope and returns once the worker exists (its pid is known).
 *
 * Python equivalent: `Process.start()`.
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const p: Process.Process
 * const program = Effect.scoped(Effect.andThen(Process.start(p), Process.join(p)))
 * ```
 * @category lifecycle
 * @since 0.1.0
 */
export const start = <A, E>(p: Process<A, E>): Effect.Effect<void, ProcessError | Codec.SerializationError, Scope.Scope> =>
  Effect.gen(function*() {
    const i = internalOf(p)
    if (i.state === "closed") return yield* misuse(p, "Closed", "process object is closed")
    if (i.state === "started") return yield* misuse(p, "AlreadyStarted", "cannot start a process twice")
    if (kernel.self.daemon && kernel.self.backend !== "main") {
      return yield* misuse(p, "DaemonChildren", "daemonic processes are not allowed to have children")
    }
    i.state = "started"
    const scope = yield* Effect.scope
    const started = startedIn.get(scope) ?? new Set()
    startedIn.set(scope, started.add(p))
    const spawned = yield* Deferred.make<Child.Child, ProcessError | Codec.SerializationError>()
    const run = Effect.scoped(Effect.gen(function*() {
      const child = yield* Child.spawn({
        backend: p.backend,
        name: p.name,
        identity: p.identity,
        daemon: p.daemon,
        mode: "once",
        ...i.options.worker
      }).pipe(
        Effect.tapError((e) =>
          Effect.andThen(
            Deferred.fail(spawned, new ProcessError({ reason: "SpawnFailed", message: e.message, name: p.name, cause: e })),
            // A process that never ran has ended all the same: join must not wait for it.
            Deferred.succeed(i.ended, e.exitCode ?? 1)
          )
        ),
        Effect.mapError((e) => new ProcessError({ reason: "SpawnFailed", message: e.message, name: p.name, cause: e }))
      )
      i.child = child
      if (p.daemon) child.unref()
      // The arguments are encoded when the call starts: do it before `start` returns, so handles
      // passed as arguments (queues, connections) are captured then, as Python pickles at start().
      const call = yield* Effect.forkChild(Effect.exit(child.call(i.task, i.args as any)), { startImmediately: true })
      // Arguments that cannot cross fail the call before it leaves (synchronously): `start` fails
      // with that SerializationError, as Python's start() raises its pickling error, and the
      // worker, which never got its task, goes with this scope.
      const sent = call.pollUnsafe()
      if (sent !== undefined && Exit.isSuccess(sent) && Exit.isFailure(sent.value)) {
        const unsendable = sent.value.cause.reasons.find((r) => r._tag === "Fail" && (r as any).error?._tag === "SerializationError")
        if (unsendable) {
          const error = (unsendable as any).error as Codec.SerializationError
          yield* Deferred.fail(spawned, error)
          return yield* error
        }
      }
      // Not a finalizer: this scope's Child finalizer is what makes the worker exit. (After the
      // check above: a start that failed there leaves the process unstarted, not ended.)
      yield* Effect.forkDetach(Effect.flatMap(child.exited, (code) => Deferred.succeed(i.ended, code)))
      yield* Deferred.succeed(spawned, child)
      const exit = yield* Fiber.join(call)
      const code = yield* child.exited
      if (Exit.isSuccess(exit)) return exit.value as A
      const error = exit.cause.reasons.find((r) => r._tag === "Fail")
      if (error && (error as any).error?._tag === "ChildError") {
        const ce = (error as any).error as Child.ChildError
        if (code === 0) return undefined as A
        return yield* new ProcessError({
          reason: ce.reason === "SpawnFailed" ? "SpawnFailed" : "Exited",
          message: ce.message,
          name: p.name,
          exitCode: code,
          cause: ce
        })
      }
      return yield* (exit as Exit.Exit<never, E | ProcessError>)
    }))
    const fiber = yield* Effect.forkIn(run as Effect.Effect<A, E | ProcessError>, scope)
    i.fiber = fiber
    children.add(p)
    // Runs before the fiber's own interruption (finalizers run in reverse order).
    yield* Scope.addFinalizerExit(scope, (exit) =>
      Effect.gen(function*() {
        if (!wasRunningAtClose(scope, p)) return
        if (p.daemon || Exit.isFailure(exit)) yield* Fiber.interrupt(fiber)
        else {
          kernel.log(20, `calling join() for process ${p.name}`)
          // Held: the child may not keep the event loop alive (see `joinAtExitUnsafe`).
          yield* whileWaiting(Fiber.await(fiber))
        }
      })
    )
    yield* Deferred.await(spawned).pipe(
      Effect.tapError((e) =>
        Effect.sync(() => {
          if (e._tag !== "SerializationError") return
          // As in Python, a start that raised leaves the object unstarted.
          i.state = "initial"
          i.child = undefined
          i.fiber = undefined
          children.delete(p)
        })
      )
    )
  })

/**
 * Lets the event loop exit while `p` runs, as a daemonic child's does, for an owner that joins it
 * when the program is done: the async/await facade closes its Scope at 'beforeExit' (Node's
 * "nothing left to do"), and a running child that keeps the loop alive would put that moment
 * after the child's end. Unref'd, 'beforeExit' comes when the main program is done, where Python's
 * exit handler runs (it logs "calling join() for process …" and joins the children still alive).
 * Waits on `p` hold the loop themselves.
 *
 * Python equivalent: none (the main thread's end).
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * declare const p: Process.Process
 * Process.joinAtExitUnsafe(p) // after `start`, in a Scope closed when the program is done
 * ```
 * @internal
 */
export const joinAtExitUnsafe = <A, E>(p: Process<A, E>): void => {
  internalOf(p).child?.unref()
}

const requireStarted = <A, E>(p: Process<A, E>): Effect.Effect<Internal<A, E>, ProcessError> => {
  const i = internalOf(p)
  if (i.state === "closed") return Effect.fail(misuse(p, "Closed", "process object is closed"))
  if (i.state === "initial") return Effect.fail(misuse(p, "NotStarted", "can only join a started process"))
  return Effect.succeed(i)
}

/**
 * Waits for the process to end, at most `timeout` if given. Returns the exitcode, or
 * `undefined` if the timeout passed first (Python returns `None` either way).
 *
 * Python equivalent: `Process.join(timeout)`.
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * declare const p: Process.Process
 * const code = Process.join(p, "1 second")
 * ```
 * @category lifecycle
 * @since 0.1.0
 */
export const join = <A, E>(p: Process<A, E>, timeout?: Duration.Input): Effect.Effect<number | undefined, ProcessError> =>
  Effect.flatMap(requireStarted(p), (i) => {
    // Waiting keeps this process alive (a daemonic child does not), as Python's blocked join does.
    const bad = timeoutProblem(timeout)
    if (bad !== undefined) return Effect.fail(new ProcessError({ reason: "InvalidArgument", message: bad, name: p.name }))
    const wait = whileWaiting(Deferred.await(i.ended))
    if (timeout == null) return wait
    const d = Duration.fromInputUnsafe(timeout)
    if (Duration.toMillis(d) <= 0) return Effect.sync(() => p.exitCode)
    return Effect.map(Effect.timeoutOption(wait, d), Option.getOrUndefined)
  })

/**
 * The process's fate: its task's result, its typed failure, or a `ProcessError` if it ended
 * without one. Waits for the end.
 *
 * Python equivalent: none (Python discards the target's return value); `join` + `exitcode`.
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * declare const p: Process.Process<number>
 * const value = Process.result(p)
 * ```
 * @category lifecycle
 * @since 0.1.0
 */
export const result = <A, E>(p: Process<A, E>): Effect.Effect<A, E | ProcessError> =>
  Effect.flatMap(requireStarted(p), (i) => whileWaiting(Fiber.join(i.fiber!)))

/**
 * Sends SIGTERM (the thread backend terminates the worker and reports -15).
 *
 * Python equivalent: `Process.terminate()`.
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * declare const p: Process.Process
 * const stop = Process.terminate(p)
 * ```
 * @category lifecycle
 * @since 0.1.0
 */
export const terminate = <A, E>(p: Process<A, E>): Effect.Effect<void, ProcessError> =>
  Effect.flatMap(requireStarted(p), (i) => i.child ? i.child.terminate : Effect.void)

/**
 * Sends SIGKILL (the thread backend terminates the worker and reports -9).
 *
 * Python equivalent: `Process.kill()`.
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * declare const p: Process.Process
 * const stop = Process.kill(p)
 * ```
 * @category lifecycle
 * @since 0.1.0
 */
export const kill = <A, E>(p: Process<A, E>): Effect.Effect<void, ProcessError> =>
  Effect.flatMap(requireStarted(p), (i) => i.child ? i.child.kill : Effect.void)

/**
 * Releases the process object; fails with `StillRunning` if it has not ended. Idempotent.
 *
 * Python equivalent: `Process.close()`.
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * declare const p: Process.Process
 * const done = Process.close(p)
 * ```
 * @category lifecycle
 * @since 0.1.0
 */
export const close = <A, E>(p: Process<A, E>): Effect.Effect<void, ProcessError> =>
  Effect.suspend(() => {
    const i = internalOf(p)
    if (i.state === "closed") return Effect.void
    if (p.isAlive()) {
      return Effect.fail(misuse(p, "StillRunning", "Cannot close a process while it is still running. You should first call join() or terminate()."))
    }
    i.state = "closed"
    children.delete(p)
    return Effect.void
  })

/**
 * Whether the process has started and not yet ended.
 *
 * Python equivalent: `Process.is_alive()`.
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * declare const p: Process.Process
 * const alive = Process.isAlive(p)
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const isAlive = <A, E>(p: Process<A, E>): Effect.Effect<boolean, ProcessError> =>
  internalOf(p).state === "closed" ? Effect.fail(misuse(p, "Closed", "process object is closed")) : Effect.sync(() => p.isAlive())

/**
 * Whether a value is a process (what {@link make} gives; a facade `Process` holds one as
 * `.process`).
 *
 * Python equivalent: `isinstance(x, multiprocessing.Process)`.
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * Process.isProcess({}) // false
 * ```
 * @category guards
 * @since 0.2.0
 */
export const isProcess = (u: unknown): u is Process<unknown, unknown> => u instanceof ProcessImpl

/**
 * Creates, starts and joins a process, returning its task's result.
 *
 * Python equivalent: `p = Process(target=f, args=a); p.start(); p.join()`, plus the result.
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * import * as Task from "@multiproc/runtime/Task"
 * export const square = Task.make(import.meta, (x: number) => x * x, { name: "square" })
 * const nine = Process.run({ target: square, args: [3] })
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const run = <T extends Task.Task<any, any, any>>(
  options: Options<T>
): Effect.Effect<Task.Success<T>, Task.Failure<T> | ProcessError | Codec.SerializationError> =>
  Effect.scoped(Effect.gen(function*() {
    const p = yield* make(options)
    yield* start(p)
    return yield* result(p)
  }))

/** What {@link currentProcess} and {@link parentProcess} describe. */
export interface ProcessInfo {
  /** Settable on {@link currentProcess} (Python's `current_process().name = …`): it names this
   * process in log records and to the children it starts afterwards. */
  name: string
  readonly pid: number
  /** Python's `ident`: the same as {@link pid}. */
  readonly ident: number
  /** Python's `exitcode`: `undefined` (None), as the process described has not ended here. */
  readonly exitCode: number | undefined
  readonly threadId: number
  readonly identity: ReadonlyArray<number>
  readonly daemon: boolean
  readonly backend: "main" | Backend
  /** Python's `authkey`, hex-encoded; children inherit it. */
  readonly authkey: string
  readonly isAlive: () => boolean
}

/**
 * Describes the calling process (`MainProcess` in the main one).
 *
 * Python equivalent: `multiprocessing.current_process()`.
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * Process.currentProcess().name // "MainProcess", or "Process-1" in a child
 * Process.currentProcess().name = "Coordinator" // renames this process (logs, children's parent)
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const currentProcess = (): ProcessInfo => ({
  get name() {
    return kernel.self.name
  },
  set name(value: string) {
    kernel.self.name = value
  },
  pid: kernel.self.pid,
  ident: kernel.self.pid,
  exitCode: undefined,
  threadId: kernel.self.threadId,
  identity: kernel.self.identity,
  daemon: kernel.self.daemon,
  backend: kernel.self.backend,
  authkey: kernel.self.authkey,
  isAlive: () => true
})

/**
 * Describes the parent process, or `undefined` in the main process. Its `isAlive()` turns false
 * when the parent dies.
 *
 * Python equivalent: `multiprocessing.parent_process()`.
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * const parent = Process.parentProcess() // undefined in the main process
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const parentProcess = (): ProcessInfo | undefined =>
  kernel.self.backend === "main" ? undefined : {
    name: kernel.self.parentName ?? "MainProcess",
    pid: kernel.self.parentPid ?? 0,
    ident: kernel.self.parentPid ?? 0,
    exitCode: undefined,
    threadId: 0,
    identity: kernel.self.identity.slice(0, -1),
    daemon: false,
    backend: kernel.self.identity.length > 1 ? kernel.self.backend as Backend : "main",
    authkey: kernel.self.authkey,
    isAlive: kernel.isParentAlive
  }

/**
 * The live children started by this process, pools' workers and managers' processes included, as
 * in Python (finished ones are dropped as a side effect).
 *
 * Python equivalent: `multiprocessing.active_children()`.
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * const live = Process.activeChildren()
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const activeChildren = (): Effect.Effect<ReadonlyArray<Process<any, any>>> =>
  Effect.sync(() => {
    const live: Array<Process<any, any>> = []
    for (const p of children) {
      if (p.isAlive()) live.push(p)
      else if (internalOf(p).child !== undefined) children.delete(p)
    }
    return live
  })

/**
 * Lists a worker started by another primitive (a pool's, a manager's) among {@link activeChildren},
 * as Python lists a pool's worker processes and a manager's process: a started process object over the worker, dropped from the
 * list when the worker exits. Its `result` is `undefined` on exitcode 0, else `Exited`. @internal
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * import type * as Child from "@multiproc/runtime/Child"
 * declare const worker: Child.Child
 * const p = Process.adoptUnsafe(worker, true) // now in Process.activeChildren()
 * ```
 */
export const adoptUnsafe = (child: Child.Child, daemon: boolean): Process<void, ProcessError> => {
  const ended = Deferred.makeUnsafe<number>()
  const p = new ProcessImpl<void, ProcessError>({ target: undefined as never, name: child.name, daemon }, child.backend, ended, child.identity)
  const i = internalOf<void, ProcessError>(p)
  i.state = "started"
  i.child = child
  i.fiber = Effect.runFork(Effect.flatMap(child.exited, (code) =>
    Effect.andThen(
      Effect.sync(() => {
        children.delete(p)
        Deferred.doneUnsafe(ended, Exit.succeed(code))
      }),
      code === 0 ? Effect.void : Effect.fail(new ProcessError({ reason: "Exited", message: `${child.name} exited with exitcode ${code}`, name: child.name, exitCode: code }))
    )
  ))
  children.add(p)
  return p
}

/**
 * The number of CPUs this process may use.
 *
 * Python equivalent: `multiprocessing.cpu_count()`.
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives"
 * const n = Process.cpuCount() // 2 on this machine
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const cpuCount = (): number => os.availableParallelism()
