/**
 * The manager's server: runs as a task in the manager's own process (a service-mode worker), holds
 * the served objects, and answers requests from the process tree (an actor) and, when asked to
 * listen, from authenticated TCP clients. Unauthenticated TCP peers never reach `handle`.
 * @internal
 */
import { Actor, Codec, Task } from "@multiproc/runtime"
import * as kernel from "@multiproc/runtime/internal/kernel"
import * as Schema from "effect/Schema"
import { randomUUID } from "node:crypto"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { DROP, HOLD, makeProxy, ManagerError, PIN, ProxyRef, Request, type ServerInfo, setLocalServer, treeId } from "./manager-common.ts"
import { builtinMethodToTypeid, builtins, isAtOrBelow, SharedAsyncResult, withContext } from "./manager-types.ts"
import * as wire from "./wire.ts"
import { REPLY_POLL_MS, stayAwake } from "@multiproc/runtime/internal/awake"

/** A type the manager serves: a factory task and the methods proxies may call. */
export interface TypeConfig {
  /** Builds the object in the manager's process (Python's `callable`). Absent for built-ins. */
  readonly factory?: Task.Task<any, any, any> | undefined
  /** The methods proxies may call (Python's `exposed`); default: every public method. */
  readonly exposed?: ReadonlyArray<string> | undefined
  /** Methods whose results are served objects of another type (Python's `method_to_typeid`). */
  readonly methodToTypeid?: Readonly<Record<string, string>> | undefined
}

export interface ServeConfig {
  readonly types: Readonly<Record<string, TypeConfig>>
  readonly initializer?: Task.Task<any, any, any> | undefined
  readonly initargs?: ReadonlyArray<unknown> | undefined
  readonly listen?: {
    readonly host: string
    readonly port: number
    readonly authkey: string | Uint8Array
    readonly maxFrameSize: number
    readonly handshakeTimeoutMs: number
  } | undefined
}

const builtinExposed: Record<string, ReadonlyArray<string>> = {
  dict: ["get", "getItem", "set", "setMany", "delete", "has", "len", "keys", "values", "items", "pop", "popitem", "setdefault", "update", "iter", "copy", "clear", "getvalue"],
  list: ["get", "set", "delete", "len", "append", "extend", "insert", "pop", "remove", "index", "count", "contains", "sort", "reverse", "slice", "setSlice", "deleteSlice", "imul", "iter", "copy", "clear", "getvalue"],
  Namespace: ["get", "set", "delete", "has", "getvalue"],
  Value: ["get", "set", "getvalue"],
  Array: ["len", "get", "set", "slice", "setSlice", "getvalue"],
  Lock: ["acquire", "release", "locked"],
  RLock: ["acquire", "release", "locked"],
  Semaphore: ["acquire", "release", "getValue"],
  BoundedSemaphore: ["acquire", "release", "getValue"],
  Condition: ["acquire", "release", "wait", "notify", "notifyAll"],
  Event: ["set", "clear", "isSet", "wait"],
  Barrier: ["wait", "abort", "reset", "nWaiting", "isBroken", "getParties"],
  Queue: ["put", "get", "qsize", "empty", "isFull"],
  JoinableQueue: ["put", "get", "qsize", "empty", "isFull", "taskDone", "join"],
  Pool: ["apply", "map", "starmap", "applyAsync", "mapAsync", "close", "terminate", "join"],
  AsyncResult: ["get", "wait", "ready", "successful"],
  Iterator: ["next"]
}

interface Served {
  readonly obj: any
  readonly typeid: string
  readonly exposed: ReadonlySet<string> | null
  readonly methodToTypeid: Readonly<Record<string, string>> | null
  /** The processes (request senders, `SELF`) holding a proxy of it (see manager-common). */
  readonly holders: Set<string>
  /** Proxies of it in flight (encoded, not yet decoded). */
  pins: number
  /** The object whose method returned it (a Pool's AsyncResult, an iterator): held by it. */
  readonly parent: number | undefined
}

/** The holder key of a served object that holds its parent (never a process address). */
const childKey = (id: number): string => `#child${id}`

/** The server's own process as a holder (a proxy stored in a served object); no process address
 * or session name looks like it. */
const SELF = "#self"

/** The request as `handle` sees it, from an actor mailbox or a TCP session. */
interface Req {
  readonly from: string
  readonly reply: (value: unknown) => void
  readonly fail: (error: unknown) => void
  readonly onCancel: (f: () => void) => void
}

/** The reply to a batch: sent once every call of it is answered. */
class BatchReply {
  readonly req: Req
  readonly results: Array<unknown> = []
  waiting = 0
  started = false
  constructor(req: Req) {
    this.req = req
  }
  maybeReply(): void {
    if (!this.started || this.waiting !== 0) return
    const results = this.results
    for (let i = 0; i < results.length; i += 2) {
      if (results[i] !== 0 || results[i + 1] !== undefined) return this.req.reply(results)
    }
    this.req.reply(results.length / 2)
  }
}

/** One call of a batch, answering into its place of the batch's reply. */
class BatchSlot implements Req {
  readonly batch: BatchReply
  readonly at: number
  readonly from: string
  answered = false
  async = false
  constructor(batch: BatchReply, at: number, from: string) {
    this.batch = batch
    this.at = at
    this.from = from
  }
  reply(value: unknown): void {
    this.answer(0, value)
  }
  fail(error: unknown): void {
    this.answer(1, error)
  }
  onCancel(_: () => void): void {}
  answer(status: number, value: unknown): void {
    if (this.answered) return
    this.answered = true
    this.batch.results[this.at] = status
    this.batch.results[this.at + 1] = value
    if (this.async) {
      this.batch.waiting--
      this.batch.maybeReply()
    }
  }
}

const isPromise = (u: unknown): u is PromiseLike<unknown> => typeof (u as any)?.then === "function"
const isIterator = (u: unknown): boolean =>
  typeof u === "object" && u !== null && typeof (u as any).next === "function" &&
  (Symbol.iterator in u || Symbol.asyncIterator in u)

const decodeSlow = Schema.decodeUnknownSync(Request)

/** Validates a request: a hand-written fast path for the shapes clients send, the Schema (and
 * its error message) for anything else. */
const decodeRequest = (u: unknown): Request => {
  const m = u as Record<string, unknown>
  if (typeof m === "object" && m !== null && Object.getPrototypeOf(m) === Object.prototype) {
    // (Extra keys are ignored, as the Schema ignores them.)
    if (m.op === "call" && typeof m.id === "number" && typeof m.method === "string" && Array.isArray(m.args)) {
      return m as unknown as Request
    }
    if (m.op === "batch" && Array.isArray(m.calls)) return checkBatch(m as unknown as Request)
    if (m.op === "refs" && Array.isArray(m.refs)) return m as unknown as Request
  }
  const r = decodeSlow(u)
  return r.op === "batch" ? checkBatch(r) : r
}

/** A batch's flat calls are well formed: groups of `id, method, argc, count, ...args` to the end. */
const checkBatch = (r: Request): Request => {
  const calls = (r as { readonly calls: ReadonlyArray<unknown> }).calls
  const isCount = (n: unknown): n is number => typeof n === "number" && Number.isInteger(n) && n >= 0
  for (let i = 0; i < calls.length;) {
    const argc = calls[i + 2]
    const count = calls[i + 3]
    if (typeof calls[i] !== "number" || typeof calls[i + 1] !== "string" || !isCount(argc) || !isCount(count) || i + 4 + argc * count > calls.length) {
      throw new Error(`malformed batch: the group at ${i} is not \`id, method, argc, count, ...args\``)
    }
    i += 4 + argc * count
  }
  return r
}

const remoteError = (e: unknown): ManagerError => {
  if (e instanceof ManagerError) return e
  const error = e instanceof Error ? e : new Error(String(e))
  return new ManagerError({ reason: "RemoteError", message: error.message, remoteType: error.name, cause: error })
}

/** Who calls, for a served method. The abort signal only exists if the method asks for it
 * (blocking methods do): most calls are synchronous and pay nothing for cancellation. */
class Context {
  readonly req: Req
  private controller: AbortController | undefined
  constructor(req: Req) {
    this.req = req
  }
  get from(): string {
    return this.req.from
  }
  get signal(): AbortSignal {
    if (!this.controller) {
      const c = this.controller = new AbortController()
      this.req.onCancel(() => c.abort())
    }
    return this.controller.signal
  }
}

class Server {
  readonly serverId = randomUUID()
  readonly tree = treeId()
  readonly objects = new Map<number, Served>()
  /** Pinned tokens (proxies in flight) → object id. */
  readonly pins = new Map<string, number>()
  /** Tokens whose HOLD overtook their PIN. */
  readonly early = new Set<string>()
  nextId = 1
  actor!: Actor.Handle<unknown>
  listener: wire.WireListener | undefined
  /** The loopback listener for this tree's child processes, opened on their first request. */
  local: Promise<{ readonly pid: number; readonly path: string }> | undefined
  localListener: wire.WireListener | undefined
  tcp: { host: string; port: number } | null = null
  readonly types: Readonly<Record<string, TypeConfig>>
  readonly factories = new Map<string, (...args: Array<any>) => unknown>()
  readonly sessions = new Set<wire.FrameSocket>()
  constructor(types: Readonly<Record<string, TypeConfig>>) {
    this.types = types
  }

  info(): ServerInfo {
    return { serverId: this.serverId, tree: this.tree, actor: this.actor.ref, tcp: this.tcp, types: [...Object.keys(builtins), ...Object.keys(this.types)] }
  }

  register(
    obj: unknown,
    typeid: string,
    exposed: ReadonlyArray<string> | null,
    methodToTypeid: Readonly<Record<string, string>> | null,
    parent?: number
  ): ProxyRef {
    const id = this.nextId++
    this.objects.set(id, { obj, typeid, exposed: exposed ? new Set(exposed) : null, methodToTypeid, holders: new Set(), pins: 0, parent })
    // What a method returned keeps the object it came from (a Pool lives while one of its
    // AsyncResults does, as in Python, where the result references its pool).
    if (parent !== undefined) this.objects.get(parent)?.holders.add(childKey(id))
    return makeProxy(this.serverId, this.tree, this.actor.ref, this.tcp, id, typeid, exposed)
  }

  registerAs(obj: unknown, typeid: string, parent?: number): ProxyRef {
    if (typeid === "AsyncResult") return this.register(new SharedAsyncResult(obj as any), typeid, builtinExposed[typeid]!, null, parent)
    if (typeid === "Iterator" || builtins[typeid]) return this.register(obj, typeid, builtinExposed[typeid] ?? null, builtinMethodToTypeid[typeid] ?? null, parent)
    const t = this.types[typeid]
    if (!t) throw new ManagerError({ reason: "UnknownType", message: `no type '${typeid}' is registered with the manager` })
    return this.register(obj, typeid, t.exposed ?? null, t.methodToTypeid ?? null, parent)
  }

  /** Answers one request. Synchronous methods complete before the next request is read. */
  handle(raw: unknown, req: Req): void {
    let m: Request
    try {
      m = decodeRequest(raw)
    } catch (e) {
      req.fail(new ManagerError({ reason: "BadRequest", message: String((e as Error)?.message ?? e) }))
      return
    }
    switch (m.op) {
      case "create":
        return this.create(m.typeid, m.args, req)
      case "call":
        return this.call(m.id, m.method, m.args, req)
      case "batch":
        return this.batch(m.calls, req)
      case "release": {
        const s = this.objects.get(m.id)
        const disposed = s === undefined ? undefined : this.free(m.id, s)
        if (disposed) {
          void disposed.then(() => req.reply(undefined), () => req.reply(undefined))
          return
        }
        return req.reply(undefined)
      }
      case "refs":
        this.refs(m.refs, req.from)
        return req.reply(undefined)
      case "info":
        return req.reply(this.info())
      case "local":
        void this.listenLocally().then((where) => req.reply(where), (e) => req.fail(remoteError(e)))
        return
      case "shutdown":
        void this.shutdown().then(() => req.reply(undefined))
        return
    }
  }

  create(typeid: string, args: ReadonlyArray<unknown>, req: Req): void {
    const builtin = builtins[typeid]
    if (builtin) {
      // Python's Condition(lock) shares the lock object itself: a proxy of this server is resolved
      // to its referent (which the condition then keeps, whatever becomes of the lock's id).
      if (typeid === "Condition" && args[0] instanceof ProxyRef) {
        const lock = args[0].serverId === this.serverId ? this.objects.get(args[0].id) : undefined
        args = [lock?.obj ?? args[0]]
      }
      let obj: object
      try {
        obj = builtin(...args)
      } catch (e) {
        return req.fail(remoteError(e))
      }
      const methodToTypeid = builtinMethodToTypeid[typeid] ?? null
      if (isPromise(obj)) {
        obj.then((o) => req.reply(this.register(o as object, typeid, builtinExposed[typeid] ?? null, methodToTypeid)), (e) => req.fail(remoteError(e)))
        return
      }
      return req.reply(this.register(obj, typeid, builtinExposed[typeid] ?? null, methodToTypeid))
    }
    const t = this.types[typeid]
    if (!t || !t.factory) {
      return req.fail(new ManagerError({ reason: "UnknownType", message: `no type '${typeid}' is registered with the manager` }))
    }
    const factory = t.factory
    void (async () => {
      try {
        const obj = await factory(...args)
        // A factory that gives an iterator (a generator function) is served as one, so its proxy
        // is an IteratorProxy, as Python's `register(typeid, gen, proxytype=IteratorProxy)`.
        if (t.exposed === undefined && t.methodToTypeid === undefined && isIterator(obj)) return req.reply(this.registerAs(obj, "Iterator"))
        req.reply(this.register(obj, typeid, t.exposed ?? null, t.methodToTypeid ?? null))
      } catch (e) {
        req.fail(remoteError(e))
      }
    })()
  }

  /** Calls answered in one reply, in order. `calls` is flat, in groups of calls to one method of
   * one object: `id, method, argc, count`, then `count × argc` arguments (no array per call to
   * encode and decode, and a burst of sets is mostly its arguments). The reply is flat too: `status, value` per call
   * (`0` answered, `1` failed), or just the count when every call answered nothing (a burst of
   * sets). Clients batch only calls of types answered synchronously; anything asynchronous is
   * awaited before the reply. */
  batch(calls: ReadonlyArray<unknown>, req: Req): void {
    batches++
    const reply = new BatchReply(req)
    for (let i = 0; i < calls.length;) {
      const id = calls[i] as number
      const method = calls[i + 1] as string
      const argc = calls[i + 2] as number
      const count = calls[i + 3] as number
      i += 4
      for (let c = 0; c < count; c++, i += argc) {
        const slot = new BatchSlot(reply, reply.results.length, req.from)
        reply.results.push(0, undefined)
        this.call(id, method, calls.slice(i, i + argc), slot)
        if (!slot.answered) {
          slot.async = true
          reply.waiting++
        }
      }
    }
    reply.started = true
    reply.maybeReply()
  }

  call(id: number, method: string, args: ReadonlyArray<unknown>, req: Req): void {
    const served = this.objects.get(id)
    if (!served) return req.fail(new ManagerError({ reason: "UnknownObject", message: `no object ${id} on this manager (released, or the manager restarted)` }))
    const allowed = served.exposed ? served.exposed.has(method) : !method.startsWith("_") && method !== "constructor"
    const fn = allowed ? served.obj?.[method] : undefined
    if (typeof fn !== "function") {
      return req.fail(new ManagerError({
        reason: "NotExposed",
        message: `method '${method}' of ${served.typeid} object is not exposed`,
        remoteType: "AttributeError"
      }))
    }
    const ctx = new Context(req)
    let result: unknown
    try {
      result = withContext(ctx, () => fn.apply(served.obj, args))
    } catch (e) {
      return req.fail(remoteError(e))
    }
    const finish = (value: unknown) => {
      try {
        const typeid = served.methodToTypeid?.[method]
        if (typeid) return req.reply(this.registerAs(value, typeid, id))
        if (isIterator(value)) return req.reply(this.registerAs(value, "Iterator", id))
        if (served.typeid === "Iterator" && method === "next") {
          const r = value as IteratorResult<unknown>
          return req.reply({ done: r.done === true, value: r.value })
        }
        req.reply(value)
      } catch (e) {
        req.fail(remoteError(e))
      }
    }
    if (isPromise(result)) result.then(finish, (e) => req.fail(remoteError(e)))
    else finish(result)
  }

  /** Applies reference operations (`kind, id, token` triples) of the process `from`. */
  refs(refs: ReadonlyArray<unknown>, from: string): void {
    for (let i = 0; i + 2 < refs.length; i += 3) {
      const kind = refs[i]
      const id = refs[i + 1] as number
      const token = refs[i + 2]
      const s = this.objects.get(id)
      if (kind === PIN && typeof token === "string") {
        if (this.early.delete(token) || s === undefined) continue
        this.pins.set(token, id)
        s.pins++
      } else if (kind === HOLD) {
        s?.holders.add(from)
        if (typeof token !== "string") continue
        const pinned = this.pins.get(token)
        if (pinned === undefined) {
          this.early.add(token)
          continue
        }
        this.pins.delete(token)
        const p = this.objects.get(pinned)
        if (p !== undefined) {
          p.pins--
          this.maybeFree(pinned, p)
        }
      } else if (kind === DROP && s !== undefined && s.holders.delete(from)) {
        this.maybeFree(id, s)
      }
    }
  }

  maybeFree(id: number, s: Served): void {
    if (s.holders.size === 0 && s.pins === 0) void this.free(id, s)?.catch(() => {})
  }

  /** Forgets an object (a built-in with resources, a Pool, is disposed). */
  free(id: number, s: Served): Promise<unknown> | undefined {
    if (this.objects.get(id) !== s) return undefined
    this.objects.delete(id)
    if (s.pins > 0) for (const [token, of] of this.pins) if (of === id) this.pins.delete(token)
    const parent = s.parent === undefined ? undefined : this.objects.get(s.parent)
    if (parent !== undefined && parent.holders.delete(childKey(id))) this.maybeFree(s.parent!, parent)
    if (typeof s.obj?.dispose === "function" && builtinExposed[s.typeid]) return Promise.resolve(s.obj.dispose())
    return undefined
  }

  down(address: string): void {
    // A dead process holds nothing any more.
    for (const [id, s] of this.objects) {
      let dropped = false
      for (const h of s.holders) {
        if (h !== SELF && isAtOrBelow(h, address)) dropped = s.holders.delete(h) || dropped
      }
      if (dropped) this.maybeFree(id, s)
    }
    for (const s of this.objects.values()) {
      if (typeof s.obj?.down === "function" && (s.exposed === null || builtinExposed[s.typeid])) {
        try {
          s.obj.down(address)
        } catch {
          // a served object's recovery must not stop the others
        }
      }
    }
  }

  abandoned(message: unknown, value: unknown, from: string): void {
    const m = message as { op?: string; id?: number; method?: string; args?: Array<unknown> }
    if (m?.op !== "call" || typeof m.id !== "number") return
    const s = this.objects.get(m.id)
    if (s && builtinExposed[s.typeid] && typeof s.obj?.abandoned === "function") s.obj.abandoned(m.method, m.args ?? [], value, from)
  }

  async shutdown(): Promise<void> {
    const disposing: Array<Promise<unknown>> = []
    for (const s of this.objects.values()) {
      if (typeof s.obj?.dispose === "function" && builtinExposed[s.typeid]) disposing.push(Promise.resolve(s.obj.dispose()).catch(() => {}))
    }
    await Promise.all(disposing)
    for (const s of this.sessions) s.close()
    await this.listener?.close()
    this.listener = undefined
    await this.localListener?.close()
    this.localListener = undefined
  }

  // ---- TCP ------------------------------------------------------------------------------------

  async listen(options: NonNullable<ServeConfig["listen"]>): Promise<void> {
    const listener = new wire.WireListener({
      host: options.host,
      port: options.port,
      backlog: 128,
      key: wire.toKey(options.authkey),
      maxFrame: options.maxFrameSize,
      handshakeTimeoutMs: options.handshakeTimeoutMs
    })
    await listener.listen()
    this.listener = listener
    this.tcp = { host: listener.host, port: listener.port }
    this.serve(listener)
  }

  /** Child processes of the tree connect here rather than go through their parents: a Unix
   * socket (Python's default family for managers; 20-40 % faster round trips than loopback TCP
   * here), authenticated with the tree's key (which every process of the tree inherits). */
  listenLocally(): Promise<{ readonly pid: number; readonly path: string }> {
    return this.local ??= (async () => {
      const name = `multiproc-${process.pid}-${randomUUID().slice(0, 8)}`
      const path = process.platform === "win32" ? `\\\\?\\pipe\\${name}` : join(tmpdir(), `${name}.sock`)
      const listener = new wire.WireListener({
        host: "",
        port: 0,
        path,
        backlog: 128,
        key: wire.toKey(kernel.self.authkey),
        maxFrame: wire.DEFAULT_MAX_FRAME,
        handshakeTimeoutMs: 10_000
      })
      await listener.listen()
      // Not what keeps the manager's worker alive (its parent decides that).
      listener.server.unref()
      this.localListener = listener
      this.serve(listener)
      return { pid: process.pid, path }
    })()
  }

  private serve(listener: wire.WireListener): void {
    const loop = (): void => {
      listener.accept((a) => {
        if (listener.closed) return
        if (a.ok) this.session(a.conn)
        // A failed handshake is only counted; the peer is already disconnected.
        else if (a.error.reason !== "Closed") failedHandshakes++
        loop()
      })
    }
    loop()
  }

  session(conn: wire.FrameSocket): void {
    const from = `tcp#${++sessions}`
    this.sessions.add(conn)
    const cancels = new Map<number, () => void>()
    const send = (id: number, status: number, value: unknown): void => {
      if (conn.ended) return
      let bytes: Uint8Array
      try {
        bytes = Codec.encodeUnsafe([id, status, value])
      } catch (e) {
        bytes = Codec.encodeUnsafe([id, 1, new ManagerError({ reason: "RemoteError", message: (e as Error).message, remoteType: "SerializationError" })])
      }
      try {
        conn.send(bytes)
      } catch {
        // the client is gone
      }
    }
    const next = (): void => {
      conn.recvCallback((frame) => {
        this.onFrame(frame, from, send, cancels, conn)
        if (!conn.ended) next()
      }, () => {
        this.sessions.delete(conn)
        for (const c of cancels.values()) c()
        cancels.clear()
        this.down(from)
      })
    }
    next()
  }

  onFrame(
    frame: Uint8Array,
    from: string,
    send: (id: number, status: number, value: unknown) => void,
    cancels: Map<number, () => void>,
    conn: wire.FrameSocket
  ): void {
    let decoded: unknown
    try {
      decoded = Codec.decodeUnsafe(frame)
    } catch {
      decoded = undefined
    }
    // [id, request], [id, request, 1] (the client polls for the reply: stay awake after it),
    // [-1, id] (cancel) or [-2, id, request, value] (abandon: the reply crossed the client's
    // cancel, so what it handed out is taken back, as for actor asks). Anything else ends the
    // session: the peer is confused.
    if (
      !Array.isArray(decoded) || typeof decoded[0] !== "number" ||
      (decoded[0] === -2 ? decoded.length !== 4 : decoded.length !== 2 && !(decoded.length === 3 && decoded[0] >= 0 && decoded[2] === 1))
    ) {
      conn.fail(new wire.WireError("Closed", "malformed request frame"))
      return
    }
    const [id, body] = decoded as [number, unknown]
    const awake = decoded.length === 3
    if (id === -1) {
      if (typeof body === "number") cancels.get(body)?.()
      return
    }
    if (id === -2) {
      this.abandoned(decoded[2], decoded[3], from)
      return
    }
    let done = false
    let cancel: (() => void) | undefined
    cancels.set(id, () => {
      cancels.delete(id)
      cancel?.()
      // Not marked done yet: a grant already under way (a lock handed over by a release that came
      // in the same read, its reply still in a microtask) answers within this tick, and the client
      // hands that reply back (`[-2, ...]`). Whatever is still unanswered after it was withdrawn:
      // the client may forget it.
      setImmediate(() => {
        if (done) return
        done = true
        send(id, 2, undefined)
      })
    })
    this.handle(body, {
      from,
      reply: (v) => {
        if (done) return
        done = true
        cancels.delete(id)
        send(id, 0, v)
        if (awake) stayAwake(REPLY_POLL_MS)
      },
      fail: (e) => {
        if (done) return
        done = true
        cancels.delete(id)
        send(id, 1, e)
        if (awake) stayAwake(REPLY_POLL_MS)
      },
      onCancel: (f) => {
        cancel = f
      }
    })
  }
}

let sessions = 0
let failedHandshakes = 0
/** Batch requests served (for tests of the client's chunking). */
let batches = 0
let server: Server | undefined

/**
 * Starts the server in this (the manager's) process and returns how to reach it.
 */
export const serveManager = Task.make(import.meta, async function serveManager(config: ServeConfig): Promise<ServerInfo> {
  // Every codec of the package (values, queues, locks, ...) must be known where objects are stored.
  await import("../index.ts")
  if (config.initializer) await config.initializer(...(config.initargs ?? []))
  const s = new Server(config.types)
  setLocalServer(s.serverId, (refs) => s.refs(refs, SELF))
  s.actor = Actor.makeUnsafe(Schema.Unknown, {
    receive: (message, request) => s.handle(message, request),
    down: (address) => s.down(address),
    abandoned: (message, value, request) => s.abandoned(message, value, request.from)
  })
  if (config.listen) await s.listen(config.listen)
  server = s
  kernel.atExit(() => s.shutdown())
  return s.info()
}, { name: "serveManager" })

/** For tests: how many TCP handshakes failed on this server. */
export const stats = Task.make(import.meta, function managerStats() {
  return { failedHandshakes, sessions, batches, objects: server?.objects.size ?? 0 }
}, { name: "managerStats" })
