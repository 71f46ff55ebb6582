/**
 * Pool for async/await code: the same API as `Pool` (Effect), as a class. A thin wrapper: every
 * method runs the Effect API; `imap` / `imapUnordered` are async iterables.
 *
 * Python equivalent: `multiprocessing.Pool`.
 *
 * @since 0.1.0
 */
import type * as Codec from "@multiproc/runtime/Codec"
import type * as Task from "@multiproc/runtime/Task"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { runSync, scope, squash } from "../internal/facade.ts"
import * as P from "../Pool.ts"

type AnyTask = Task.Task<any, any, any>

/**
 * The result of `applyAsync` / `mapAsync` / `starmapAsync`.
 *
 * Python equivalent: `multiprocessing.pool.AsyncResult`.
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives/promise"
 * import * as Task from "@multiproc/runtime/Task"
 * export const square = Task.make(import.meta, (x: number) => x * x, { name: "square" })
 * if (import.meta.main) {
 *   await using pool = new Pool({ processes: 2 })
 *   const r = pool.applyAsync(square, [7])
 *   console.log(await r.get(1000)) // 49
 * }
 * ```
 * @category models
 * @since 0.1.0
 */
export class AsyncResult<A> {
  /** The Effect-API result this object wraps. */
  readonly result: P.AsyncResult<A, any>
  constructor(result: P.AsyncResult<A, any>) {
    this.result = result
  }
  /** The value (rejects with the task's error); with a timeout, a `PoolError` "Timeout" after it. */
  get(timeout?: Duration.Input): Promise<A> {
    if (timeout === undefined) {
      return new Promise<A>((resolve, reject) => {
        this.result.listen((exit) => Exit.isSuccess(exit) ? resolve(exit.value) : reject(squash(exit.cause)))
      })
    }
    return Effect.runPromiseExit(this.result.get(timeout)).then((exit) =>
      Exit.isSuccess(exit) ? exit.value : Promise.reject(squash(exit.cause))
    )
  }
  /** Resolves once settled or after the timeout; never rejects. */
  wait(timeout?: Duration.Input): Promise<void> {
    return Effect.runPromise(this.result.wait(timeout))
  }
  /** Python's `ready()`. */
  ready(): boolean {
    return this.result.ready()
  }
  /** Python's `successful()`; throws `PoolError` "NotReady" before the result is ready. */
  successful(): boolean {
    return runSync(this.result.successful())
  }
}

/** Options of {@link Pool.applyAsync}. */
export type ApplyOptions<A> = P.ApplyOptions<A>

const iterate = <A>(stream: Stream.Stream<A, unknown>): AsyncIterableIterator<A> => {
  const it = Stream.toAsyncIterable(stream)[Symbol.asyncIterator]()
  const self: AsyncIterableIterator<A> = {
    next: () => it.next(),
    return: (value?: any) => it.return ? it.return(value) : Promise.resolve({ done: true, value }),
    [Symbol.asyncIterator]: () => self
  }
  return self
}

/**
 * A pool of worker threads or processes.
 *
 * Python equivalent: `multiprocessing.Pool`. `await using` closes and joins it on scope exit
 * (Python's `with` terminates); call `terminate()` first to stop at once.
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives/promise"
 * import * as Task from "@multiproc/runtime/Task"
 * export const square = Task.make(import.meta, (x: number) => x * x, { name: "square" })
 * if (import.meta.main) {
 *   await using pool = new Pool({ processes: 2 })
 *   console.log(await pool.map(square, [1, 2, 3])) // [1, 4, 9]
 *   for await (const y of pool.imap(square, [4, 5])) console.log(y)
 * }
 * ```
 * @category models
 * @since 0.1.0
 */
export class Pool {
  /** The Effect-API pool this object wraps. */
  readonly pool: P.Pool
  private readonly scope: Scope.Closeable
  constructor(options: P.Options | number = {}) {
    // A child of the facade's process-wide Scope: a pool still open when the program ends is
    // closed and joined then (Python terminates it at exit; its idle workers exit either way, and
    // this way what they printed is flushed first).
    this.scope = Scope.forkUnsafe(scope(), "sequential")
    this.pool = runSync(Scope.provide(this.scope)(P.make(options)))
  }
  get processes(): number {
    return this.pool.processes
  }
  /** `running`, `closed` or `terminated`. */
  get state(): "running" | "closed" | "terminated" {
    return this.pool.state
  }
  /** Python's repr: `<Pool state=RUN pool_size=4>` (`CLOSE`, `TERMINATE`). */
  toString(): string {
    return String(this.pool)
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString()
  }
  private run<A, E>(effect: Effect.Effect<A, E>): Promise<A> {
    return Effect.runPromiseExit(effect).then((exit) => Exit.isSuccess(exit) ? exit.value : Promise.reject(squash(exit.cause)))
  }
  /** Python's `apply(func, args)`. */
  apply<T extends AnyTask>(task: T, ...[args]: P.ArgsThen<T, never>): Promise<Task.Success<T>> {
    return new Promise((resolve, reject) => {
      try {
        P.applyUnsafe(this.pool, task, args as Task.Args<T> | undefined, (exit) => Exit.isSuccess(exit) ? resolve(exit.value) : reject(squash(exit.cause)))
      } catch (e) {
        reject(e)
      }
    })
  }
  /** Python's `apply_async(func, args, callback=, error_callback=)`; throws `PoolError` (`Closed`,
   * …) at once when the pool takes no more tasks, as Python raises "Pool not running". */
  applyAsync<T extends AnyTask>(task: T, ...rest: P.ArgsThen<T, ApplyOptions<Task.Success<T>>>): AsyncResult<Task.Success<T>> {
    return new AsyncResult(P.applyAsyncUnsafe(this.pool, task, ...rest))
  }
  /** Python's `map(func, iterable, chunksize)`. */
  map<T extends Task.Task<[any], any, any>>(task: T, iterable: Iterable<Task.Args<T>[0]>, options: P.MapOptions = {}): Promise<Array<Task.Success<T>>> {
    return this.run(P.map(this.pool, task, iterable, options))
  }
  /** Python's `starmap(func, iterable, chunksize)`. */
  starmap<T extends AnyTask>(task: T, iterable: Iterable<Task.Args<T>>, options: P.MapOptions = {}): Promise<Array<Task.Success<T>>> {
    return this.run(P.starmap(this.pool, task, iterable, options))
  }
  /** Python's `map_async(func, iterable, chunksize, callback, error_callback)`; throws as `applyAsync` does. */
  mapAsync<T extends Task.Task<[any], any, any>>(
    task: T,
    iterable: Iterable<Task.Args<T>[0]>,
    options: P.MapOptions & P.Callbacks<Array<Task.Success<T>>> = {}
  ): AsyncResult<Array<Task.Success<T>>> {
    return new AsyncResult(P.mapAsyncUnsafe(this.pool, task, 0, iterable, options))
  }
  /** Python's `starmap_async(func, iterable, chunksize, callback, error_callback)`; throws as `applyAsync` does. */
  starmapAsync<T extends AnyTask>(
    task: T,
    iterable: Iterable<Task.Args<T>>,
    options: P.MapOptions & P.Callbacks<Array<Task.Success<T>>> = {}
  ): AsyncResult<Array<Task.Success<T>>> {
    return new AsyncResult(P.mapAsyncUnsafe(this.pool, task, 1, iterable, options))
  }
  /** Python's `imap(func, iterable, chunksize)`: an async iterable; `break` cancels the rest.
   * Submitted at the call, as Python's: it throws as `applyAsync` does when the pool takes no more
   * tasks, and a later `close()` still runs all of its input. */
  imap<T extends Task.Task<[any], any, any>>(
    task: T,
    iterable: Iterable<Task.Args<T>[0]> | AsyncIterable<Task.Args<T>[0]>,
    options: P.ImapOptions = {}
  ): AsyncIterableIterator<Task.Success<T>> {
    return iterate(P.imapUnsafe(this.pool, task, iterable, options, true) as Stream.Stream<Task.Success<T>, unknown>)
  }
  /** Python's `imap_unordered(func, iterable, chunksize)`; throws as `imap` does. */
  imapUnordered<T extends Task.Task<[any], any, any>>(
    task: T,
    iterable: Iterable<Task.Args<T>[0]> | AsyncIterable<Task.Args<T>[0]>,
    options: P.ImapOptions = {}
  ): AsyncIterableIterator<Task.Success<T>> {
    return iterate(P.imapUnsafe(this.pool, task, iterable, options, false) as Stream.Stream<Task.Success<T>, unknown>)
  }
  /** Python's `close()`. */
  close(): void {
    runSync(P.close(this.pool))
  }
  /** Python's `terminate()`; resolves once the workers are gone. */
  async terminate(): Promise<void> {
    runSync(P.terminate(this.pool))
    await this.run(P.join(this.pool))
  }
  /** Python's `join()` (after `close()` or `terminate()`). */
  join(): Promise<void> {
    return this.run(P.join(this.pool))
  }
  /** Counters and time distributions. */
  stats(): P.Stats {
    return P.statsUnsafe(this.pool)
  }
  /** `await using`: closes and joins (drains queued work), then releases the pool. */
  async [Symbol.asyncDispose](): Promise<void> {
    await Effect.runPromise(Scope.close(this.scope, Exit.void))
  }
}

/** The error of a pool. */
export { PoolError } from "../Pool.ts"
/** Re-exported for `catch` clauses. */
export type SerializationError = Codec.SerializationError
