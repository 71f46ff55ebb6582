/**
 * Queues for async/await code: `Queue`, `SimpleQueue` and `JoinableQueue` as classes over the
 * Effect API (`Queue` module). Instances can be passed to processes and pool tasks as arguments
 * and arrive as instances of the same class.
 *
 * Python equivalent: `multiprocessing.Queue`, `SimpleQueue`, `JoinableQueue`.
 *
 * @since 0.1.0
 */
import { registerCustom } from "@multiproc/runtime/internal/codec"
import type * as Effect from "effect/Effect"
import * as Scope from "effect/Scope"
import { run, runSync, scope } from "../internal/facade.ts"
import * as Q from "../Queue.ts"

const makeIn = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>): A => runSync(Scope.provide(scope())(effect))

const impl = (q: Q.AnyQueue<any>): Q.QueueImpl<unknown> => q as unknown as Q.QueueImpl<unknown>

// Operations that need not wait complete without running an Effect (the hot path of a loop of
// `await q.put(x)` / `await q.get()`); the others run the Effect API.
const putNow = (queue: Q.AnyQueue<any>, item: unknown, options: Q.BlockOptions | undefined): Promise<void> => {
  const bad = Q.badBlockOptions(options)
  if (bad !== undefined) return Promise.reject(bad)
  const r = Q.tryPut(impl(queue), item, options)
  if (r === undefined) return Promise.resolve()
  return r instanceof Q.Failed ? Promise.reject(r.error) : run(r)
}

const putManyNow = (queue: Q.AnyQueue<any>, items: Iterable<unknown>, options: Q.BlockOptions | undefined): Promise<void> => {
  const bad = Q.badPutMany(items, options)
  if (bad !== undefined) return Promise.reject(bad)
  const r = Q.tryPutMany(impl(queue), items, options)
  if (r === undefined) return Promise.resolve()
  return r instanceof Q.Failed ? Promise.reject(r.error) : run(r)
}

const getNow = <A>(queue: Q.AnyQueue<A>, options: Q.BlockOptions | undefined): Promise<A> => {
  const bad = Q.badBlockOptions(options)
  if (bad !== undefined) return Promise.reject(bad)
  const q = impl(queue)
  const r = Q.tryGet(q, options)
  if (r === Q.WAIT) return run(Q.waitGet(q, options))
  return r instanceof Q.Failed ? Promise.reject(r.error) : Promise.resolve(r as A)
}

const getManyNow = <A>(queue: Q.AnyQueue<A>, max: number, options: Q.BlockOptions | undefined): Promise<Array<A>> => {
  const bad = Q.badGetMany(max, options)
  if (bad !== undefined) return Promise.reject(bad)
  const q = impl(queue)
  const n = Math.max(1, Math.floor(max) || 1)
  const r = Q.tryGetMany(q, n, options)
  if (r === Q.WAIT) return run(Q.waitGet(q, options, n))
  return r instanceof Q.Failed ? Promise.reject(r.error) : Promise.resolve(r as Array<A>)
}

/** Options of `put` / `get`. */
export type BlockOptions = Q.BlockOptions

/**
 * A FIFO queue shared by processes.
 *
 * Python equivalent: `multiprocessing.Queue(maxsize)`.
 *
 * @example
 * ```ts
 * import { Queue } from "@multiproc/primitives/promise"
 * const q = new Queue<number>({ maxsize: 2 })
 * await q.put(1)
 * console.log(await q.get()) // 1
 * ```
 * @category models
 * @since 0.1.0
 */
export class Queue<A = unknown> {
  /** The Effect-API handle. */
  readonly queue: Q.Queue<A>
  constructor(options: Q.MakeOptions<A> | number | Q.Queue<A> = {}) {
    this.queue = Q.isQueue(options) ? options as Q.Queue<A> : makeIn(Q.make<A>(options as Q.MakeOptions<A> | number))
  }
  get maxsize(): number {
    return this.queue.maxsize
  }
  /** Python's `put(obj, block=True, timeout=None)`. */
  put(item: A, options?: BlockOptions): Promise<void> {
    return putNow(this.queue, item, options)
  }
  /** Puts several items in order (see the Effect API's `putMany`); no Python equivalent. */
  putMany(items: Iterable<A>, options?: BlockOptions): Promise<void> {
    return putManyNow(this.queue, items, options)
  }
  /** Python's `put_nowait(obj)`. */
  putNowait(item: A): Promise<void> {
    return putNow(this.queue, item, { block: false })
  }
  /** Python's `get(block=True, timeout=None)`. */
  get(options?: BlockOptions): Promise<A> {
    return getNow(this.queue, options)
  }
  /** Takes up to `max` items, waiting for the first (see the Effect API's `getMany`); no Python equivalent. */
  getMany(max: number, options?: BlockOptions): Promise<Array<A>> {
    return getManyNow(this.queue, max, options)
  }
  /** Python's `get_nowait()`. */
  getNowait(): Promise<A> {
    return getNow(this.queue, { block: false })
  }
  /** Python's `qsize()` (exact). */
  qsize(): Promise<number> {
    return run(Q.qsize(this.queue))
  }
  /** Python's `empty()` (exact). */
  empty(): Promise<boolean> {
    return run(Q.empty(this.queue))
  }
  /** Python's `full()` (exact). */
  full(): Promise<boolean> {
    return run(Q.full(this.queue))
  }
  /** Python's `close()`: this handle puts and gets no more. */
  close(): void {
    runSync(Q.close(this.queue))
  }
  /** Python's `join_thread()`. */
  joinThread(): Promise<void> {
    return run(Q.joinThread(this.queue))
  }
  /** Python's `cancel_join_thread()`. */
  cancelJoinThread(): void {
    runSync(Q.cancelJoinThread(this.queue))
  }
  /** Iterates until the sentinel arrives or the handle is closed: Python's `iter(q.get, sentinel)`. */
  iterate(options?: Q.StreamOptions): AsyncIterable<A> {
    return Q.toAsyncIterable(this.queue, options)
  }
  [Symbol.asyncIterator](): AsyncIterator<A> {
    return Q.toAsyncIterable(this.queue)[Symbol.asyncIterator]()
  }
  [Symbol.dispose](): void {
    this.close()
  }
  toString(): string {
    return String(this.queue)
  }
}

/**
 * A queue whose consumers call `taskDone` per item; `join` waits until all are done.
 *
 * Python equivalent: `multiprocessing.JoinableQueue(maxsize)`.
 *
 * @example
 * ```ts
 * import { JoinableQueue } from "@multiproc/primitives/promise"
 * const q = new JoinableQueue<string>()
 * await q.put("job")
 * await q.get()
 * await q.taskDone()
 * await q.join()
 * ```
 * @category models
 * @since 0.1.0
 */
export class JoinableQueue<A = unknown> extends Queue<A> {
  declare readonly queue: Q.JoinableQueue<A>
  constructor(options: Q.MakeOptions<A> | number | Q.JoinableQueue<A> = {}) {
    super(Q.isQueue(options) ? options : makeIn(Q.makeJoinable<A>(options as Q.MakeOptions<A> | number)))
  }
  /** Python's `task_done()`. */
  taskDone(): Promise<void> {
    return run(Q.taskDone(this.queue))
  }
  /** Python's `join()`. */
  join(): Promise<void> {
    return run(Q.join(this.queue))
  }
}

/**
 * An unbounded queue with `put`, `get`, `empty` and `close`.
 *
 * Python equivalent: `multiprocessing.SimpleQueue()`.
 *
 * @example
 * ```ts
 * import { SimpleQueue } from "@multiproc/primitives/promise"
 * const q = new SimpleQueue<string>()
 * await q.put("hi")
 * console.log(await q.get(), await q.empty()) // "hi" true
 * ```
 * @category models
 * @since 0.1.0
 */
export class SimpleQueue<A = unknown> {
  /** The Effect-API handle. */
  readonly queue: Q.SimpleQueue<A>
  constructor(options: Pick<Q.MakeOptions<A>, "schema"> | Q.SimpleQueue<A> = {}) {
    this.queue = Q.isQueue(options) ? options as Q.SimpleQueue<A> : makeIn(Q.makeSimple<A>(options as Q.MakeOptions<A>))
  }
  /** Python's `put(obj)`. */
  put(item: A): Promise<void> {
    return putNow(this.queue, item, undefined)
  }
  /** Python's `get()`. */
  get(): Promise<A> {
    return getNow(this.queue, undefined)
  }
  /** Python's `empty()`. */
  empty(): Promise<boolean> {
    return run(Q.empty(this.queue))
  }
  /** Python's `close()`. */
  close(): void {
    runSync(Q.close(this.queue))
  }
  [Symbol.asyncIterator](): AsyncIterator<A> {
    return Q.toAsyncIterable(this.queue)[Symbol.asyncIterator]()
  }
  [Symbol.dispose](): void {
    this.close()
  }
}

// Facade objects travel as facade objects of the same class.
registerCustom<Queue<unknown>>({ tag: "multiproc/promise/Queue", Class: Queue, encode: (q) => q.queue, decode: (q) => new Queue(q) })
registerCustom<JoinableQueue<unknown>>({ tag: "multiproc/promise/JoinableQueue", Class: JoinableQueue, encode: (q) => q.queue, decode: (q) => new JoinableQueue(q) })
registerCustom<SimpleQueue<unknown>>({ tag: "multiproc/promise/SimpleQueue", Class: SimpleQueue, encode: (q) => q.queue, decode: (q) => new SimpleQueue(q) })

