/**
 * Process for async/await code: the same API as `Process` (Effect), as a class. A thin wrapper:
 * every method runs the Effect API.
 *
 * Python equivalent: `multiprocessing.Process`.
 *
 * @since 0.1.0
 */
import type * as Task from "@multiproc/runtime/Task"
import type * as Duration from "effect/Duration"
import * as P from "../Process.ts"
import { run, runSync } from "../internal/facade.ts"

/**
 * A process running a task in a worker thread or a child process.
 *
 * Python equivalent: `multiprocessing.Process`.
 *
 * @example
 * ```ts
 * import { Process } from "@multiproc/primitives/promise"
 * import { Task } from "@multiproc/runtime"
 * export const doubler = Task.make(import.meta, (n: number) => n * 2, { name: "doubler" })
 * if (import.meta.main) {
 *   const p = new Process({ target: doubler, args: [5] })
 *   await p.start()
 *   await p.join()
 *   console.log(p.exitCode) // 0
 * }
 * ```
 * @category models
 * @since 0.1.0
 */
export class Process<T extends Task.Task<any, any, any> = Task.Task<any, any, any>> {
  /** The Effect-API process this object wraps. */
  readonly process: P.Process<Task.Success<T>, Task.Failure<T>>
  constructor(options: P.Options<T>) {
    this.process = runSync(P.make(options))
  }
  get name(): string {
    return this.process.name
  }
  set name(value: string) {
    this.process.name = value
  }
  get daemon(): boolean {
    return this.process.daemon
  }
  /** As in Python, `pid`, `ident`, `exitCode`, `sentinel` and `isAlive` throw (`Closed`) once
   * the object is closed. */
  get pid(): number | undefined {
    return this.open().pid
  }
  /** Python's `ident`: the same as `pid`. */
  get ident(): number | undefined {
    return this.open().pid
  }
  get exitCode(): number | undefined {
    return this.open().exitCode
  }
  /** Python's `authkey` (hex): the process tree's key, inherited by the child. */
  get authkey(): string {
    return this.process.authkey
  }
  /** Python's `sentinel`: pass it to `wait` to wait for the end of this process. */
  get sentinel(): P.Process<Task.Success<T>, Task.Failure<T>> {
    return this.open()
  }
  /** Python's `is_alive()`. */
  isAlive(): boolean {
    return runSync(P.isAlive(this.process))
  }
  private open(): P.Process<Task.Success<T>, Task.Failure<T>> {
    runSync(P.isAlive(this.process))
    return this.process
  }
  /** Python's `start()`; resolves once the worker exists. */
  start(): Promise<void> {
    return run(P.start(this.process))
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
    return String(this.process)
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
 * Python's `active_children()`.
 *
 * @example
 * ```ts
 * import { activeChildren } from "@multiproc/primitives/promise"
 * const live = activeChildren()
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const activeChildren = (): ReadonlyArray<P.Process<any, any>> => runSync(P.activeChildren())

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
