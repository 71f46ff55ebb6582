/**
 * Start-method contexts for async/await code: an object with the module's names whose
 * constructors that start workers (`Process`, `Pool`, `Manager`) use one start method. A thin
 * layer: each passes `backend` to the existing class; nothing else is re-implemented.
 *
 * Python equivalent: `multiprocessing.get_context(method)`.
 *
 * @since 0.1.0
 */
import * as Logging from "@multiproc/runtime/Logging"
import type * as M from "../Manager.ts"
import type * as PoolOptions from "../Pool.ts"
import * as Proc from "../Process.ts"
import { Barrier } from "./Barrier.ts"
import { Condition } from "./Condition.ts"
import { Event } from "./Event.ts"
import { Lock, RLock } from "./Lock.ts"
import { Manager } from "./Manager.ts"
import { Pipe } from "./Pipe.ts"
import { Pool } from "./Pool.ts"
import { AuthenticationError, BufferTooShort, TimeoutError } from "./errors.ts"
import { activeChildren, cpuCount, currentProcess, freezeSupport, parentProcess, Process, type SubclassOptions } from "./Process.ts"
import { JoinableQueue, Queue, SimpleQueue } from "./Queue.ts"
import { BoundedSemaphore, Semaphore } from "./Semaphore.ts"
import { Array as SharedArray, RawArray, RawValue, Value } from "./SharedValue.ts"

/** `Manager.start` / `Manager.connect` of a context: the server starts with its method. */
export interface ContextManager {
  /** Python's `ctx.Manager()`: a started manager whose server runs on the context's method. */
  readonly start: (options?: M.Options) => Promise<Manager>
  /** Python's `BaseManager(address, authkey).connect()` (no worker is started: as `Manager.connect`). */
  readonly connect: typeof Manager.connect
}

/** A `Process` class whose instances (and subclasses') default to `method`; an explicit
 * `backend` option still wins. Named `Process`, so reprs read as the base class's. */
const processClass = (method: Proc.Backend): typeof Process => {
  const C = class extends Process {
    constructor(options: Proc.Options<any> | SubclassOptions) {
      super({ ...options, backend: options?.backend ?? method } as Proc.Options<any>)
    }
  }
  Object.defineProperty(C, "name", { value: "Process" })
  return C as typeof Process
}

/** A `Pool` class whose pools default to `method`. */
const poolClass = (method: Proc.Backend): typeof Pool => {
  const C = class extends Pool {
    constructor(given: PoolOptions.Options | number = {}) {
      const options = typeof given === "number" ? { processes: given } : given
      super({ ...options, backend: options.backend ?? method })
    }
  }
  Object.defineProperty(C, "name", { value: "Pool" })
  return C
}

/**
 * The names of the module bound to one start method: `Process`, `Pool` and `Manager.start` start
 * their workers with it (unless given a `backend` of their own); the other names are the
 * module's. Made by {@link getContext}, one per method.
 *
 * Python equivalent: `multiprocessing.context.BaseContext` (`SpawnContext`, …).
 *
 * @example
 * ```ts
 * import { getContext } from "@multiproc/primitives/promise"
 * import * as Task from "@multiproc/runtime/Task"
 * export const square = Task.make(import.meta, (x: number) => x * x, { name: "square" })
 * if (import.meta.main) {
 *   const ctx = getContext("process")
 *   await using pool = new ctx.Pool({ processes: 2 })
 *   console.log(await pool.map(square, [1, 2, 3])) // [1, 4, 9], computed in child processes
 * }
 * ```
 * @category context
 * @since 0.1.0
 */
export class Context {
  /** The start method this context's workers use. */
  readonly method: Proc.Backend
  /** Python's `ctx.Process`: `new ctx.Process({ target, args })`, or `class P extends ctx.Process`
   * (export it, and make the context at the module's top level, as the child imports it). */
  readonly Process: typeof Process
  /** Python's `ctx.Pool(processes)`: `new ctx.Pool({ processes })`. */
  readonly Pool: typeof Pool
  /** Python's `ctx.Manager()`: `await ctx.Manager.start()`. */
  readonly Manager: ContextManager
  readonly Queue = Queue
  readonly SimpleQueue = SimpleQueue
  readonly JoinableQueue = JoinableQueue
  readonly Pipe = Pipe
  readonly Lock = Lock
  readonly RLock = RLock
  readonly Semaphore = Semaphore
  readonly BoundedSemaphore = BoundedSemaphore
  readonly Condition = Condition
  readonly Event = Event
  readonly Barrier = Barrier
  readonly Value = Value
  readonly Array = SharedArray
  readonly RawValue = RawValue
  readonly RawArray = RawArray
  readonly ProcessError = Proc.ProcessError
  readonly activeChildren = activeChildren
  readonly currentProcess = currentProcess
  readonly parentProcess = parentProcess
  readonly cpuCount = cpuCount
  readonly getLogger = Logging.getLogger
  readonly logToStderr = Logging.logToStderr
  readonly getAllStartMethods = Proc.getAllStartMethods
  readonly freezeSupport = freezeSupport
  readonly BufferTooShort = BufferTooShort
  readonly TimeoutError = TimeoutError
  readonly AuthenticationError = AuthenticationError
  /** Python's `ctx.get_context(method)`: another method's context; this one without a method. */
  readonly getContext = (method?: Proc.Backend | null): Context => method == null ? this : getContext(method)
  constructor(method: Proc.Backend) {
    this.method = method
    this.Process = processClass(method)
    this.Pool = poolClass(method)
    this.Manager = {
      start: (options: M.Options = {}) => Manager.start({ ...options, backend: options.backend ?? method }),
      connect: (address, options) => Manager.connect(address, options)
    }
  }
  /** Python's `ctx.get_start_method()`: this context's method. */
  getStartMethod(): Proc.Backend {
    return this.method
  }
  /** Python's `ctx.set_start_method()` of a context of one method: throws `ProcessError`
   * `BadStartMethod` ("cannot set start method of concrete context", Python's ValueError); the
   * module's `setStartMethod` sets the default. */
  setStartMethod(_method: Proc.Backend | undefined, _options?: { readonly force?: boolean }): never {
    throw new Proc.ProcessError({ reason: "BadStartMethod", message: "cannot set start method of concrete context", name: currentProcess().name })
  }
  toString(): string {
    return `<Context ${this.method}>`
  }
}

/** One context per method, as Python's `_concrete_contexts`: `getContext(m) === getContext(m)`,
 * so `ctx.Process` is one class. */
const contexts = new Map<Proc.Backend, Context>()

/**
 * The context of a start method (`"thread"` or `"process"`); without one, the default start
 * method's, fixing it as `getStartMethod()` does (a later `setStartMethod` needs `force`). Any
 * other name, Python's `"spawn"` / `"fork"` / `"forkserver"` included, throws `ProcessError`
 * `BadStartMethod` ("cannot find context for 'spawn'"), as `setStartMethod` does.
 *
 * Python equivalent: `multiprocessing.get_context(method=None)`.
 *
 * @example
 * ```ts
 * import { getContext } from "@multiproc/primitives/promise"
 * import * as Task from "@multiproc/runtime/Task"
 * export const square = Task.make(import.meta, (x: number) => x * x, { name: "square" })
 * if (import.meta.main) {
 *   const ctx = getContext("process")
 *   const p = new ctx.Process({ target: square, args: [7] })
 *   await p.start()
 *   console.log(await p.result(), ctx.getStartMethod()) // 49 "process"
 * }
 * ```
 * @category context
 * @since 0.1.0
 */
export const getContext = (method?: Proc.Backend): Context => {
  const m = method ?? Proc.getStartMethod()!
  if (!Proc.getAllStartMethods().includes(m)) {
    throw new Proc.ProcessError({ reason: "BadStartMethod", message: `cannot find context for '${String(m)}'`, name: currentProcess().name })
  }
  let ctx = contexts.get(m)
  if (ctx === undefined) {
    ctx = new Context(m)
    contexts.set(m, ctx)
  }
  return ctx
}
