/**
 * Manager: a server in its own process holding shared objects (dict, list, Namespace, Value,
 * Array, locks, queues and your own registered types) that every process reaches through proxies.
 *
 * - A manager's server is an actor host in its own worker (thread or process); every single call
 *   on a proxy is one request, executed atomically on the server. Proxies are plain data: they
 *   cross to any process of the tree (as task arguments, inside queues, inside other managed
 *   objects) and stay live there. A proxy stored inside a managed dict or list is a reference, so
 *   writes through it are seen by everyone (nested proxies propagate both ways).
 * - A served object lives as long as a proxy of it does somewhere (Python's proxy refcounting):
 *   when the last proxy of it in every process has been garbage-collected, and no served
 *   container holds one, the server frees it; a proxy on its way to another process keeps it alive
 *   until it arrives. `drop()` frees it at once.
 * - Registered types expose only the methods you list; calling another one is a typed
 *   `NotExposed` error, an exception thrown by the served object arrives as `RemoteError` with its
 *   original type and message, and a method returning a generator gives an iterator proxy (so
 *   does a type whose factory is a generator function, Python's `proxytype=IteratorProxy`).
 * - A child process's proxies talk to the manager over a Unix socket of their own (opened on first
 *   use, authenticated with the process tree's key), as Python's proxies do, not through the
 *   parent; threads use the process tree's links.
 * - A manager can also listen on TCP (`address` + `authkey`): other programs `connect` with the
 *   key (mutual HMAC handshake) and use the same proxies.
 * - Better than Python: a Lock or RLock (a Condition's too) held by a process that dies is
 *   released, where Python's stays locked for ever (its test_lock then releases it from the
 *   parent, which here fails with RuntimeError); a semaphore's permits are not given back, as in
 *   Python, since any process may release them. Blocking calls are interruptible; the manager is
 *   scoped (it cannot outlive its Scope).
 *
 * Python equivalent: `multiprocessing.Manager()`, `multiprocessing.managers.BaseManager`.
 *
 * @since 0.1.0
 */
import { Actor, Child, Codec } from "@multiproc/runtime"
import { MeasuredPath, REPLY_POLL_MS, stayAwakeWhile } from "@multiproc/runtime/internal/awake"
import * as kernel from "@multiproc/runtime/internal/kernel"
import * as Task from "@multiproc/runtime/Task"
import type { PoolOptions } from "./internal/manager-types.ts"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { type Address, keyOf } from "./Connection.ts"
import {
  ManagerError,
  ProxyRef,
  registerProxyClass,
  type Request,
  type Route,
  setRefSender,
  type ServerInfo,
  treeId
} from "./internal/manager-common.ts"
import { backendProblem } from "./internal/args.ts"
import { serveManager, type TypeConfig } from "./internal/manager-server.ts"
import * as Direct from "./internal/direct.ts"
import * as wire from "./internal/wire.ts"
import { adoptUnsafe, resolveBackend } from "./Process.ts"
import * as tc from "./internal/typecodes.ts"

export { ManagerError } from "./internal/manager-common.ts"
export type { TypeConfig } from "./internal/manager-server.ts"

// ---- transports -------------------------------------------------------------------------------

interface Transport {
  /** `batchable`: a call that the server answers synchronously (built-in containers), which may
   * travel with the other such calls of the same tick in one request. */
  /** `proxy`: kept reachable until the reply, so that the garbage collector cannot release the
   * served object in the middle of a call to it (Python's proxy lives through its call too). */
  readonly request: (message: Request, batchable?: boolean, proxy?: object) => Effect.Effect<unknown, ManagerError>
  /** Sends a request whose answer nobody awaits (reference counting), in order with the others. */
  readonly post: (message: Request) => void
}

/** Types whose every method the server answers at once: their calls can be batched. */
const syncTypes = new Set(["dict", "list", "Namespace", "Value", "Array"])

const mapAskError = (e: unknown): ManagerError => {
  if (e instanceof ManagerError) return e
  const tag = (e as any)?._tag
  if (tag === "ActorError") {
    const reason = (e as Actor.ActorError).reason
    return new ManagerError({
      reason: reason === "BadMessage" ? "BadRequest" : "ServerGone",
      message: reason === "BadMessage" ? (e as Error).message : `the manager's process is gone (${(e as Error).message})`,
      cause: e
    })
  }
  if (tag === "SerializationError") return new ManagerError({ reason: "BadRequest", message: (e as Error).message, cause: e })
  return new ManagerError({ reason: "RemoteError", message: String((e as Error)?.message ?? e), remoteType: (e as Error)?.name ?? "Error", cause: e })
}

/** Counts requests in flight (the manager's worker is ref'd only while there are some). */
interface Busy {
  readonly enter: () => void
  readonly leave: () => void
}

/** Calls per batch request at most (see `actorTransport`). */
const BATCH_CHUNK = 256

type CallRequest = Extract<Request, { op: "call" }>

/** One request of a proxy: queued for a batch (calls only) or sent on its own. */
class PendingCall {
  readonly message: Request
  readonly resume: (effect: Effect.Effect<unknown, ManagerError>) => void
  readonly busy: Busy | undefined
  /** The calling proxy, held until the reply (see `Transport.request`). */
  readonly proxy: object | undefined
  /** The fiber waiting, for a queued call (none for the async/await facade's calls). */
  readonly fiber: Fiber.Fiber<unknown, unknown> | undefined
  done = false
  constructor(
    message: Request,
    resume: (effect: Effect.Effect<unknown, ManagerError>) => void,
    busy: Busy | undefined,
    proxy: object | undefined,
    fiber?: Fiber.Fiber<unknown, unknown>
  ) {
    this.message = message
    this.resume = resume
    this.busy = busy
    this.proxy = proxy
    this.fiber = fiber
    busy?.enter()
  }
  /** A queued call whose fiber ended (it was interrupted: nothing else ends a waiting fiber)
   * is left out of the batch. */
  abandoned(): boolean {
    return this.fiber !== undefined && this.fiber.pollUnsafe() !== undefined && this.abandon()
  }
  finish(ok: boolean, value: unknown): void {
    if (this.done) return
    this.done = true
    this.busy?.leave()
    this.resume(ok ? (value === undefined ? Effect.void : Effect.succeed(value)) : Effect.fail(mapAskError(value)))
  }
  /** Whether the request was still open (and is now abandoned). */
  abandon(): boolean {
    if (this.done) return false
    this.done = true
    this.busy?.leave()
    return true
  }
}

/** Sends one request; `onReply` runs once (synchronously if the request cannot be encoded).
 * Returns the canceller. */
type Ask = (message: Request, onReply: (ok: boolean, value: unknown) => void) => () => void

/** An `Ask` that can have the request poll for its reply (`awake`, see `Actor.askUnsafe`). */
type PollingAsk = (message: Request, onReply: (ok: boolean, value: unknown) => void, awake: boolean) => () => void

/** Whether each request polls is measured per connection (`MeasuredPath`). */
const measuredAsk = (ask: PollingAsk): Ask => {
  const path = new MeasuredPath()
  return (message, onReply) => path.request((awake, reply) => ask(message, reply, awake), onReply)
}

/** Requests to a manager of this process tree, as actor asks (routed along the tree). */
const actorTransport = (ref: Actor.ActorRef<unknown>, busy?: Busy): Transport =>
  batchingTransport((message, onReply) => Actor.askUnsafe(ref, message, onReply, undefined, "measure"), () => Actor.flush(ref), busy)

/**
 * Requests over an authenticated socket: `[id, request]` out, `[id, status, value]` back,
 * `[-1, id]` cancels (status 2 comes back once the server has withdrawn the request, so the
 * entry can be forgotten). A reply that crosses its cancel is handed back (`[-2, id, request, value]`), so the server takes back what it gave
 * (a queue item, a lock), as `Actor.ask` does. `holdIdle: false`: the socket keeps the event loop
 * alive only while requests are out (a child's own connection to a manager must not keep it from
 * exiting).
 */
const socketAsk = (socket: wire.FrameSocket, holdIdle: boolean): PollingAsk => {
  let nextId = 0
  const pending = new Map<number, (ok: boolean, value: unknown) => void>()
  /** Cancelled requests whose fate the server has not told yet. */
  const cancelled = new Map<number, Request>()
  const hold = (on: boolean) => {
    if (!holdIdle) on ? socket.socket.ref() : socket.socket.unref()
  }
  hold(false)
  const settle = (id: number, ok: boolean, value: unknown): void => {
    const p = pending.get(id)
    if (p === undefined) return
    pending.delete(id)
    if (pending.size === 0) hold(false)
    p(ok, value)
  }
  const loop = (): void => {
    socket.recvCallback((frame) => {
      let m: unknown
      try {
        m = Codec.decodeUnsafe(frame)
      } catch {
        m = undefined
      }
      if (Array.isArray(m) && typeof m[0] === "number") {
        const message = cancelled.get(m[0])
        if (message === undefined) settle(m[0], m[1] === 0, m[2])
        else {
          cancelled.delete(m[0])
          if (m[1] === 0) {
            try {
              socket.send(Codec.encodeUnsafe([-2, m[0], message, m[2]]))
            } catch {
              // gone: the server releases what this process held anyway
            }
          }
        }
      }
      loop()
    }, (e) => {
      const gone = new ManagerError({ reason: "ServerGone", message: `the connection to the manager was lost (${e.message})` })
      cancelled.clear()
      for (const id of [...pending.keys()]) settle(id, false, gone)
    })
  }
  loop()
  return (message, onReply, awake) => {
    const id = ++nextId
    let bytes: Uint8Array
    try {
      // `[id, request, 1]`: the server stays awake after answering (see `Actor.askUnsafe`).
      bytes = Codec.encodeUnsafe(awake ? [id, message, 1] : [id, message])
    } catch (e) {
      onReply(false, e)
      return () => {}
    }
    if (pending.size === 0) hold(true)
    pending.set(id, onReply)
    try {
      socket.send(bytes)
    } catch (e) {
      settle(id, false, e instanceof wire.WireError ? new ManagerError({ reason: "ServerGone", message: e.message, cause: e }) : e)
      return () => {}
    }
    if (awake) stayAwakeWhile(REPLY_POLL_MS, () => pending.has(id))
    return () => {
      if (!pending.delete(id)) return
      if (pending.size === 0) hold(false)
      cancelled.set(id, message)
      try {
        socket.send(Codec.encodeUnsafe([-1, id]))
      } catch {
        // gone
      }
    }
  }
}

/**
 * Requests to a manager, over either path (`ask`). Pipelining: synchronous calls issued in the
 * same tick (many fibers calling `d.set` at once) are sent as one `batch` request and answered
 * with one reply, so a burst of N calls costs one message each way instead of N; a long burst
 * goes in chunks of {@link BATCH_CHUNK}, written at once (`flushNow`), so the manager works on
 * one while the caller still produces the next. Order is kept: anything else flushes the pending
 * batch before it is sent. Each request is one `Effect.callback` over the callback API: a proxy
 * call costs one suspension, no fibers.
 */
const batchingTransport = (ask: Ask, flushNow: () => void, busy?: Busy): Transport => {
  let queue: Array<PendingCall> = []
  let scheduled = false
  // Batchable requests sent and not answered yet: while there are some, new ones wait for the
  // end of the tick and go together; when there are none, a request goes at once (no latency).
  let inflight = 0
  /** Sends one batchable call by itself; returns its canceller. */
  const sendAlone = (x: PendingCall): () => void => {
    inflight++
    let settled = false
    const cancel = ask(x.message, (ok, value) => {
      settled = true
      inflight--
      x.finish(ok, value)
    })
    return () => {
      if (!settled) {
        settled = true
        inflight--
      }
      cancel()
    }
  }
  const flush = (): void => {
    scheduled = false
    let q = queue
    for (let i = 0; i < q.length; i++) {
      if (q[i]!.abandoned()) {
        q = q.filter((x) => !x.abandoned() && !x.done)
        break
      }
    }
    queue = []
    if (q.length === 0) return
    if (q.length === 1) {
      sendAlone(q[0]!)
      return
    }
    // Runs of calls to the same method of the same object with as many arguments travel as one
    // group: `id, method, argc, count`, then the arguments of each call. Indexed loops: this runs
    // unoptimised in a fresh worker, where `for of` allocates per step. (Appended, not sized: a
    // sized array has holes, which structured clone writes key by key.)
    const calls: Array<unknown> = []
    let at = 0
    let countAt = -1
    let last: CallRequest | undefined
    for (let i = 0; i < q.length; i++) {
      const m = q[i]!.message as CallRequest
      const args = m.args
      if (last !== undefined && m.id === last.id && m.method === last.method && args.length === last.args.length) {
        ;(calls[countAt] as number)++
      } else {
        calls[at++] = m.id
        calls[at++] = m.method
        calls[at++] = args.length
        countAt = at
        calls[at++] = 1
      }
      for (let j = 0; j < args.length; j++) calls[at++] = args[j]
      last = m
    }
    inflight++
    let encoding = true
    let unsendable = false
    ask({ op: "batch", calls }, (ok, value) => {
      if (encoding && !ok && (value as { _tag?: unknown })?._tag === "SerializationError") {
        unsendable = true
        return
      }
      inflight--
      if (!ok) {
        for (let i = 0; i < q.length; i++) q[i]!.finish(false, value)
        return
      }
      if (typeof value === "number") {
        for (let i = 0; i < q.length; i++) q[i]!.finish(true, undefined)
        return
      }
      const results = value as ReadonlyArray<unknown>
      for (let i = 0; i < q.length; i++) q[i]!.finish(results[2 * i] === 0, results[2 * i + 1])
    })
    encoding = false
    if (unsendable) {
      // Some call's arguments cannot cross: each call goes alone, so only that one fails.
      inflight--
      for (const x of q) sendAlone(x)
    }
  }
  return {
    post: (message) => {
      if (queue.length > 0) flush()
      busy?.enter()
      ask(message, () => busy?.leave())
    },
    request: (message, batchable, proxy) =>
      Direct.callback<unknown, ManagerError>((resume) => {
        if (!batchable || message.op !== "call" || (inflight === 0 && queue.length === 0)) {
          const call = new PendingCall(message, resume, busy, proxy)
          if (queue.length > 0) flush()
          const cancel = batchable && message.op === "call" ? sendAlone(call) : ask(message, (ok, value) => call.finish(ok, value))
          return Effect.sync(() => {
            if (call.abandon()) cancel()
          })
        }
        // Queued: no canceller. One per call (with the finalizer Effect keeps for it) was a
        // quarter of what each of 10,000 pipelined calls kept alive, and a fresh worker's young
        // collections copy all of it; `flush` leaves out a call whose fiber has ended instead.
        queue.push(new PendingCall(message, resume, busy, proxy, Direct.isDirect() ? undefined : Fiber.getCurrent()))
        if (queue.length >= BATCH_CHUNK) {
          flush()
          flushNow()
        } else if (!scheduled) {
          scheduled = true
          queueMicrotask(flush)
        }
      })
  }
}

const servers = new Map<string, Transport>()
const tcpSessions = new Map<string, Transport>()
const addressKey = (a: { host: string; port: number }) => `${a.host}:${a.port}`
let myTree: string | undefined

const transportOf = (p: Route): Effect.Effect<Transport, ManagerError> => {
  const known = servers.get(p.serverId)
  if (known) return Effect.succeed(known)
  myTree ??= treeId()
  if (p.tree === myTree) {
    if (kernel.self.backend === "process") return Effect.promise(() => localTransport(p))
    const t = actorTransport(p.actor)
    servers.set(p.serverId, t)
    return Effect.succeed(t)
  }
  if (p.tcp) {
    const t = tcpSessions.get(addressKey(p.tcp))
    if (t) return Effect.succeed(t)
  }
  return Effect.fail(new ManagerError({
    reason: "NotConnected",
    message: p.tcp
      ? `this proxy belongs to the remote manager at ${addressKey(p.tcp)}; call Manager.connect in this process first`
      : "this proxy belongs to a manager of another process tree"
  }))
}

const negotiating = new Map<string, Promise<Transport>>()

/**
 * A child process reaches a manager in another OS process over a socket of its own, as Python's
 * proxies do, not through its parent: the routed path wakes the parent's thread for every request
 * and every reply (four OS wake-ups per call instead of two). Set up once per manager, before the
 * first request goes out (so requests stay in order): the server opens a loopback listener on
 * first demand, and the child authenticates with the tree's key (mutual HMAC). If any of that
 * fails, or the manager lives in this very process, the routed path it is.
 */
const localTransport = (p: Route): Promise<Transport> => {
  const known = negotiating.get(p.serverId)
  if (known) return known
  const settled = new Promise<Transport>((resolve) => {
    const use = (t: Transport) => {
      servers.set(p.serverId, t)
      negotiating.delete(p.serverId)
      resolve(t)
    }
    const routed = () => use(actorTransport(p.actor))
    Actor.askUnsafe(p.actor, { op: "local" }, (ok, value) => {
      const where = value as { readonly pid: number; readonly path: string }
      if (!ok || where.pid === process.pid) return routed()
      wire.connect({
        host: "",
        port: 0,
        path: where.path,
        key: wire.toKey(kernel.self.authkey),
        maxFrame: wire.DEFAULT_MAX_FRAME,
        handshakeTimeoutMs: 10_000
      }).then((socket) => use(batchingTransport(measuredAsk(socketAsk(socket, false)), () => {})), routed)
    })
  })
  negotiating.set(p.serverId, settled)
  return settled
}

/** Managers this process started and shut down: their collected proxies tell nobody. */
const closedServers = new Set<string>()
/** Reference operations waiting for a transport still being set up, per server (kept in order). */
const refChains = new Map<string, Promise<Transport | undefined>>()

// Reference operations (see manager-common) ride the transport the proxies use, after the
// requests already sent, so a process's PINs, HOLDs and DROPs reach the server in order.
setRefSender((route, refs) => {
  if (closedServers.has(route.serverId)) return
  const message: Request = { op: "refs", refs }
  const chain = refChains.get(route.serverId)
  const known = servers.get(route.serverId)
  if (chain === undefined && known !== undefined) return known.post(message)
  const next = (chain ?? Effect.runPromise(Effect.orElseSucceed(transportOf(route), () => undefined))).then((t) => {
    t?.post(message)
    return t
  })
  refChains.set(route.serverId, next)
  void next.then(() => {
    if (refChains.get(route.serverId) === next) refChains.delete(route.serverId)
  })
})

// ---- proxies ----------------------------------------------------------------------------------

/** Values a Python method takes as any iterable (`l.extend(range(3))`, a generator, a Set), as an
 * array: a generator cannot cross to the server. A Map, an array and anything not iterable go as
 * they are (the server answers TypeError for the last). */
const seq = <A>(values: A): A | Array<unknown> =>
  Array.isArray(values) || values instanceof Map || typeof (values as any)?.[Symbol.iterator] !== "function" || typeof values === "string"
    ? values
    : Array.from(values as Iterable<unknown>)

/** What Python iterates when a list, array or dict proxy is given where it takes any iterable
 * (`l.extend(other)`, `d.update(other)`): its items, a dict's keys or (for `update`) its entries,
 * read first in one request (Python reads item after item; `l.extend(l)` never ends there). The
 * method is called unbound, so a promisified proxy, whose own methods give promises, works too. */
const contentsOf = (p: unknown, dict: "keys" | "getvalue"): Effect.Effect<unknown, ManagerError> | undefined => {
  const call = BaseProxy.prototype.call as (this: unknown, method: string) => Effect.Effect<unknown, ManagerError>
  return p instanceof ListProxy || p instanceof ArrayProxy ? call.call(p, "getvalue") : p instanceof DictProxy ? call.call(p, dict) : undefined
}

const ms = (d: Duration.Input | undefined): number | null =>
  d === undefined ? null : Duration.isFinite(Duration.fromInputUnsafe(d)) ? Duration.toMillis(Duration.fromInputUnsafe(d)) : null

/**
 * A reference to an object served by a manager; every method is one request to the server.
 * `T` describes the served object's methods for {@link BaseProxy.call}.
 *
 * Python equivalent: `multiprocessing.managers.BaseProxy`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const counter: Manager.BaseProxy<{ increment(by: number): number }>
 * const next = counter.call("increment", 5)
 * ```
 * @category proxies
 * @since 0.1.0
 */
export class BaseProxy<T = any> extends ProxyRef {
  /** Phantom: the served object's shape. */
  declare readonly "~served"?: T
  /** Calls an exposed method of the served object (Python: `_callmethod`). */
  call<K extends keyof T & string>(
    method: K,
    ...args: T[K] extends (...a: infer A) => any ? A : never
  ): Effect.Effect<T[K] extends (...a: any) => infer R ? Awaited<R> : never, ManagerError>
  call(method: string, ...args: ReadonlyArray<unknown>): Effect.Effect<any, ManagerError>
  call(method: string, ...args: ReadonlyArray<unknown>): Effect.Effect<any, ManagerError> {
    return callWith(this, method, args)
  }
  /** An untyped call, for the typed proxies. @internal */
  protected invoke<A>(method: string, ...args: ReadonlyArray<unknown>): Effect.Effect<A, ManagerError> {
    return callWith(this, method, args)
  }
  /** A copy of the served object (Python: `_getvalue()`). */
  getvalue(): Effect.Effect<unknown, ManagerError> {
    return this.call("getvalue")
  }
  /** Drops the served object on the server (proxies to it then fail with `UnknownObject`). */
  drop(): Effect.Effect<void, ManagerError> {
    return Effect.asVoid(Effect.flatMap(transportOf(this), (t) => t.request({ op: "release", id: this.id })))
  }
}

/** A proxy's call with its arguments as they are (no second rest array per call: proxies are
 * called in bursts of thousands, and a fresh worker pays every allocation in collections). A
 * function, not a method: `proxy` may be a promisified wrapper, whose methods give promises. */
const callWith = (proxy: BaseProxy, method: string, args: ReadonlyArray<unknown>): Effect.Effect<any, ManagerError> => {
  const message: Request = { op: "call", id: proxy.id, method, args }
  const known = servers.get(proxy.serverId)
  if (known) return known.request(message, syncTypes.has(proxy.typeid), proxy)
  return Effect.flatMap(transportOf(proxy), (t) => t.request(message, syncTypes.has(proxy.typeid), proxy))
}

/**
 * A dict served by a manager. Keys are primitives (strings, numbers, bigints, booleans, null).
 *
 * Python equivalent: `DictProxy` (`manager.dict()`).
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const d: Manager.DictProxy<string, number>
 * const program = Effect.gen(function*() {
 *   yield* d.set("a", 1)
 *   return yield* d.get("a") // 1
 * })
 * ```
 * @category proxies
 * @since 0.1.0
 */
export class DictProxy<K = unknown, V = unknown> extends BaseProxy {
  /** `d.get(k, default)`: the value, or `dflt` (undefined) when missing. */
  get(key: K): Effect.Effect<V | undefined, ManagerError>
  get<D>(key: K, dflt: D): Effect.Effect<V | D, ManagerError>
  get(key: K, ...dflt: Array<unknown>): Effect.Effect<unknown, ManagerError> {
    return this.invoke("get", key, ...dflt)
  }
  /** `d[k]`: fails with `RemoteError` / `KeyError` when missing. */
  getItem(key: K): Effect.Effect<V, ManagerError> {
    return this.invoke("getItem", key)
  }
  /** `d[k] = v`. */
  set(key: K, value: V): Effect.Effect<void, ManagerError> {
    return this.invoke("set", key, value)
  }
  /** Sets many entries in one request (one round trip). */
  setMany(entries: ReadonlyArray<readonly [K, V]>): Effect.Effect<void, ManagerError> {
    return this.invoke("setMany", entries)
  }
  /** `del d[k]`: `KeyError` when missing. */
  delete(key: K): Effect.Effect<void, ManagerError> {
    return this.invoke("delete", key)
  }
  /** `k in d`. */
  has(key: K): Effect.Effect<boolean, ManagerError> {
    return this.invoke("has", key)
  }
  /** `len(d)`. */
  len(): Effect.Effect<number, ManagerError> {
    return this.invoke("len")
  }
  keys(): Effect.Effect<Array<K>, ManagerError> {
    return this.invoke("keys")
  }
  values(): Effect.Effect<Array<V>, ManagerError> {
    return this.invoke("values")
  }
  items(): Effect.Effect<Array<[K, V]>, ManagerError> {
    return this.invoke("items")
  }
  /** `d.pop(k[, default])`: `KeyError` when missing and no default is given. */
  pop(key: K, ...dflt: [] | [V]): Effect.Effect<V, ManagerError> {
    return this.invoke("pop", key, ...dflt)
  }
  popitem(): Effect.Effect<[K, V], ManagerError> {
    return this.invoke("popitem")
  }
  setdefault(key: K, dflt: V): Effect.Effect<V, ManagerError> {
    return this.invoke("setdefault", key, dflt)
  }
  /** `d.update(other)`: a Map, an object, or any iterable of `[key, value]` pairs (one request). */
  update(other: Map<K, V> | Iterable<readonly [K, V]> | DictProxy<K, V> | (K extends string ? Record<K, V> : never)): Effect.Effect<void, ManagerError> {
    const from = contentsOf(other, "getvalue")
    return from ? Effect.flatMap(from, (entries) => this.invoke("update", entries)) : this.invoke("update", seq(other))
  }
  /** Python's `iter(d)`: an iterator proxy over the keys (read it with {@link collect} or `next`). */
  iter(): Effect.Effect<IteratorProxy<K>, ManagerError> {
    return this.invoke("iter")
  }
  /** A copy as a Map (Python: `d.copy()`). */
  copy(): Effect.Effect<Map<K, V>, ManagerError> {
    return this.invoke("copy")
  }
  clear(): Effect.Effect<void, ManagerError> {
    return this.invoke("clear")
  }
  override getvalue(): Effect.Effect<Map<K, V>, ManagerError> {
    return this.invoke("getvalue")
  }
}

/**
 * A list served by a manager (negative indices and Python's slices work).
 *
 * Python equivalent: `ListProxy` (`manager.list()`).
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const l: Manager.ListProxy<number>
 * const last = l.get(-1)
 * ```
 * @category proxies
 * @since 0.1.0
 */
export class ListProxy<A = unknown> extends BaseProxy {
  get(index: number): Effect.Effect<A, ManagerError> {
    return this.invoke("get", index)
  }
  set(index: number, value: A): Effect.Effect<void, ManagerError> {
    return this.invoke("set", index, value)
  }
  delete(index: number): Effect.Effect<void, ManagerError> {
    return this.invoke("delete", index)
  }
  len(): Effect.Effect<number, ManagerError> {
    return this.invoke("len")
  }
  append(value: A): Effect.Effect<void, ManagerError> {
    return this.invoke("append", value)
  }
  /** `l.extend(values)` (also `l += values`): any iterable, as in Python, a list, array or dict
   * proxy included (its items, its keys). */
  extend(values: Iterable<A> | ListProxy<A> | ArrayProxy<A> | DictProxy<A, unknown>): Effect.Effect<void, ManagerError> {
    const from = contentsOf(values, "keys")
    return from ? Effect.flatMap(from, (vs) => this.invoke("extend", vs)) : this.invoke("extend", seq(values))
  }
  insert(index: number, value: A): Effect.Effect<void, ManagerError> {
    return this.invoke("insert", index, value)
  }
  pop(index?: number): Effect.Effect<A, ManagerError> {
    return index === undefined ? this.invoke("pop") : this.invoke("pop", index)
  }
  remove(value: A): Effect.Effect<void, ManagerError> {
    return this.invoke("remove", value)
  }
  index(value: A, start?: number, stop?: number): Effect.Effect<number, ManagerError> {
    return this.invoke("index", value, ...(start === undefined ? [] : [start]), ...(stop === undefined ? [] : [stop]))
  }
  count(value: A): Effect.Effect<number, ManagerError> {
    return this.invoke("count", value)
  }
  contains(value: A): Effect.Effect<boolean, ManagerError> {
    return this.invoke("contains", value)
  }
  sort(options?: { readonly reverse?: boolean }): Effect.Effect<void, ManagerError> {
    return this.invoke("sort", options ?? {})
  }
  reverse(): Effect.Effect<void, ManagerError> {
    return this.invoke("reverse")
  }
  /** `l[start:stop:step]`. */
  slice(start?: number | null, stop?: number | null, step?: number | null): Effect.Effect<Array<A>, ManagerError> {
    return this.invoke("slice", start ?? null, stop ?? null, step ?? null)
  }
  /** `l[start:stop:step] = values` (any iterable, a list, array or dict proxy included). */
  setSlice(start: number | null, stop: number | null, values: Iterable<A> | ListProxy<A> | ArrayProxy<A> | DictProxy<A, unknown>, step?: number | null): Effect.Effect<void, ManagerError> {
    const from = contentsOf(values, "keys")
    return from
      ? Effect.flatMap(from, (vs) => this.invoke("setSlice", start, stop, vs, step ?? null))
      : this.invoke("setSlice", start, stop, seq(values), step ?? null)
  }
  /** `del l[start:stop:step]`. */
  deleteSlice(start?: number | null, stop?: number | null, step?: number | null): Effect.Effect<void, ManagerError> {
    return this.invoke("deleteSlice", start ?? null, stop ?? null, step ?? null)
  }
  /** Python's `iter(l)`: an iterator proxy over the items, one request each (it sees later writes). */
  iter(): Effect.Effect<IteratorProxy<A>, ManagerError> {
    return this.invoke("iter")
  }
  /** `l *= n`. */
  imul(n: number): Effect.Effect<void, ManagerError> {
    return this.invoke("imul", n)
  }
  copy(): Effect.Effect<Array<A>, ManagerError> {
    return this.invoke("copy")
  }
  clear(): Effect.Effect<void, ManagerError> {
    return this.invoke("clear")
  }
  override getvalue(): Effect.Effect<Array<A>, ManagerError> {
    return this.invoke("getvalue")
  }
}

/**
 * An attribute bag served by a manager; names starting with `_` live only on this proxy.
 *
 * Python equivalent: `NamespaceProxy` (`manager.Namespace()`).
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const ns: Manager.NamespaceProxy
 * const program = Effect.andThen(ns.set("x", 1), ns.repr()) // "Namespace(x=1)"
 * ```
 * @category proxies
 * @since 0.1.0
 */
export class NamespaceProxy extends BaseProxy {
  private locals: Map<string, unknown> | undefined
  private local(): Map<string, unknown> {
    return this.locals ??= new Map()
  }
  get(name: string): Effect.Effect<unknown, ManagerError> {
    if (name.startsWith("_")) {
      const l = this.local()
      return l.has(name)
        ? Effect.succeed(l.get(name))
        : Effect.fail(new ManagerError({ reason: "RemoteError", remoteType: "AttributeError", message: `'NamespaceProxy' object has no attribute '${name}'` }))
    }
    return this.invoke("get", name)
  }
  set(name: string, value: unknown): Effect.Effect<void, ManagerError> {
    if (name.startsWith("_")) return Effect.sync(() => void this.local().set(name, value))
    return this.invoke("set", name, value)
  }
  delete(name: string): Effect.Effect<void, ManagerError> {
    if (name.startsWith("_")) return Effect.sync(() => void this.local().delete(name))
    return this.invoke("delete", name)
  }
  has(name: string): Effect.Effect<boolean, ManagerError> {
    if (name.startsWith("_")) return Effect.sync(() => this.local().has(name))
    return this.invoke("has", name)
  }
  override getvalue(): Effect.Effect<Record<string, unknown>, ManagerError> {
    return this.invoke("getvalue")
  }
  /** Python's `str(ns)`: `Namespace(a=1, b='x')` (shared attributes only; Python sorts the
   * `name=value` strings, so do we; values print as Python's reprs). */
  repr(): Effect.Effect<string, ManagerError> {
    return Effect.map(this.getvalue(), (o) => `Namespace(${Object.entries(o).map(([k, v]) => `${k}=${tc.pyRepr(v)}`).sort().join(", ")})`)
  }
}

/**
 * A typed value served by a manager.
 *
 * Python equivalent: `ValueProxy` (`manager.Value(typecode, value)`).
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const v: Manager.ValueProxy<number>
 * const value = v.get()
 * ```
 * @category proxies
 * @since 0.1.0
 */
export class ValueProxy<A = unknown> extends BaseProxy {
  get(): Effect.Effect<A, ManagerError> {
    return this.invoke("get")
  }
  set(value: A): Effect.Effect<void, ManagerError> {
    return this.invoke("set", value)
  }
}

/**
 * A fixed-length typed array served by a manager.
 *
 * Python equivalent: `ArrayProxy` (`manager.Array(typecode, sequence)`).
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const a: Manager.ArrayProxy<number>
 * const first = a.get(0)
 * ```
 * @category proxies
 * @since 0.1.0
 */
export class ArrayProxy<A = unknown> extends BaseProxy {
  len(): Effect.Effect<number, ManagerError> {
    return this.invoke("len")
  }
  get(index: number): Effect.Effect<A, ManagerError> {
    return this.invoke("get", index)
  }
  set(index: number, value: A): Effect.Effect<void, ManagerError> {
    return this.invoke("set", index, value)
  }
  slice(start?: number | null, stop?: number | null, step?: number | null): Effect.Effect<Array<A>, ManagerError> {
    return this.invoke("slice", start ?? null, stop ?? null, step ?? null)
  }
  /** `a[start:stop:step] = values` (any iterable of the slice's size). */
  setSlice(start: number | null, stop: number | null, values: Iterable<A>, step?: number | null): Effect.Effect<void, ManagerError> {
    return this.invoke("setSlice", start, stop, seq(values), step ?? null)
  }
  override getvalue(): Effect.Effect<Array<A>, ManagerError> {
    return this.invoke("getvalue")
  }
}

/**
 * A lock served by a manager (`Lock` or `RLock`). A lock held by a process that dies is released.
 *
 * Python equivalent: `AcquirerProxy` (`manager.Lock()`, `manager.RLock()`).
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const lock: Manager.LockProxy
 * const critical = lock.withLock(Effect.log("alone"))
 * ```
 * @category proxies
 * @since 0.1.0
 */
export class LockProxy extends BaseProxy {
  /** Python's `acquire(block=True, timeout=None)`; `true` once held. */
  acquire(options?: { readonly block?: boolean; readonly timeout?: Duration.Input }): Effect.Effect<boolean, ManagerError> {
    return this.invoke("acquire", options?.block ?? true, ms(options?.timeout))
  }
  release(): Effect.Effect<void, ManagerError> {
    return this.invoke("release")
  }
  locked(): Effect.Effect<boolean, ManagerError> {
    return this.invoke("locked")
  }
  /** Runs `effect` holding the lock (Python's `with lock:`). */
  withLock<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | ManagerError, R> {
    return Effect.acquireUseRelease(this.acquire(), () => effect, () => Effect.ignore(this.release()))
  }
}

/**
 * A semaphore served by a manager (`Semaphore` or `BoundedSemaphore`).
 *
 * Python equivalent: `AcquirerProxy` (`manager.Semaphore(n)`).
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const sem: Manager.SemaphoreProxy
 * const got = sem.acquire({ timeout: "1 second" })
 * ```
 * @category proxies
 * @since 0.1.0
 */
export class SemaphoreProxy extends LockProxy {
  getValue(): Effect.Effect<number, ManagerError> {
    return this.invoke("getValue")
  }
}

/**
 * A condition variable served by a manager.
 *
 * Python equivalent: `ConditionProxy` (`manager.Condition()`).
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const cond: Manager.ConditionProxy
 * const wakeAll = cond.withLock(cond.notifyAll())
 * ```
 * @category proxies
 * @since 0.1.0
 */
export class ConditionProxy extends LockProxy {
  /** Releases the lock, waits for a notify (or the timeout: `false`), then takes the lock back. */
  wait(timeout?: Duration.Input): Effect.Effect<boolean, ManagerError> {
    return this.invoke("wait", ms(timeout))
  }
  notify(n = 1): Effect.Effect<void, ManagerError> {
    return this.invoke("notify", n)
  }
  notifyAll(): Effect.Effect<void, ManagerError> {
    return this.invoke("notifyAll")
  }
  /** Waits until `predicate` holds (evaluated here, as Python's proxy does). */
  waitFor<E, R>(predicate: Effect.Effect<boolean, E, R>, timeout?: Duration.Input): Effect.Effect<boolean, E | ManagerError, R> {
    const self = this
    return Effect.gen(function*() {
      const deadline = timeout === undefined ? undefined : Date.now() + Duration.toMillis(Duration.fromInputUnsafe(timeout))
      for (;;) {
        if (yield* predicate) return true
        const left = deadline === undefined ? undefined : deadline - Date.now()
        if (left !== undefined && left <= 0) return false
        yield* self.wait(left)
      }
    })
  }
}

/**
 * An event served by a manager.
 *
 * Python equivalent: `EventProxy` (`manager.Event()`).
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const ev: Manager.EventProxy
 * const fired = ev.wait("5 seconds")
 * ```
 * @category proxies
 * @since 0.1.0
 */
export class EventProxy extends BaseProxy {
  set(): Effect.Effect<void, ManagerError> {
    return this.invoke("set")
  }
  clear(): Effect.Effect<void, ManagerError> {
    return this.invoke("clear")
  }
  isSet(): Effect.Effect<boolean, ManagerError> {
    return this.invoke("isSet")
  }
  wait(timeout?: Duration.Input): Effect.Effect<boolean, ManagerError> {
    return this.invoke("wait", ms(timeout))
  }
}

/**
 * A barrier served by a manager.
 *
 * Python equivalent: `BarrierProxy` (`manager.Barrier(parties)`).
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const b: Manager.BarrierProxy
 * const index = b.wait()
 * ```
 * @category proxies
 * @since 0.1.0
 */
export class BarrierProxy extends BaseProxy {
  wait(timeout?: Duration.Input): Effect.Effect<number, ManagerError> {
    return timeout === undefined ? this.invoke("wait") : this.invoke("wait", ms(timeout))
  }
  abort(): Effect.Effect<void, ManagerError> {
    return this.invoke("abort")
  }
  reset(): Effect.Effect<void, ManagerError> {
    return this.invoke("reset")
  }
  nWaiting(): Effect.Effect<number, ManagerError> {
    return this.invoke("nWaiting")
  }
  broken(): Effect.Effect<boolean, ManagerError> {
    return this.invoke("isBroken")
  }
  parties(): Effect.Effect<number, ManagerError> {
    return this.invoke("getParties")
  }
}

/**
 * A queue served by a manager (`Queue` or `JoinableQueue`); `Full` / `Empty` arrive as
 * `RemoteError` with that `remoteType`.
 *
 * Python equivalent: the `Queue` proxies of `SyncManager`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const q: Manager.QueueProxy<string>
 * const item = q.get({ timeout: "1 second" })
 * ```
 * @category proxies
 * @since 0.1.0
 */
export class QueueProxy<A = unknown> extends BaseProxy {
  put(item: A, options?: { readonly block?: boolean; readonly timeout?: Duration.Input }): Effect.Effect<void, ManagerError> {
    return this.invoke("put", item, options?.block ?? true, ms(options?.timeout))
  }
  get(options?: { readonly block?: boolean; readonly timeout?: Duration.Input }): Effect.Effect<A, ManagerError> {
    return this.invoke("get", options?.block ?? true, ms(options?.timeout))
  }
  putNowait(item: A): Effect.Effect<void, ManagerError> {
    return this.put(item, { block: false })
  }
  getNowait(): Effect.Effect<A, ManagerError> {
    return this.get({ block: false })
  }
  qsize(): Effect.Effect<number, ManagerError> {
    return this.invoke("qsize")
  }
  empty(): Effect.Effect<boolean, ManagerError> {
    return this.invoke("empty")
  }
  full(): Effect.Effect<boolean, ManagerError> {
    return this.invoke("isFull")
  }
  /** JoinableQueue only. */
  taskDone(): Effect.Effect<void, ManagerError> {
    return this.invoke("taskDone")
  }
  /** JoinableQueue only: waits until every item put was marked done. */
  join(): Effect.Effect<void, ManagerError> {
    return this.invoke("join")
  }
}

/**
 * An iterator served by a manager (what a served method returning a generator gives).
 *
 * Python equivalent: `IteratorProxy`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const it: Manager.IteratorProxy<number>
 * const all = Manager.collect(it)
 * ```
 * @category proxies
 * @since 0.1.0
 */
export class IteratorProxy<A = unknown> extends BaseProxy {
  next(): Effect.Effect<IteratorResult<A, undefined>, ManagerError> {
    return this.invoke("next")
  }
}

/**
 * A process pool served by a manager: the manager's process owns a real `Pool` (of the `Pool`
 * module) and every process holding the proxy submits to it.
 *
 * Python equivalent: `manager.Pool(processes)` (a `PoolProxy`).
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * import * as Task from "@multiproc/runtime/Task"
 * export const square = Task.make(import.meta, (x: number) => x * x, { name: "square" })
 * declare const pool: Manager.PoolProxy
 * const squares = pool.map(square, [1, 2, 3]) // Effect of [1, 4, 9]
 * ```
 * @category proxies
 * @since 0.1.0
 */
export class PoolProxy extends BaseProxy {
  /** Python's `apply(func, args)`. */
  apply<T extends Task.Task<any, any, any>>(task: T, args: Task.Args<T>): Effect.Effect<Task.Success<T>, ManagerError> {
    return this.invoke("apply", task, args)
  }
  /** Python's `map(func, iterable, chunksize)`. */
  map<T extends Task.Task<[any], any, any>>(task: T, items: Iterable<Task.Args<T>[0]>, chunksize?: number): Effect.Effect<Array<Task.Success<T>>, ManagerError> {
    return this.invoke("map", task, [...items], ...(chunksize === undefined ? [] : [chunksize]))
  }
  /** Python's `starmap(func, iterable, chunksize)`. */
  starmap<T extends Task.Task<any, any, any>>(task: T, items: Iterable<Task.Args<T>>, chunksize?: number): Effect.Effect<Array<Task.Success<T>>, ManagerError> {
    return this.invoke("starmap", task, [...items], ...(chunksize === undefined ? [] : [chunksize]))
  }
  /** Python's `apply_async(func, args)`: a served AsyncResult. */
  applyAsync<T extends Task.Task<any, any, any>>(task: T, args: Task.Args<T>): Effect.Effect<AsyncResultProxy<Task.Success<T>>, ManagerError> {
    return this.invoke("applyAsync", task, args)
  }
  /** Python's `map_async(func, iterable, chunksize)`: a served AsyncResult of the list. */
  mapAsync<T extends Task.Task<[any], any, any>>(task: T, items: Iterable<Task.Args<T>[0]>, chunksize?: number): Effect.Effect<AsyncResultProxy<Array<Task.Success<T>>>, ManagerError> {
    return this.invoke("mapAsync", task, [...items], ...(chunksize === undefined ? [] : [chunksize]))
  }
  /** Python's `close()`: no new tasks. */
  close(): Effect.Effect<void, ManagerError> {
    return this.invoke("close")
  }
  /** Python's `terminate()`. */
  terminate(): Effect.Effect<void, ManagerError> {
    return this.invoke("terminate")
  }
  /** Python's `join()` (after `close` or `terminate`). */
  join(): Effect.Effect<void, ManagerError> {
    return this.invoke("join")
  }
}

/**
 * The result of a served pool's `applyAsync`.
 *
 * Python equivalent: the `AsyncResult` proxy of a `manager.Pool()`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const result: Manager.AsyncResultProxy<number>
 * const value = result.get("5 seconds")
 * ```
 * @category proxies
 * @since 0.1.0
 */
export class AsyncResultProxy<A = unknown> extends BaseProxy {
  /** Python's `get(timeout=None)`: the value, or the task's error as `RemoteError`. */
  get(timeout?: Duration.Input): Effect.Effect<A, ManagerError> {
    return this.invoke("get", ms(timeout))
  }
  /** Python's `wait(timeout=None)`. */
  wait(timeout?: Duration.Input): Effect.Effect<void, ManagerError> {
    return this.invoke("wait", ms(timeout))
  }
  /** Python's `ready()`. */
  ready(): Effect.Effect<boolean, ManagerError> {
    return this.invoke("ready")
  }
  /** Python's `successful()`. */
  successful(): Effect.Effect<boolean, ManagerError> {
    return this.invoke("successful")
  }
}

registerProxyClass(undefined, BaseProxy)
registerProxyClass("dict", DictProxy)
registerProxyClass("list", ListProxy)
registerProxyClass("Namespace", NamespaceProxy)
registerProxyClass("Value", ValueProxy)
registerProxyClass("Array", ArrayProxy)
registerProxyClass("Lock", LockProxy)
registerProxyClass("RLock", LockProxy)
registerProxyClass("Semaphore", SemaphoreProxy)
registerProxyClass("BoundedSemaphore", SemaphoreProxy)
registerProxyClass("Condition", ConditionProxy)
registerProxyClass("Event", EventProxy)
registerProxyClass("Barrier", BarrierProxy)
registerProxyClass("Queue", QueueProxy)
registerProxyClass("JoinableQueue", QueueProxy)
registerProxyClass("Iterator", IteratorProxy)
registerProxyClass("Pool", PoolProxy)
registerProxyClass("AsyncResult", AsyncResultProxy)

/**
 * Reads an iterator proxy to the end.
 *
 * Python equivalent: `list(iterator_proxy)`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const it: Manager.IteratorProxy<number>
 * const all = Manager.collect(it)
 * ```
 * @category proxies
 * @since 0.1.0
 */
export const collect = <A>(iterator: IteratorProxy<A>): Effect.Effect<Array<A>, ManagerError> =>
  Effect.gen(function*() {
    const out: Array<A> = []
    for (;;) {
      const r = yield* iterator.next()
      if (r.done) return out
      out.push(r.value)
    }
  })

// ---- the manager --------------------------------------------------------------------------------

/**
 * A running manager (started here, or connected to over TCP).
 *
 * Python equivalent: a started `SyncManager` / `BaseManager`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Manager {
  /** The server's unique id. */
  readonly serverId: string
  /** Where it listens for TCP clients, if it does (Python's `address`). */
  readonly address: Address | undefined
  /** The type ids it serves. */
  readonly types: ReadonlyArray<string>
  /** The manager's worker when it was started here (`undefined` when connected over TCP). */
  readonly child: Child.Child | undefined
  /** @internal */
  readonly transport: Transport
}

/** Options of {@link make}. */
export interface Options {
  /** Where the server runs: `thread` or `process`; by default the start method (`Process.setStartMethod`,
   * `Process.StartMethod`), as Python's `Manager()` uses its context's. */
  readonly backend?: Child.Backend | undefined
  /** Custom types (Python's `BaseManager.register(typeid, callable, exposed=..., method_to_typeid=...)`). */
  readonly types?: Readonly<Record<string, TypeConfig>> | undefined
  /** Runs in the manager's process before it serves (Python's `start(initializer, initargs)`). */
  readonly initializer?: Task.Task<any, any, any> | undefined
  readonly initargs?: ReadonlyArray<unknown> | undefined
  /** Also listen on TCP at this address (host defaults to 127.0.0.1, port 0 picks a free one). */
  readonly address?: Partial<Address> | undefined
  /** The TCP clients' key; defaults to this process tree's authkey. */
  readonly authkey?: string | Uint8Array | undefined
  /** The largest TCP frame accepted. Default 64 MiB. */
  readonly maxFrameSize?: number | undefined
  /** How long a TCP client may take to authenticate. Default 10 seconds. */
  readonly handshakeTimeout?: Duration.Input | undefined
}

const notATask = "must be a Task (define it with Task.make at a module's top level)"

/** Options that would only fail in the manager's process, refused before it starts (as `Pool.make` does). */
const validate = (options: Options): Effect.Effect<void, ManagerError> =>
  Effect.suspend(() => {
    const invalid = (message: string) => Effect.fail(new ManagerError({ reason: "InvalidOptions", message }))
    if (options.initializer !== undefined && !Task.isTask(options.initializer)) return invalid(`initializer ${notATask}`)
    if (options.initargs !== undefined && !Array.isArray(options.initargs)) return invalid("initargs must be an array")
    const badBackend = backendProblem(options.backend)
    if (badBackend !== undefined) return invalid(badBackend)
    for (const [typeid, t] of Object.entries(options.types ?? {})) {
      // Checked here: a string for `exposed` (Python's register iterates it into one-letter
      // names) or a type that is no object only showed later as a proxy without the method.
      if (t === null || typeof t !== "object") return invalid(`the type '${typeid}' must be an object ({ factory, exposed, methodToTypeid }), got ${typeof t}`)
      if (t.factory !== undefined && !Task.isTask(t.factory)) return invalid(`the factory of type '${typeid}' ${notATask}`)
      if (t.exposed !== undefined && !(Array.isArray(t.exposed) && t.exposed.every((m) => typeof m === "string"))) {
        return invalid(`the exposed methods of type '${typeid}' must be an array of method names`)
      }
      const m2t = t.methodToTypeid as unknown
      if (m2t !== undefined && (m2t === null || typeof m2t !== "object" || !Object.values(m2t).every((v) => typeof v === "string"))) {
        return invalid(`the methodToTypeid of type '${typeid}' must map method names to typeids`)
      }
    }
    return Effect.void
  })

/**
 * Starts a manager server in its own worker, for as long as the Scope lives; closing the Scope
 * shuts the server down (its TCP port is free at once).
 *
 * Python equivalent: `multiprocessing.Manager()` / `BaseManager(...).start()`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const manager = yield* Manager.make()
 *   const d = yield* Manager.dict<string, number>(manager)
 *   yield* d.set("answer", 42)
 * }))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const make = (options: Options = {}): Effect.Effect<Manager, ManagerError, Scope.Scope> =>
  Effect.gen(function*() {
    yield* validate(options)
    const backend = yield* resolveBackend(options.backend)
    // Named as Python names its manager's process (`SyncManager-1`: the class, then the identity).
    const identity = kernel.nextIdentity()
    const child = yield* Child.spawn({ backend, mode: "service", name: `SyncManager-${identity.join(":")}`, identity }).pipe(
      Effect.mapError((e) => new ManagerError({ reason: "StartFailed", message: `the manager's process failed to start: ${e.message}`, cause: e }))
    )
    // Python's manager runs in a child process, which `active_children()` lists.
    adoptUnsafe(child, false)
    const info = yield* child.call(serveManager, [{
      types: options.types ?? {},
      initializer: options.initializer,
      initargs: options.initargs ?? [],
      listen: options.address === undefined && options.authkey === undefined ? undefined : {
        host: options.address?.host ?? "127.0.0.1",
        port: options.address?.port ?? 0,
        authkey: keyOf(options.authkey),
        maxFrameSize: options.maxFrameSize ?? wire.DEFAULT_MAX_FRAME,
        handshakeTimeoutMs: options.handshakeTimeout === undefined ? 10_000 : Duration.toMillis(Duration.fromInputUnsafe(options.handshakeTimeout))
      }
    }]).pipe(
      Effect.mapError((e) => {
        const wireError = (e as any)?.name === "WireError" ? e as unknown as wire.WireError : undefined
        return new ManagerError({
          reason: "StartFailed",
          message: wireError ? wireError.message : `the manager failed to start: ${(e as Error)?.message ?? e}`,
          cause: e
        })
      }),
      Effect.catchDefect((d) =>
        Effect.fail(new ManagerError({ reason: "StartFailed", message: `the manager failed to start: ${(d as Error)?.message ?? d}`, cause: d }))
      )
    )
    // The server does not keep the program alive while idle (Python shuts an unclosed manager
    // down at exit): its worker is ref'd only while this process has requests in flight, and
    // from the start of the shutdown until it has exited.
    let busy = 0
    let closing = false
    const transport = actorTransport(info.actor, {
      enter: () => {
        if (busy++ === 0) child.ref()
      },
      leave: () => {
        if (--busy === 0 && !closing) child.unref()
      }
    })
    child.unref()
    servers.set(info.serverId, transport)
    yield* Effect.addFinalizer(() =>
      Effect.andThen(
        Effect.sync(() => {
          closing = true
          child.ref()
        }),
        Effect.andThen(
          Effect.ignore(Effect.timeout(transport.request({ op: "shutdown" }), "5 seconds")),
          Effect.andThen(
            Effect.sync(() => {
              servers.delete(info.serverId)
              closedServers.add(info.serverId)
            }),
            // As Python's shutdown, the server's process then exits by itself (exit code 0); the
            // Scope terminates it only if it has not within a second (Python's shutdown_timeout).
            Effect.andThen(child.close, Effect.ignore(Effect.timeout(child.exited, "1 second")))
          )
        )
      )
    )
    return { serverId: info.serverId, address: info.tcp ?? undefined, types: info.types, child, transport } satisfies Manager
  })


/**
 * One manager shared by a whole program, as a service: `ManagerService.layer(options)` starts its
 * server for the layer's lifetime (shut down when the layer ends, as `make`'s Scope), and any part
 * of the program reaches it with `yield* ManagerService`.
 *
 * Python equivalent: a module-level `Manager()` that the program's functions share.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.gen(function*() {
 *   const manager = yield* Manager.ManagerService
 *   const d = yield* Manager.dict<string, number>(manager)
 *   yield* d.set("answer", 42)
 * }).pipe(Effect.provide(Manager.ManagerService.layer()))
 * ```
 * @category services
 * @since 0.1.0
 */
export class ManagerService extends Context.Service<ManagerService, Manager>()("@multiproc/primitives/Manager/ManagerService") {
  /** A layer whose manager is started with `options` (see {@link make}) and lives as long as the layer. */
  static readonly layer = (options: Options = {}): Layer.Layer<ManagerService, ManagerError> =>
    Layer.effect(ManagerService, make(options))
}
/** Options of {@link connect}. */
export interface ConnectOptions {
  /** The manager's key; defaults to this process tree's authkey. */
  readonly authkey?: string | Uint8Array | undefined
  readonly maxFrameSize?: number | undefined
  readonly handshakeTimeout?: Duration.Input | undefined
}

/**
 * Connects to a manager listening on TCP (another program's, or this tree's) for as long as the
 * Scope lives. Proxies of that manager received in this process use this connection.
 *
 * Python equivalent: `BaseManager(address, authkey).connect()`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const remote = yield* Manager.connect({ host: "127.0.0.1", port: 50000 }, { authkey: "abc" })
 *   const q = yield* Manager.queue(remote)
 * }))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const connect = (address: Address, options: ConnectOptions = {}): Effect.Effect<Manager, ManagerError, Scope.Scope> =>
  Effect.gen(function*() {
    const socket = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: () =>
          wire.connect({
            host: address.host,
            port: address.port,
            key: keyOf(options.authkey),
            maxFrame: options.maxFrameSize ?? wire.DEFAULT_MAX_FRAME,
            handshakeTimeoutMs: options.handshakeTimeout === undefined ? 10_000 : Duration.toMillis(Duration.fromInputUnsafe(options.handshakeTimeout))
          }),
        catch: (e) =>
          new ManagerError({
            reason: (e as wire.WireError)?.reason === "AuthenticationError" ? "AuthenticationError" : "ServerGone",
            message: (e as Error).message,
            remoteType: (e as wire.WireError)?.reason,
            cause: e
          })
      }),
      (s) => Effect.sync(() => s.close())
    )
    const session = batchingTransport(measuredAsk(socketAsk(socket, true)), () => {})
    const info = (yield* session.request({ op: "info" })) as ServerInfo
    servers.set(info.serverId, session)
    tcpSessions.set(addressKey(address), session)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        if (servers.get(info.serverId) === session) servers.delete(info.serverId)
        if (tcpSessions.get(addressKey(address)) === session) tcpSessions.delete(addressKey(address))
      })
    )
    return { serverId: info.serverId, address, types: info.types, child: undefined, transport: session } satisfies Manager
  })

/**
 * Creates a served object of any registered type and returns its proxy.
 *
 * Python equivalent: `manager.<typeid>(*args)` for a type registered with `BaseManager.register`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const manager: Manager.Manager
 * const counter = Manager.create<{ increment(n: number): number }>(manager, "Counter", 10)
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const create = <T = any>(manager: Manager, typeid: string, ...args: ReadonlyArray<unknown>): Effect.Effect<BaseProxy<T>, ManagerError> =>
  manager.transport.request({ op: "create", typeid, args }) as Effect.Effect<BaseProxy<T>, ManagerError>

const make_ = <P>(manager: Manager, typeid: string, args: ReadonlyArray<unknown>): Effect.Effect<P, ManagerError> =>
  manager.transport.request({ op: "create", typeid, args }) as Effect.Effect<P, ManagerError>

/**
 * A new shared dict, optionally filled from a Map, an object or a list of pairs.
 *
 * Python equivalent: `manager.dict()`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const manager: Manager.Manager
 * const d = Manager.dict<string, number>(manager, { a: 1 })
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const dict = <K = unknown, V = unknown>(
  manager: Manager,
  init?: Map<K, V> | Iterable<readonly [K, V]> | Record<string, V>
): Effect.Effect<DictProxy<K, V>, ManagerError> => make_(manager, "dict", init === undefined ? [] : [seq(init)])

/**
 * A new shared list.
 *
 * Python equivalent: `manager.list()`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const manager: Manager.Manager
 * const l = Manager.list(manager, [1, 2, 3])
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const list = <A = unknown>(manager: Manager, init?: Iterable<A>): Effect.Effect<ListProxy<A>, ManagerError> =>
  make_(manager, "list", init === undefined ? [] : [seq(init)])

/**
 * A new shared Namespace.
 *
 * Python equivalent: `manager.Namespace()`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const manager: Manager.Manager
 * const ns = Manager.namespace(manager, { name: "Bob" })
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const namespace = (manager: Manager, init?: Record<string, unknown>): Effect.Effect<NamespaceProxy, ManagerError> =>
  make_(manager, "Namespace", init === undefined ? [] : [init])

/**
 * A new served typed value.
 *
 * Python equivalent: `manager.Value(typecode, value)`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const manager: Manager.Manager
 * const v = Manager.value(manager, "d", 3.5)
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const value = <T extends tc.Typecode>(manager: Manager, typecode: T, initial?: tc.Element<T> | number): Effect.Effect<ValueProxy<tc.Element<T>>, ManagerError> =>
  make_(manager, "Value", initial === undefined ? [typecode] : [typecode, initial])

/**
 * A new served typed array (from a size, zero-filled, or from values).
 *
 * Python equivalent: `manager.Array(typecode, sequence)`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const manager: Manager.Manager
 * const a = Manager.array(manager, "i", [1, 2, 3])
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const array = <T extends tc.Typecode>(
  manager: Manager,
  typecode: T,
  sizeOrInit: number | Iterable<tc.Element<T> | number>
): Effect.Effect<ArrayProxy<tc.Element<T>>, ManagerError> => make_(manager, "Array", [typecode, seq(sizeOrInit)])

/**
 * A new served lock (non-recursive).
 *
 * Python equivalent: `manager.Lock()`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const manager: Manager.Manager
 * const lock = Manager.lock(manager)
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const lock = (manager: Manager): Effect.Effect<LockProxy, ManagerError> => make_(manager, "Lock", [])

/**
 * A new served recursive lock (owned by the acquiring process).
 *
 * Python equivalent: `manager.RLock()`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const manager: Manager.Manager
 * const rlock = Manager.rlock(manager)
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const rlock = (manager: Manager): Effect.Effect<LockProxy, ManagerError> => make_(manager, "RLock", [])

/**
 * A new served semaphore.
 *
 * Python equivalent: `manager.Semaphore(value)`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const manager: Manager.Manager
 * const sem = Manager.semaphore(manager, 3)
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const semaphore = (manager: Manager, value = 1): Effect.Effect<SemaphoreProxy, ManagerError> => make_(manager, "Semaphore", [value])

/**
 * A new served bounded semaphore (releasing above the initial value is a `ValueError`).
 *
 * Python equivalent: `manager.BoundedSemaphore(value)`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const manager: Manager.Manager
 * const sem = Manager.boundedSemaphore(manager, 2)
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const boundedSemaphore = (manager: Manager, value = 1): Effect.Effect<SemaphoreProxy, ManagerError> =>
  make_(manager, "BoundedSemaphore", [value])

/**
 * A new served condition variable, over the given served `Lock` / `RLock` of the same manager or
 * over its own recursive lock (anything else fails with `RemoteError` / `TypeError`).
 *
 * Python equivalent: `manager.Condition(lock=None)`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const manager: Manager.Manager
 * const cond = Effect.flatMap(Manager.lock(manager), (lock) => Manager.condition(manager, lock))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const condition = (manager: Manager, lock?: LockProxy): Effect.Effect<ConditionProxy, ManagerError> =>
  make_(manager, "Condition", lock === undefined ? [] : [lock])

/**
 * A new served event.
 *
 * Python equivalent: `manager.Event()`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const manager: Manager.Manager
 * const ev = Manager.event(manager)
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const event = (manager: Manager): Effect.Effect<EventProxy, ManagerError> => make_(manager, "Event", [])

/**
 * A new served barrier. The optional `action` (a Task taking no arguments; it may return an
 * Effect) runs in the manager's process once per pass, when the last party arrives and before
 * any is released; if it fails, the barrier breaks and that party's `wait` fails with its error.
 *
 * Python equivalent: `manager.Barrier(parties, action=None, timeout=None)`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const manager: Manager.Manager
 * const b = Manager.barrier(manager, 3)
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const barrier = (
  manager: Manager,
  parties: number,
  timeout?: Duration.Input,
  action?: Task.Task<[], unknown, unknown>
): Effect.Effect<BarrierProxy, ManagerError> =>
  action !== undefined && !Task.isTask(action)
    ? Effect.fail(new ManagerError({ reason: "InvalidOptions", message: `action ${notATask}` }))
    : make_(manager, "Barrier", action === undefined ? [parties, ms(timeout)] : [parties, ms(timeout), action])

/**
 * A new served queue (`maxsize` 0 = unbounded).
 *
 * Python equivalent: `manager.Queue(maxsize)`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const manager: Manager.Manager
 * const q = Manager.queue<string>(manager)
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const queue = <A = unknown>(manager: Manager, maxsize = 0): Effect.Effect<QueueProxy<A>, ManagerError> => make_(manager, "Queue", [maxsize])

/**
 * A new served joinable queue (`taskDone` / `join`).
 *
 * Python equivalent: `manager.JoinableQueue(maxsize)`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const manager: Manager.Manager
 * const q = Manager.joinableQueue<string>(manager)
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const joinableQueue = <A = unknown>(manager: Manager, maxsize = 0): Effect.Effect<QueueProxy<A>, ManagerError> =>
  make_(manager, "JoinableQueue", [maxsize])

/** Options of {@link pool}: what the served `Pool` is made with. */
export interface PoolProxyOptions extends PoolOptions {}

/**
 * A new process pool owned by the manager's process (its workers are the manager's children and
 * end with the manager, or when the proxy is dropped). A number is Python's positional
 * `processes` (`Manager.pool(m, 2)`), as `Pool.make(2)`.
 *
 * Python equivalent: `manager.Pool(processes)`.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * declare const manager: Manager.Manager
 * const pool = Manager.pool(manager, { processes: 2 })
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const pool = (manager: Manager, options: PoolProxyOptions | number = {}): Effect.Effect<PoolProxy, ManagerError> =>
  make_(manager, "Pool", [options])

/**
 * Whether a value is a manager proxy.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * Manager.isProxy({}) // false
 * ```
 * @category guards
 * @since 0.1.0
 */
export const isProxy = (u: unknown): u is BaseProxy => u instanceof ProxyRef
