/**
 * Process for async/await code: the same API as `Process` (Effect), as a class. A thin wrapper:
 * every method runs the Effect API.
 *
 * Python equivalent: `multiprocessing.Process`.
 *
 * @since 0.1.0
 */
import { SerializationError } from "@multiproc/runtime/Codec"
import * as Task from "@multiproc/runtime/Task"
import type * as Duration from "effect/Duration"
import * as P from "../Process.ts"
import { run, runSync } from "../internal/facade.ts"

/** The error of a process (Python's `multiprocessing.ProcessError` is the base of its errors). */
export { ProcessError } from "../Process.ts"

/** Options of a {@link Process} subclass that overrides `run()`: no `target`, but the module that
 * exports the class, so the child can import it (Python pickles the class by qualified name). */
export interface SubclassOptions {
  /** Where the class is exported: the defining module's `import.meta` (or its URL). */
  readonly module: ImportMeta | URL | string
  readonly name?: string | undefined
  readonly daemon?: boolean | undefined
  readonly backend?: P.Backend | undefined
  readonly worker?: P.Options<any>["worker"]
  /** Called by the base `run()` (`super.run()`), as Python's `run()` calls `target`. */
  readonly target?: Task.Task<any, any, any> | undefined
  readonly args?: ReadonlyArray<unknown> | undefined
}

/** A subclass process: where its class is, and the task arguments filled in at `start`. */
interface Subclass {
  readonly module: string
  readonly key: string
  readonly payload: Array<unknown>
}

const subclassed = new WeakMap<object, Subclass>()
/** Python's `_target` / `_args`, for the base `run()`. */
const targets = new WeakMap<object, { readonly target: Task.Task<any, any, any>; readonly args: ReadonlyArray<unknown> }>()
/** The instance a child runs: it is the current process (Python: `self is current_process()`). */
const selves = new WeakMap<object, P.ProcessInfo>()

/** The object of this API for each Effect-API process, so `activeChildren()` lists the objects
 * the program made (Python: `p in active_children()`). */
const facades = new WeakMap<P.Process<any, any>, Process>()

/** The facade object of an Effect-API process (one made for a pool's worker on first demand). */
const facadeOf = (p: P.Process<any, any>): Process => {
  let f = facades.get(p)
  if (f === undefined) {
    f = Object.create(Process.prototype) as Process
    Object.defineProperty(f, "process", { value: p, enumerable: true })
    facades.set(p, f)
  }
  return f
}

/** The facade's own fields, not part of a subclass's state. */
const internalFields = new Set(["process"])

const invalid = (name: string, message: string) => new P.ProcessError({ reason: "InvalidArgument", message, name })

const urlOf = (meta: ImportMeta | URL | string): string =>
  typeof meta === "string" ? meta : meta instanceof URL ? meta.href : meta.url

/** The exported subclass of `Process` called `key` (under its own name or another). */
const findClass = (ns: Record<string, unknown>, key: string): (new() => Process) | undefined => {
  const isProcessClass = (v: unknown): v is new() => Process => typeof v === "function" && v.prototype instanceof Process
  if (isProcessClass(ns[key])) return ns[key]
  return Object.values(ns).find((v): v is new() => Process => isProcessClass(v) && v.name === key)
}

/** What a subclass process runs in the child: Python's unpickling of the instance, then `run()`. */
const runSubclass = Task.make(
  import.meta,
  async (fields: Record<string, unknown>, module: string, key: string, target: Task.Task<any, any, any> | undefined, args: ReadonlyArray<unknown>) => {
    const name = P.currentProcess().name
    let ns: Record<string, unknown>
    try {
      // Tracked as a task's module is: a module that starts a process at its top level is refused.
      ns = await Task.track(module, () => import(module))
    } catch (cause) {
      throw new P.ProcessError({ reason: "InvalidArgument", message: `cannot resolve class "${key}" in ${module}: the module failed to load (${(cause as Error)?.message ?? String(cause)})`, name, cause })
    }
    const Class = findClass(ns, key)
    if (Class === undefined) {
      throw invalid(name, `cannot resolve class "${key}" in ${module}: no exported Process subclass by that name; export the class at the module's top level`)
    }
    const self: Process = Object.create(Class.prototype)
    Object.assign(self, fields)
    if (target !== undefined) targets.set(self, { target, args })
    selves.set(self, P.currentProcess())
    return await self.run()
  },
  { name: "runSubclass", errors: [P.ProcessError] }
)

/** A SerializationError of the payload, named as Python names the instance's state. */
const renamePath = (e: unknown): unknown => {
  if (!(e instanceof SerializationError)) return e
  const path = e.path.replace(/^args\[0\]/, "fields").replace(/^args\[4\]/, "args")
  return path === e.path ? e : new SerializationError({ path, reason: e.reason, message: e.message.replace(e.path, path) })
}

/**
 * A process running a task in a worker thread or a child process, or, in a subclass that
 * overrides `run()`, that method. A subclass passes `{ module: import.meta }` (the module that
 * exports it) to `super`; `start()` sends the instance's own enumerable fields (handles such as
 * queues and locks included), and the child imports the module, rebuilds the instance from them
 * without calling the constructor, and awaits `run()`: its return value is the result, a throw
 * gives exitcode 1. In the child, `this.name`, `this.pid`, `this.daemon` describe the child.
 *
 * Python equivalent: `multiprocessing.Process`, and `class P(Process): def run(self)`.
 *
 * @example
 * ```ts
 * import { Process, Queue } from "@multiproc/primitives/promise"
 * import * as Task from "@multiproc/runtime/Task"
 * export const doubler = Task.make(import.meta, (n: number) => n * 2, { name: "doubler" })
 * export class Doubler extends Process {
 *   n: number
 *   q: Queue<number>
 *   constructor(n: number, q: Queue<number>) {
 *     super({ module: import.meta })
 *     this.n = n
 *     this.q = q
 *   }
 *   override async run() {
 *     await this.q.put(this.n * 2)
 *   }
 * }
 * if (import.meta.main) {
 *   const p = new Process({ target: doubler, args: [5] })
 *   await p.start()
 *   await p.join()
 *   console.log(p.exitCode) // 0
 *   const q = new Queue<number>()
 *   const d = new Doubler(21, q)
 *   await d.start()
 *   console.log(await q.get()) // 42
 * }
 * ```
 * @category models
 * @since 0.1.0
 */
export class Process<T extends Task.Task<any, any, any> = Task.Task<any, any, any>> {
  /** The Effect-API process this object wraps (absent on the instance a subclass's child runs). */
  readonly process: P.Process<Task.Success<T>, Task.Failure<T>>
  constructor(options: P.Options<T> | SubclassOptions) {
    const overridden = new.target.prototype.run !== Process.prototype.run
    const name = options?.name ?? "Process"
    if (options?.target !== undefined) targets.set(this, { target: options.target, args: options.args ?? [] })
    if (!overridden) {
      if (options?.target === undefined) {
        throw invalid(name, "Process needs a target (a Task), or a subclass that overrides run()")
      }
      this.process = runSync(P.make(options as P.Options<T>))
      facades.set(this.process, this)
      return
    }
    const module = (options as Partial<SubclassOptions>).module
    if (module === undefined) {
      throw invalid(name, `${new.target.name || "a Process subclass"} overrides run(): pass { module: import.meta } (the module that exports the class) to super()`)
    }
    if (!new.target.name) throw invalid(name, "a Process subclass that overrides run() must be a named, exported class")
    if (options.args !== undefined && !Array.isArray(options.args)) {
      throw invalid(name, `args must be an array, got ${options.args === null ? "null" : typeof options.args}`)
    }
    // The task's arguments are the instance's state, known only at start() (as Python pickles then).
    const payload: Array<unknown> = []
    subclassed.set(this, { module: urlOf(module), key: new.target.name, payload })
    const { module: _, target: __, args: ___, ...rest } = options as SubclassOptions
    // The child loads the class's module before it decodes the fields: the codecs of the handles
    // they hold (Queue, Lock, …) are registered by the modules that module imports.
    const worker = { ...rest.worker, preload: [urlOf(module)] } as P.Options<any>["worker"]
    this.process = runSync(P.make({ ...rest, worker, target: runSubclass, args: payload as any })) as any
    facades.set(this.process, this)
  }
  /** Python's `run()`: what the process runs. The base one calls `target(...args)` in this
   * process; override it in a subclass (see the class docs). */
  run(): unknown {
    const t = targets.get(this)
    return t === undefined ? undefined : t.target(...t.args)
  }
  get name(): string {
    return selves.get(this)?.name ?? this.process.name
  }
  set name(value: string) {
    const self = selves.get(this)
    if (self !== undefined) (self as { name: string }).name = value
    else this.process.name = value
  }
  /** Settable until `start()` (Python's `daemon`); afterwards setting it throws `AlreadyStarted`. */
  get daemon(): boolean {
    return selves.get(this)?.daemon ?? this.process.daemon
  }
  set daemon(value: boolean) {
    const self = selves.get(this)
    if (self !== undefined) (self as { daemon: boolean }).daemon = value
    else this.process.daemon = value
  }
  /** As in Python, `pid`, `ident`, `exitCode`, `sentinel` and `isAlive` throw (`Closed`) once
   * the object is closed. */
  get pid(): number | undefined {
    return selves.get(this)?.pid ?? this.open().pid
  }
  /** Python's `ident`: the same as `pid`. */
  get ident(): number | undefined {
    return this.pid
  }
  get exitCode(): number | undefined {
    // In the child, the running process has no exitcode yet (Python's None).
    return selves.has(this) ? undefined : this.open().exitCode
  }
  /** Python's `authkey` (hex): the process tree's key, inherited by the child. */
  get authkey(): string {
    return selves.get(this)?.authkey ?? this.process.authkey
  }
  /** Python's `sentinel`: pass it to `wait` to wait for the end of this process. Throws
   * `NotStarted` before `start()`, as Python's raises ValueError. */
  get sentinel(): P.Process<Task.Success<T>, Task.Failure<T>> {
    return this.open().sentinel
  }
  /** Python's `is_alive()`. */
  isAlive(): boolean {
    return selves.has(this) || runSync(P.isAlive(this.process))
  }
  private open(): P.Process<Task.Success<T>, Task.Failure<T>> {
    runSync(P.isAlive(this.process))
    return this.process
  }
  /** Python's `start()`; resolves once the worker exists. */
  start(): Promise<void> {
    const sub = subclassed.get(this)
    // The facade joins its children when the program is done (its Scope closes at 'beforeExit'),
    // so a running child must not keep the event loop alive itself: see `joinAtExitUnsafe`.
    const started = () => P.joinAtExitUnsafe(this.process)
    if (sub === undefined) return run(P.start(this.process)).then(started)
    const fields: Record<string, unknown> = {}
    for (const key of Object.keys(this)) if (!internalFields.has(key)) fields[key] = (this as any)[key]
    const t = targets.get(this)
    sub.payload.splice(0, sub.payload.length, fields, sub.module, sub.key, t?.target, t?.args ?? [])
    return run(P.start(this.process)).then(started, (e) => Promise.reject(renamePath(e)))
  }
  /** Python's `join(timeout)`; resolves with the exitcode, or `undefined` on timeout. */
  join(timeout?: Duration.Input): Promise<number | undefined> {
    return run(P.join(this.process, timeout))
  }
  /** The task's return value (rejects with its error). */
  result(): Promise<Task.Success<T>> {
    return run(P.result(this.process))
  }
  terminate(): Promise<void> {
    return run(P.terminate(this.process))
  }
  kill(): Promise<void> {
    return run(P.kill(this.process))
  }
  close(): Promise<void> {
    return run(P.close(this.process))
  }
  toString(): string {
    const self = selves.get(this)
    // Named after the class, as Python's `type(self).__name__`.
    if (self === undefined) return String(this.process).replace(/^<Process /, `<${this.constructor.name} `)
    // In the child, as Python's repr of the running process: started, its parent's pid.
    return `<${this.constructor.name} name='${self.name}' parent=${P.parentProcess()?.pid} started${self.daemon ? " daemon" : ""}>`
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString()
  }
  /** `await using`: a daemon is terminated, otherwise the process is joined. Not closed: its
   * `exitCode` stays readable after the block (a closed object throws, as in Python). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.process.isAlive()) {
      if (this.daemon) await this.terminate()
      await this.join()
    }
  }
}

/**
 * Python's `current_process()`.
 *
 * @example
 * ```ts
 * import { currentProcess } from "@multiproc/primitives/promise"
 * console.log(currentProcess().name) // "MainProcess"
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const currentProcess = P.currentProcess

/**
 * Python's `parent_process()`.
 *
 * @example
 * ```ts
 * import { parentProcess } from "@multiproc/primitives/promise"
 * parentProcess() // undefined in the main process
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const parentProcess = P.parentProcess

/**
 * Python's `active_children()`: the live children, as the `Process` objects the program made
 * (`activeChildren().includes(p)`); a pool's workers are listed too.
 *
 * @example
 * ```ts
 * import { activeChildren } from "@multiproc/primitives/promise"
 * const live = activeChildren()
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const activeChildren = (): Array<Process> => runSync(P.activeChildren()).map(facadeOf)

/**
 * Python's `cpu_count()`.
 *
 * @example
 * ```ts
 * import { cpuCount } from "@multiproc/primitives/promise"
 * cpuCount() // 2
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const cpuCount = P.cpuCount

/**
 * Python's `set_start_method(method, force=False)`: the default backend, `thread` or `process`.
 *
 * @example
 * ```ts
 * import { setStartMethod } from "@multiproc/primitives/promise"
 * setStartMethod("process")
 * ```
 * @category context
 * @since 0.1.0
 */
export const setStartMethod = P.setStartMethod

/**
 * Python's `get_start_method(allow_none=False)`.
 *
 * @example
 * ```ts
 * import { getStartMethod } from "@multiproc/primitives/promise"
 * getStartMethod() // "thread"
 * ```
 * @category context
 * @since 0.1.0
 */
export const getStartMethod = P.getStartMethod

/**
 * Python's `get_all_start_methods()`.
 *
 * @example
 * ```ts
 * import { getAllStartMethods } from "@multiproc/primitives/promise"
 * getAllStartMethods() // ["thread", "process"]
 * ```
 * @category context
 * @since 0.1.0
 */
export const getAllStartMethods = P.getAllStartMethods

/**
 * Does nothing, as Python's `freeze_support()` does in any program that is not a frozen Windows
 * executable: a Node program is never frozen that way, so ported code calling it runs unchanged.
 *
 * Python equivalent: `multiprocessing.freeze_support()`.
 *
 * @example
 * ```ts
 * import { freezeSupport } from "@multiproc/primitives/promise"
 * if (import.meta.main) {
 *   freezeSupport() // a no-op
 * }
 * ```
 * @category context
 * @since 0.2.0
 */
export const freezeSupport = (): void => {}
