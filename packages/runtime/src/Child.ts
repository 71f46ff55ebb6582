/**
 * A child: one OS worker (a worker thread or a forked child process) owned by a Scope, speaking
 * the runtime protocol. Everything that runs code elsewhere (Process, Pool, Manager) is built on it.
 *
 * - The Scope that spawned a child cannot close with it running: the finalizer terminates it and
 *   waits for the exit (SIGKILL after a grace period).
 * - A call is interruptible: interrupting it sends an interrupt to the worker, where an Effect
 *   task's fiber is interrupted (finalizers run).
 * - A child dies with its parent, also when the parent is SIGKILLed.
 *
 * Python equivalent: the `Popen` objects under `multiprocessing.Process` (`popen_spawn_posix`).
 *
 * @since 0.1.0
 */
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { fromCodecError, isCodecError, type SerializationError } from "./Codec.ts"
import { REPLY_POLL_MS, ReplyPolling, stayAwakeWhile } from "./internal/awake.ts"
import { CodecError, registerErrorClass } from "./internal/codec.ts"
import * as kernel from "./internal/kernel.ts"
import * as P from "./internal/protocol.ts"
import { type Backend, ChildHandle } from "./internal/spawn.ts"
import * as Task from "./Task.ts"

export type { Backend } from "./internal/spawn.ts"

/**
 * Why a child could not do what was asked.
 *
 * - `SpawnFailed`: the worker could not be created or died before it was ready.
 * - `Crashed`: the worker exited while a call was running on it.
 * - `Exited`: the worker is gone; nothing more can be sent to it.
 *
 * @example
 * ```ts
 * import { Child } from "@multiproc/runtime"
 * import { Effect } from "effect"
 * const recover = <A>(call: Effect.Effect<A, Child.ChildError>) =>
 *   call.pipe(Effect.catchTag("ChildError", (e) => Effect.succeed(e.exitCode)))
 * ```
 * @category errors
 * @since 0.1.0
 */
export class ChildError extends Schema.TaggedError<ChildError>()("ChildError", {
  reason: Schema.Literals(["SpawnFailed", "Crashed", "Exited"]),
  message: Schema.String,
  name: Schema.String,
  pid: Schema.Number,
  exitCode: Schema.NullOr(Schema.Number),
  signal: Schema.NullOr(Schema.String),
  cause: Schema.optional(Schema.Defect())
}) {}

registerErrorClass(Task.TaskResolutionError)
registerErrorClass(ChildError)

const scannedModules = new Set<string>()

/**
 * Registers the Error classes a task's module exports, so errors thrown in a worker (including
 * `Schema.TaggedError`s of Effect tasks) arrive as instances of the same class. The module is
 * already loaded here (it defined the task), so the import resolves at once; a main module still
 * evaluating resolves later, and its tasks should list their errors in `Task.make`.
 */
const scannedTasks = new WeakSet<object>()
const scanErrorClasses = (task: Task.Task<any, any, any>): void => {
  // Once per task object: this runs on every call.
  if (scannedTasks.has(task)) return
  scannedTasks.add(task)
  for (const C of task.errors) registerErrorClass(C)
  if (!task.local || scannedModules.has(task.module)) return
  scannedModules.add(task.module)
  import(task.module).then((ns: Record<string, unknown>) => {
    for (const value of Object.values(ns)) {
      if (typeof value === "function" && value.prototype instanceof Error) registerErrorClass(value)
    }
  }, () => {})
}

/** Options of {@link spawn}. */
export interface SpawnOptions {
  /** `thread` (worker_threads, the default) or `process` (child_process.fork). */
  readonly backend?: Backend | undefined
  readonly name?: string | undefined
  /** Python's `_identity`; defaults to the next one of this process. */
  readonly identity?: ReadonlyArray<number> | undefined
  readonly daemon?: boolean | undefined
  /** `once`: the worker runs one call and exits. `service`: it runs calls until closed. */
  readonly mode?: "once" | "service" | undefined
  /** Modules imported before the worker reports ready. */
  readonly preload?: ReadonlyArray<string> | undefined
  /** How many calls run at once in the worker; calls beyond it wait their turn there (calls
   * can then be sent ahead without running concurrently). Default: no limit. */
  readonly concurrency?: number | undefined
  readonly resourceLimits?: import("node:worker_threads").ResourceLimits | undefined
  readonly execArgv?: ReadonlyArray<string> | undefined
  readonly env?: Record<string, string | undefined> | undefined
  /**
   * How long a service worker keeps its event loop polling after each reply instead of sleeping,
   * so that a call sent right after the reply finds it awake (an OS wake-up costs 10-20 µs, about
   * half of a round trip). `0` turns it off (the worker then uses no CPU between calls at all).
   * Given alone, 50 µs is what applies when neither this nor `pollForReply` is given, and the
   * calls measure instead (see `pollForReply`).
   */
  readonly awakeAfterReply?: Duration.Input | undefined
  /**
   * The same on this side: how long this process keeps its event loop polling after it sent a
   * call, while calls are awaiting their replies (a short call's reply is then seen at once, not
   * after an OS wake-up). On a machine with few cores, two threads polling at once can leave
   * nothing for the others (measured on 2 cores: p50 0.86x raw `postMessage` with 50 µs, but p99
   * 1.8 ms instead of ~0.13 ms). `"measure"`, the default when neither this nor `awakeAfterReply`
   * is given (and a pool's): each call decides, as manager calls do (`ReplyPolling`): the calls
   * sent while no other is out are timed polling (50 µs here, and as long in the worker after the
   * reply) and not, in turn, and the faster way is kept. With only `awakeAfterReply` given, 0.
   */
  readonly pollForReply?: Duration.Input | "measure" | undefined
  /** How long the finalizer waits after SIGTERM before SIGKILL. Default 5 seconds. */
  readonly killAfter?: Duration.Input | undefined
}

/**
 * A running worker.
 *
 * @category models
 * @since 0.1.0
 */
export interface Child {
  readonly backend: Backend
  readonly identity: ReadonlyArray<number>
  readonly address: string
  readonly name: string
  /** The OS pid (the hosting process's pid on the thread backend). */
  readonly pid: number
  /** The worker thread id (0 on the process backend). */
  readonly threadId: number
  /** Completes once the worker is ready; fails if it exits first. */
  readonly ready: Effect.Effect<void, ChildError>
  /** Completes with Python's exitcode when the worker has exited. */
  readonly exited: Effect.Effect<number>
  readonly exitCode: number | undefined
  readonly isAlive: () => boolean
  /** Runs a task on the worker. */
  readonly call: <T extends Task.Task<any, any, any>>(
    task: T,
    args: Task.Args<T>
  ) => Effect.Effect<Task.Success<T>, Task.Failure<T> | ChildError | SerializationError>
  /**
   * The callback form of `call`, for schedulers that keep their own bookkeeping per call (no
   * fiber per call): `onExit` runs once with the call's Exit, unless the returned function
   * cancels the call first (the worker is then told to interrupt it).
   */
  readonly callUnsafe: <T extends Task.Task<any, any, any>>(
    task: T,
    args: Task.Args<T>,
    onExit: (exit: Exit.Exit<Task.Success<T>, Task.Failure<T> | ChildError | SerializationError>) => void
  ) => () => void
  /** Asks the worker to exit once its calls are done. */
  readonly close: Effect.Effect<void>
  readonly terminate: Effect.Effect<void>
  readonly kill: Effect.Effect<void>
  /** Lets the event loop exit while this worker runs (a daemon). */
  readonly unref: () => void
  readonly ref: () => void
  /** Calls running on the worker. */
  readonly inFlight: () => number
}

/** @internal */
const noop = (): void => {}

export interface Pending {
  readonly resume: (exit: Exit.Exit<any, any>) => void
  readonly errors: ReadonlyArray<Function>
  /** Whether the call polls for its reply (`pollForReply: "measure"`). */
  readonly awake: boolean
  /** The call's number among those sent (see `ReplyPolling`). */
  readonly n: number
  /** When it was sent if no other call was out then (and its polling is measured), else -1. */
  readonly timed: number
}

const isDeclared = (error: unknown, errors: ReadonlyArray<Function>): boolean =>
  errors.some((C) => error instanceof C)

/**
 * Maps a DONE message to the Exit of the call. @internal
 *
 * @example
 * ```ts
 * import * as Child from "@multiproc/runtime/Child"
 * Child.exitOf(0, 42, []) // Exit.succeed(42)
 * ```
 */
export const exitOf = (status: number, value: unknown, errors: ReadonlyArray<Function>): Exit.Exit<any, any> => {
  switch (status) {
    case P.OK:
      return Exit.succeed(value)
    case P.FAIL:
      return Exit.fail(value)
    case P.DIE:
      return Exit.die(value)
    case P.INTERRUPTED:
      return Exit.interrupt()
    default:
      if (isCodecError(value)) return Exit.fail(fromCodecError(value as CodecError))
      return isDeclared(value, errors) ? Exit.fail(value) : Exit.die(value)
  }
}

/**
 * Spawns a worker owned by the current Scope.
 *
 * Python equivalent: the start of `Process.start()`, before the target runs.
 *
 * @example
 * ```ts
 * import { Child, Task } from "@multiproc/runtime"
 * import { Effect } from "effect"
 * export const square = Task.make(import.meta, (x: number) => x * x, { name: "square" })
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const child = yield* Child.spawn({ mode: "service" })
 *   return yield* child.call(square, [7]) // 49
 * }))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const spawn = (options: SpawnOptions = {}): Effect.Effect<Child, ChildError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.suspend(() => spawnUnscoped(options)),
    (child) => shutdown(child, options.killAfter ?? Duration.seconds(5))
  )

/**
 * Terminates a child unless it has exited, escalating to SIGKILL. @internal
 *
 * @example
 * ```ts
 * import { Child } from "@multiproc/runtime"
 * declare const child: Child.Child
 * const stopped = Child.shutdown(child, "2 seconds")
 * ```
 */
export const shutdown = (child: Child, killAfter: Duration.Input): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (!child.isAlive()) return Effect.asVoid(child.exited)
    return child.terminate.pipe(
      Effect.andThen(child.exited.pipe(Effect.timeoutOption(killAfter))),
      Effect.flatMap((o) => o._tag === "Some" ? Effect.void : Effect.andThen(child.kill, child.exited)),
      Effect.asVoid
    )
  })

let callIds = 0
/** Calls of this process awaiting their replies, on every child. */
let awaiting = 0
const isAwaiting = (): boolean => awaiting > 0

/** A polling option (`awakeAfterReply`, `pollForReply`) in milliseconds; a RangeError if invalid. */
const pollingMillis = (name: string, input: Duration.Input | undefined, byDefault: number): number | RangeError => {
  if (input === undefined) return byDefault
  let ms = Number.NaN
  // Effect reads a NaN number as zero; here it is a mistake.
  if (typeof input !== "number" || !Number.isNaN(input)) {
    try {
      ms = Duration.toMillis(Duration.fromInputUnsafe(input))
    } catch {
      // stays NaN
    }
  }
  return ms >= 0 && ms <= 1000 ? ms : new RangeError(`${name} must be a duration from 0 to 1 second, not ${String(input)}`)
}

/**
 * Spawns without a Scope; the caller must terminate it. @internal
 *
 * @example
 * ```ts
 * import { Child } from "@multiproc/runtime"
 * const child = Child.spawnUnscoped({ backend: "process" }) // terminate it yourself
 * ```
 */
export const spawnUnscoped = (options: SpawnOptions): Effect.Effect<Child, ChildError> =>
  Effect.gen(function*() {
    const identity = options.identity ?? kernel.nextIdentity()
    const name = options.name ?? `Process-${identity.join(":")}`
    const backend = options.backend ?? "thread"
    const ready = yield* Deferred.make<void, ChildError>()
    const exited = yield* Deferred.make<number>()
    const pending = new Map<number, Pending>()
    let handle: ChildHandle
    const errorOf = (reason: "SpawnFailed" | "Crashed" | "Exited", code: number | null, signal: string | null, cause?: unknown) =>
      new ChildError({
        reason,
        message: reason === "SpawnFailed"
          ? `${name} failed to start${code !== null ? ` (exitcode ${code})` : ""}${cause instanceof Error ? `: ${cause.message}` : ""}`
          : reason === "Crashed"
          ? `${name} (pid ${handle?.pid}) exited with ${signal ? `signal ${signal}` : `exitcode ${code}`} while running a task`
          : `${name} has exited`,
        name,
        pid: handle?.pid ?? 0,
        exitCode: code,
        signal,
        ...(cause === undefined ? {} : { cause })
      })
    const importing = Task.bootstrapping()
    if (importing !== undefined) {
      return yield* Effect.fail(errorOf("SpawnFailed", null, null, new Error(
        `this worker is still importing ${importing} to find a task, and that module's top-level code starts a process ` +
          `(which would import it again, without end). Guard the main program with \`if (import.meta.main) { ... }\`, ` +
          `as Python's \`if __name__ == "__main__":\``
      )))
    }
    // Neither option given: each call's polling is measured (see `pollForReply`).
    const byMeasure = options.pollForReply === "measure" || (options.pollForReply === undefined && options.awakeAfterReply === undefined)
    const awakeMs = pollingMillis("awakeAfterReply", options.awakeAfterReply, byMeasure ? 0 : 0.05)
    if (awakeMs instanceof RangeError) return yield* Effect.fail(errorOf("SpawnFailed", null, null, awakeMs))
    const measure = byMeasure ? new ReplyPolling() : undefined
    const pollMs = measure ? 0 : pollingMillis("pollForReply", options.pollForReply as Duration.Input | undefined, 0)
    if (pollMs instanceof RangeError) return yield* Effect.fail(errorOf("SpawnFailed", null, null, pollMs))
    /** Calls sent so far: a call is timed if none was sent before its reply (see `ReplyPolling`). */
    let sent = 0
    try {
      handle = new ChildHandle({
        backend,
        boot: {
          identity,
          name,
          daemon: options.daemon ?? false,
          backend,
          mode: options.mode ?? "service",
          logLevel: kernel.self.logLevel,
          parentPid: process.pid,
          parentName: kernel.self.name,
          authkey: kernel.self.authkey,
          ...(options.preload ? { preload: options.preload } : {}),
          ...(options.concurrency !== undefined ? { concurrency: options.concurrency } : {}),
          awakeMs
        },
        resourceLimits: options.resourceLimits,
        execArgv: options.execArgv,
        env: options.env
      }, {
        onReady: () => Deferred.doneUnsafe(ready, Exit.void),
        onDone: (callId, status, value) => {
          if (callId === -1) {
            Deferred.doneUnsafe(ready, Exit.fail(errorOf("SpawnFailed", null, null, value)))
            return
          }
          const p = pending.get(callId)
          if (!p) return
          pending.delete(callId)
          awaiting--
          if (p.timed >= 0 && sent === p.n) measure!.measured(p.awake, performance.now() - p.timed, p.timed)
          p.resume(exitOf(status, value, p.errors))
        },
        onExit: (code, signal, error) => {
          Deferred.doneUnsafe(ready, Exit.fail(errorOf("SpawnFailed", code, signal, error)))
          const crash = errorOf("Crashed", code, signal, error)
          awaiting -= pending.size
          for (const p of pending.values()) p.resume(Exit.fail(crash))
          pending.clear()
          Deferred.doneUnsafe(exited, Exit.succeed(code))
        }
      })
    } catch (cause) {
      return yield* Effect.fail(errorOf("SpawnFailed", null, null, cause))
    }
    const callUnsafe = <T extends Task.Task<any, any, any>>(
      task: T,
      args: Task.Args<T>,
      onExit: (exit: Exit.Exit<Task.Success<T>, Task.Failure<T> | ChildError | SerializationError>) => void
    ): () => void => {
      if (handle.exited) {
        onExit(Exit.fail(errorOf("Exited", handle.exitCode ?? null, null)))
        return noop
      }
      scanErrorClasses(task)
      const id = ++callIds
      const awake = measure !== undefined && measure.next()
      try {
        handle.call(id, task, args, awake)
      } catch (e) {
        onExit(e instanceof CodecError ? Exit.fail(fromCodecError(e)) : Exit.die(e))
        return noop
      }
      const n = ++sent
      pending.set(id, { resume: onExit, errors: task.errors, awake, n, timed: measure && pending.size === 0 ? performance.now() : -1 })
      awaiting++
      if (awake) stayAwakeWhile(REPLY_POLL_MS, isAwaiting)
      else if (pollMs > 0) stayAwakeWhile(pollMs, isAwaiting)
      return () => {
        if (!pending.delete(id)) return
        awaiting--
        if (!handle.exited) handle.interrupt(id)
      }
    }
    const call = <T extends Task.Task<any, any, any>>(task: T, args: Task.Args<T>) =>
      Effect.callback<Task.Success<T>, Task.Failure<T> | ChildError | SerializationError>((resume) => {
        const cancel = callUnsafe(task, args, resume)
        return cancel === noop ? undefined : Effect.sync(cancel)
      })
    const child: Child = {
      backend,
      identity,
      address: kernel.addressOf(identity),
      name,
      get pid() {
        return handle.pid
      },
      get threadId() {
        return handle.threadId
      },
      ready: Deferred.await(ready),
      exited: Deferred.await(exited),
      get exitCode() {
        return handle.exitCode
      },
      isAlive: () => !handle.exited,
      call,
      callUnsafe,
      close: Effect.sync(() => handle.close()),
      terminate: Effect.sync(() => handle.terminate()),
      kill: Effect.sync(() => handle.kill()),
      unref: () => handle.unref(),
      ref: () => handle.ref(),
      inFlight: () => pending.size
    }
    return child
  })
