/**
 * Task references: a function that runs in another process, addressed by module URL and name.
 *
 * Python pickles a function by its qualified name and the child imports it again; a Task is the
 * same contract made explicit. Define tasks at the top level of a module (the main module works
 * too, behind `if (import.meta.main)`, Node's `if __name__ == "__main__"`), and pass them to
 * `Process`, `Pool` and friends. This module does not load `effect`, so a worker that only runs
 * plain tasks boots fast.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import { registerFunctionCodec } from "./internal/codec.ts"

/**
 * @internal
 *
 * @example
 * ```ts
 * import * as Task from "@multiproc/runtime/Task"
 * const t = Task.make(import.meta, (x: number) => x, { name: "id" })
 * t[Task.TaskTypeId] === Task.TaskTypeId // true
 * ```
 */
export const TaskTypeId: unique symbol = Symbol.for("@multiproc/runtime/Task") as any

/** The value a task function may return: a plain value, a promise, or (duck-typed) an Effect. */
export type TaskResult<A> = A | PromiseLike<A>

/**
 * A function that can run in another process: callable locally, sent by reference.
 *
 * Python equivalent: a module-level function passed as `target=` (pickled by qualified name).
 *
 * @example
 * ```ts
 * import * as Task from "@multiproc/runtime/Task"
 * export const square = Task.make(import.meta, function square(x: number) { return x * x })
 * square(3) // 9, locally
 * ```
 * @category models
 * @since 0.1.0
 */
export interface Task<Args extends ReadonlyArray<any> = ReadonlyArray<any>, R = unknown, E = never> {
  (...args: Args): R
  /** Phantom: the declared error type of a plain task. */
  readonly "~errors"?: E
  readonly [TaskTypeId]: TaskTypeId
  /** The URL of the module that defines the task. */
  readonly module: string
  /** The name the task is found by in its module: an explicit name, the function's name, or `#N`. */
  readonly key: string
  /** Error classes the task may fail with, so they arrive as the same class. */
  readonly errors: ReadonlyArray<Function>
  /** Whether the task's module is loaded in this process (false for {@link ref}). */
  readonly local: boolean
}
export type TaskTypeId = typeof TaskTypeId

const registry = new Map<string, Map<string, Task<ReadonlyArray<any>, unknown, unknown>>>()
const ordinals = new Map<string, number>()

const urlOf = (meta: ImportMeta | URL | string): string =>
  typeof meta === "string" ? meta : meta instanceof URL ? meta.href : meta.url

/** Options of {@link make}. */
export interface MakeOptions<E = never> {
  /** The name to register under; defaults to the function's own name. */
  readonly name?: string
  /** Error classes (including `Schema.TaggedError` classes) the task can fail with: thrown
   * instances arrive as typed failures instead of defects. */
  readonly errors?: ReadonlyArray<abstract new(...args: any) => E>
}

/** What a task's call succeeds with in the caller. */
export type Success<T> = T extends Task<any, infer R, any> ? (R extends Effect.Effect<infer A, any, any> ? A : Awaited<R>) : never

/** What a task's call fails with in the caller (typed failures; anything else is a defect). */
export type Failure<T> = T extends Task<any, infer R, infer E> ? (R extends Effect.Effect<any, infer EE, any> ? EE | E : E) : never

/** The argument list of a task. */
export type Args<T> = T extends Task<infer A, any, any> ? A : never

/**
 * Defines a task at the top level of a module.
 *
 * Every worker that runs it imports the module, and what the module imports at its top: import
 * `Task` from `@multiproc/runtime/Task` (a few ms in a fresh worker) rather than the package
 * barrel, which loads `effect` (~100 ms), and keep the main program's imports inside
 * `if (import.meta.main)`.
 *
 * Python equivalent: defining a module-level function that a child process imports by name.
 *
 * @example
 * ```ts
 * import * as Task from "@multiproc/runtime/Task"
 * export const doubler = Task.make(import.meta, (n: number) => n * 2, { name: "doubler" })
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const make = <Args extends ReadonlyArray<any>, R, E = never>(
  meta: ImportMeta | URL | string,
  fn: (...args: Args) => R,
  options: MakeOptions<E> = {}
): Task<Args, R, E> => {
  const module = urlOf(meta)
  let byKey = registry.get(module)
  if (!byKey) registry.set(module, byKey = new Map())
  const ordinal = ordinals.get(module) ?? 0
  ordinals.set(module, ordinal + 1)
  const key = options.name ?? (fn.name && fn.name !== "anonymous" ? fn.name : `#${ordinal}`)
  if (byKey.has(key)) {
    throw new TypeError(`Task "${key}" is defined twice in ${module}; give one of them { name }`)
  }
  const task = ((...args: Args) => fn(...args)) as Task<Args, R, E>
  Object.defineProperties(task, {
    [TaskTypeId]: { value: TaskTypeId },
    module: { value: module, enumerable: true },
    key: { value: key, enumerable: true },
    errors: { value: options.errors ?? [] },
    local: { value: true },
    name: { value: key }
  })
  byKey.set(key, task)
  return task
}

/**
 * Refers to a task (or a plain exported function) by module URL and export name, without
 * importing the module here.
 *
 * Python equivalent: what pickle stores for a function (`module.qualname`).
 *
 * @example
 * ```ts
 * import * as Task from "@multiproc/runtime/Task"
 * const sqrt = Task.ref<[number], number>(new URL("./math.ts", import.meta.url), "sqrt")
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const ref = <Args extends ReadonlyArray<any> = ReadonlyArray<any>, R = unknown>(
  module: ImportMeta | URL | string,
  key: string
): Task<Args, Promise<Awaited<R>>> => {
  const url = urlOf(module)
  const task = (async (...args: Args) => {
    const resolved = await resolve(url, key)
    return await resolved(...args)
  }) as unknown as Task<Args, Promise<Awaited<R>>>
  Object.defineProperties(task, {
    [TaskTypeId]: { value: TaskTypeId },
    module: { value: url, enumerable: true },
    key: { value: key, enumerable: true },
    errors: { value: [] },
    local: { value: false },
    name: { value: key }
  })
  return task
}

/**
 * Whether a value is a {@link Task}.
 *
 * @category guards
 * @since 0.1.0
  *
 * @example
 * ```ts
 * import * as Task from "@multiproc/runtime/Task"
 * Task.isTask(() => 1) // false
 * ```
 */
export const isTask = (u: unknown): u is Task<ReadonlyArray<any>, unknown, unknown> => typeof u === "function" && (u as any)[TaskTypeId] === TaskTypeId

/**
 * Why a task reference could not be resolved in a worker.
 *
 * @example
 * ```ts
 * import * as Task from "@multiproc/runtime/Task"
 * const e = new Task.TaskResolutionError("file:///m.ts", "f", "no task by that name")
 * e.message // cannot resolve task "f" in file:///m.ts: no task by that name
 * ```
 */
export class TaskResolutionError extends Error {
  readonly module: string
  readonly key: string
  readonly reason: string
  constructor(module: string, key: string, reason: string, cause?: unknown) {
    super(`cannot resolve task "${key}" in ${module}: ${reason}`, cause === undefined ? undefined : { cause })
    this.name = "TaskResolutionError"
    this.module = module
    this.key = key
    this.reason = reason
  }
}

// ---- bootstrapping ----------------------------------------------------------------------------
//
// Modules this thread is importing to find a task (`resolve`, a worker's preloads). A worker that
// is importing the module of the task it is about to run, with nothing else running, is still
// bootstrapping, as Python says: a module that starts a process at its top level (a main program
// without the `import.meta.main` guard) would have every worker import it and start another one,
// without end, so `Child.spawn` refuses then (see `bootstrapping`), as Python's spawn raises a
// RuntimeError. Here rather than in a module of its own: each module of a worker's boot costs it
// ~1 ms.

/** The modules being imported now (a module twice if two imports of it are under way). */
const modules: Array<string> = []

/** Runs `load`, an import of `url`, counted among the modules being imported. @internal */
export const track = async <A>(url: string, load: () => Promise<A>): Promise<A> => {
  modules.push(url)
  try {
    return await load()
  } finally {
    modules.splice(modules.lastIndexOf(url), 1)
  }
}

let callsRunning: (() => number) | undefined

/** Installed by a worker's runtime: how many calls run in it now. The main thread never bootstraps. @internal */
export const setCallsRunning = (f: () => number): void => {
  callsRunning = f
}

/** The module whose import the worker is still bootstrapping with, if any: imports are under way
 * and every call running (at most one per import) is waiting for one. @internal */
export const bootstrapping = (): string | undefined =>
  callsRunning !== undefined && modules.length > 0 && callsRunning() <= modules.length ? modules[0] : undefined

/**
 * Resolves a task reference in this process: imports the module and finds the task by key
 * (a registered task, or an export of that name that is a function).
 *
 * @category resolution
 * @since 0.1.0
  *
 * @example
 * ```ts
 * import * as Task from "@multiproc/runtime/Task"
 * const fn = await Task.resolve(new URL("./tasks.ts", import.meta.url).href, "square")
 * ```
 */
export const resolve = async (module: string, key: string): Promise<(...args: ReadonlyArray<any>) => unknown> => {
  let ns: Record<string, unknown>
  try {
    ns = await track(module, () => import(module))
  } catch (cause) {
    throw new TaskResolutionError(module, key, `the module failed to load (${(cause as Error)?.message ?? String(cause)})`, cause)
  }
  const registered = registry.get(module)?.get(key)
  if (registered) return registered
  const exported = ns[key]
  if (typeof exported === "function") return exported as (...args: ReadonlyArray<any>) => unknown
  if (exported !== undefined) throw new TaskResolutionError(module, key, `the export is a ${typeof exported}, not a function`)
  const known = [...(registry.get(module)?.keys() ?? [])]
  throw new TaskResolutionError(
    module,
    key,
    known.length > 0
      ? `no task or exported function by that name (tasks defined there: ${known.join(", ")}); define tasks at the module's top level`
      : "no task or exported function by that name; define tasks at the module's top level"
  )
}

/**
 * Error classes the task module exports, so errors thrown in a worker arrive as the same class.
 *
 * @example
 * ```ts
 * import * as Task from "@multiproc/runtime/Task"
 * class Oops extends Error {}
 * const t = Task.make(import.meta, () => 1, { name: "t", errors: [Oops] })
 * Task.errorClassesOf(t) // [Oops]
 * ```
 */
export const errorClassesOf = (task: Task<ReadonlyArray<any>, unknown, unknown>): ReadonlyArray<Function> => task.errors

// A task handed to another process travels as its reference and comes back callable.
registerFunctionCodec(
  "Task",
  (fn) => isTask(fn) ? [fn.module, fn.key] : undefined,
  (payload: [string, string]) => ref(payload[0], payload[1])
)
