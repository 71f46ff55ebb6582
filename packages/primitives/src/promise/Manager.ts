/**
 * Manager for async/await code: the same API as `Manager` (Effect), as a class whose proxies
 * return promises. A thin wrapper: every call runs the Effect API.
 *
 * Python equivalent: `multiprocessing.Manager()`.
 *
 * @since 0.1.0
 */
import * as Task from "@multiproc/runtime/Task"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type { Address } from "../Connection.ts"
import { run, scope as facadeScope } from "../internal/facade.ts"
import * as M from "../Manager.ts"

/** A proxy whose Effect-returning methods return promises instead; list, dict (its keys) and
 * iterator proxies are async iterables. Wherever a method takes a proxy (`l.extend(other)`,
 * `d.update(other)`, `d.set(k, proxy)`), it takes the promisified one too, as it does at run time
 * (it crosses as the proxy it wraps). Methods compare as the Effect proxy's do (parameters
 * bivariantly), so a `Promisified<DictProxy<string, number>>` is a `Promisified<DictProxy<string,
 * unknown>>` as the Effect proxies are. */
export type Promisified<P> =
  & {
    readonly [K in keyof P]: P[K] extends (...args: infer A) => Effect.Effect<infer R, any, any>
      ? { method(...args: OrPromisifiedArgs<A>): Promise<R> }["method"]
      : P[K]
  }
  & (P extends M.ListProxy<infer A> ? AsyncIterable<A> : P extends M.DictProxy<infer K, any> ? AsyncIterable<K> : P extends M.IteratorProxy<infer A> ? AsyncIterable<A> : unknown)
  & (P extends M.PoolProxy ? AsyncDisposable : unknown)

/** Each argument's type, where it admits a proxy, admits its promisified form too. */
type OrPromisifiedArgs<A extends ReadonlyArray<unknown>> = { [I in keyof A]: A[I] | PromisifiedProxy<A[I]> }

/** The promisified form of each proxy type in the union `T` (never for the rest). */
type PromisifiedProxy<T> = T extends M.BaseProxy ? Promisified<T> : never

const wrapped = new WeakMap<object, object>()

/** `for await (const x of proxy)`: Python's `for x in proxy`, one request per item. */
async function* iterate(proxy: M.ListProxy | M.DictProxy | M.IteratorProxy): AsyncGenerator<unknown> {
  const it = proxy instanceof M.IteratorProxy ? proxy : await run(proxy.iter())
  for (;;) {
    const r = await run(it.next())
    if (r.done) return
    yield promisifyResult(r.value)
  }
}

/** A proxy returned by a call (a nested container) is promisified too, also inside the arrays,
 * Maps and plain objects a call returns (`getvalue()` of a list of lists, a dict's `items()`), as
 * Python's `l[:]` gives proxies that work as such. The result is the caller's own decoded copy, so
 * it is changed in place; a primitive result costs one `typeof`. */
const promisifyResult = (x: unknown): unknown => {
  if (typeof x !== "object" || x === null) return x
  if (x instanceof M.BaseProxy) return promisify(x)
  promisifyInside(x, new Set())
  return x
}

const promisifyInside = (x: object, seen: Set<object>): void => {
  if (seen.has(x)) return
  seen.add(x)
  const one = (v: unknown): unknown => {
    if (typeof v !== "object" || v === null) return v
    if (v instanceof M.BaseProxy) return promisify(v)
    promisifyInside(v, seen)
    return v
  }
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) x[i] = one(x[i])
  } else if (x instanceof Map) {
    // Keys are never proxies (a served dict refuses unhashable keys); values may be.
    for (const [k, v] of x) x.set(k, one(v))
  } else {
    const proto = Object.getPrototypeOf(x)
    if (proto !== Object.prototype && proto !== null) return
    for (const k of Object.keys(x)) (x as Record<string, unknown>)[k] = one((x as Record<string, unknown>)[k])
  }
}

/**
 * Turns an Effect proxy into one whose methods return promises (it still crosses processes: the
 * receiving side gets the Effect proxy, which `promisify` wraps again).
 *
 * @example
 * ```ts
 * import { Manager, promisify } from "@multiproc/primitives/promise"
 * declare const d: import("@multiproc/primitives").Manager.DictProxy<string, number>
 * const p = promisify(d)
 * ```
 * @category proxies
 * @since 0.1.0
 */
export const promisify = <P extends M.BaseProxy>(proxy: P): Promisified<P> => {
  const known = wrapped.get(proxy)
  if (known) return known as Promisified<P>
  // One wrapper per method, made on first use (not one closure per call).
  const methods = new Map<PropertyKey, (...args: Array<unknown>) => unknown>()
  const out = new Proxy(proxy, {
    get(target, key, receiver) {
      if (key === Symbol.asyncIterator && (target instanceof M.ListProxy || target instanceof M.DictProxy || target instanceof M.IteratorProxy)) {
        return () => iterate(target)
      }
      // `await using pool = await manager.Pool()`: Python's `with manager.Pool() as pool:`, whose
      // exit terminates the served pool.
      if (key === Symbol.asyncDispose && target instanceof M.PoolProxy) return () => run(target.terminate())
      const v = Reflect.get(target, key, receiver)
      if (typeof v !== "function" || key === "constructor" || key === "toString") return v
      let method = methods.get(key)
      if (method === undefined || (method as any).of !== v) {
        method = function(...args: Array<unknown>) {
          const r = v.apply(target, args)
          return Effect.isEffect(r) ? run(r as Effect.Effect<unknown, unknown>, promisifyResult) : r
        }
        ;(method as any).of = v
        methods.set(key, method)
      }
      return method
    }
  })
  wrapped.set(proxy, out)
  return out as unknown as Promisified<P>
}

/**
 * A manager server in its own worker; `await using` (or `shutdown()`) stops it.
 *
 * Python equivalent: `multiprocessing.Manager()` / `BaseManager`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives/promise"
 * await using manager = await Manager.start()
 * const d = await manager.dict<string, number>()
 * await d.set("a", 1)
 * ```
 * @category models
 * @since 0.1.0
 */
export class Manager {
  /** The Effect-API manager this object wraps. */
  readonly manager: M.Manager
  private readonly scope: Scope.Closeable
  private constructor(manager: M.Manager, scope: Scope.Closeable) {
    this.manager = manager
    this.scope = scope
  }
  /** Python's `Manager()` / `BaseManager(...).start()`; one not shut down is shut down at exit, as in Python. */
  static async start(options: M.Options = {}): Promise<Manager> {
    const scope = Scope.forkUnsafe(facadeScope(), "sequential")
    const m = await run(Scope.provide(scope)(M.make(options))).catch(async (e) => {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      throw e
    })
    return new Manager(m, scope)
  }
  /** Python's `BaseManager(address, authkey).connect()`. */
  static async connect(address: Address, options: M.ConnectOptions = {}): Promise<Manager> {
    const scope = Scope.forkUnsafe(facadeScope(), "sequential")
    const m = await run(Scope.provide(scope)(M.connect(address, options))).catch(async (e) => {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      throw e
    })
    return new Manager(m, scope)
  }
  get address(): Address | undefined {
    return this.manager.address
  }
  dict<K = unknown, V = unknown>(init?: Map<K, V> | Iterable<readonly [K, V]> | Record<string, V>) {
    return run(M.dict<K, V>(this.manager, init)).then(promisify)
  }
  list<A = unknown>(init?: Iterable<A>) {
    return run(M.list<A>(this.manager, init)).then(promisify)
  }
  Namespace(init?: Record<string, unknown>) {
    return run(M.namespace(this.manager, init)).then(promisify)
  }
  Value<T extends Parameters<typeof M.value>[1]>(typecode: T, initial?: unknown) {
    return run(M.value(this.manager, typecode, initial as any)).then(promisify)
  }
  Array<T extends Parameters<typeof M.array>[1]>(typecode: T, sizeOrInit: number | Iterable<any>) {
    return run(M.array(this.manager, typecode, sizeOrInit)).then(promisify)
  }
  Lock() {
    return run(M.lock(this.manager)).then(promisify)
  }
  RLock() {
    return run(M.rlock(this.manager)).then(promisify)
  }
  Semaphore(value = 1) {
    return run(M.semaphore(this.manager, value)).then(promisify)
  }
  BoundedSemaphore(value = 1) {
    return run(M.boundedSemaphore(this.manager, value)).then(promisify)
  }
  /** Python's `Condition(lock=None)`: over the given Lock / RLock proxy of this manager, or its own RLock. */
  Condition(lock?: M.LockProxy | Promisified<M.LockProxy>) {
    return run(M.condition(this.manager, lock as M.LockProxy | undefined)).then(promisify)
  }
  Event() {
    return run(M.event(this.manager)).then(promisify)
  }
  /** Python's `Barrier(parties, action=None, timeout=None)`: `action` is a Task run in the
   * manager's process once per pass (either argument order after `parties`). */
  Barrier(parties: number, timeout?: Duration.Input): Promise<Promisified<M.BarrierProxy>>
  Barrier(parties: number, action: Task.Task<[], unknown, unknown>, timeout?: Duration.Input): Promise<Promisified<M.BarrierProxy>>
  Barrier(parties: number, second?: Duration.Input | Task.Task<[], unknown, unknown>, third?: Duration.Input) {
    const action = Task.isTask(second) ? second : undefined
    const timeout = action === undefined ? second as Duration.Input | undefined : third
    return run(M.barrier(this.manager, parties, timeout, action)).then(promisify)
  }
  Queue<A = unknown>(maxsize = 0) {
    return run(M.queue<A>(this.manager, maxsize)).then(promisify)
  }
  JoinableQueue<A = unknown>(maxsize = 0) {
    return run(M.joinableQueue<A>(this.manager, maxsize)).then(promisify)
  }
  /** Python's `manager.Pool(processes)`: a pool owned by the manager's process (`manager.Pool(2)`
   * or `manager.Pool({ processes: 2 })`). */
  Pool(options: M.PoolProxyOptions | number = {}) {
    return run(M.pool(this.manager, options)).then(promisify)
  }
  /** A served object of a registered custom type. */
  create<T = any>(typeid: string, ...args: ReadonlyArray<unknown>) {
    return run(M.create<T>(this.manager, typeid, ...args)).then(promisify)
  }
  /** Python's `shutdown()`: stops the server (and its worker). Idempotent. */
  shutdown(): Promise<void> {
    return Effect.runPromise(Scope.close(this.scope, Exit.void))
  }
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown()
  }
}
