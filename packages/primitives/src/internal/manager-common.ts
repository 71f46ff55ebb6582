/**
 * What the manager's server and its clients share: the error type, the request protocol, and the
 * proxy reference that crosses processes (a plain-data description of a served object).
 * @internal
 */
import type { Actor } from "@multiproc/runtime"
import * as kernel from "@multiproc/runtime/internal/kernel"
import { createHash, randomUUID } from "node:crypto"
import * as Schema from "effect/Schema"
import { Codec } from "@multiproc/runtime"

/**
 * Why a manager or one of its proxies could not do what was asked.
 *
 * - `RemoteError`: the served object threw; `remoteType` and `message` are the original error's,
 *   `cause` the error itself (its class kept when registered with `Codec.registerError`).
 * - `NotExposed`: the method is not exposed by the served type (Python: `RemoteError ... has no attribute`).
 * - `UnknownType`: no type of that name is registered with the manager.
 * - `UnknownObject`: the object was released or the manager restarted.
 * - `NotConnected`: a proxy of a remote (TCP) manager used in a process that did not `connect`.
 * - `ServerGone`: the manager's process has exited or the connection to it was lost.
 * - `StartFailed`: the manager's process or its initializer failed.
 * - `AuthenticationError`: `Manager.connect` with a key the manager does not accept (or a peer
 *   that is no manager), as Python's `multiprocessing.AuthenticationError`.
 * - `BadRequest`: a request the server could not decode.
 * - `InvalidOptions`: `Manager.make` was given options it cannot use (an initializer that is not a Task, ...).
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const d: Manager.DictProxy<string, number>
 * const orZero = d.getItem("missing").pipe(
 *   Effect.catchTag("ManagerError", (e) => Effect.succeed(e.remoteType === "KeyError" ? 0 : -1))
 * )
 * ```
 * @category errors
 * @since 0.1.0
 */
export class ManagerError extends Schema.TaggedError<ManagerError>()("ManagerError", {
  reason: Schema.Literals(["RemoteError", "NotExposed", "UnknownType", "UnknownObject", "NotConnected", "ServerGone", "StartFailed", "AuthenticationError", "BadRequest", "InvalidOptions"]),
  message: Schema.String,
  remoteType: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect())
}) {}

Codec.registerError(ManagerError)

/** A Python-style exception raised by a served built-in type (KeyError, IndexError, ...). */
export const pyError = (type: string, message: string): Error => {
  const e = new Error(message)
  e.name = type
  return e
}

/** The request protocol, validated where it arrives (actor mailbox or TCP frame). */
export const Request = Schema.Union([
  Schema.Struct({ op: Schema.Literal("create"), typeid: Schema.String, args: Schema.Array(Schema.Unknown) }),
  Schema.Struct({ op: Schema.Literal("call"), id: Schema.Number, method: Schema.String, args: Schema.Array(Schema.Unknown) }),
  // Flat groups: `id, method, argc, count, ...args` (checked where it arrives).
  Schema.Struct({ op: Schema.Literal("batch"), calls: Schema.Array(Schema.Unknown) }),
  Schema.Struct({ op: Schema.Literal("release"), id: Schema.Number }),
  // Reference counting: flat triples `kind, id, token` (see "Reference counting" below).
  Schema.Struct({ op: Schema.Literal("refs"), refs: Schema.Array(Schema.Unknown) }),
  Schema.Struct({ op: Schema.Literal("info") }),
  // Where a child process of the tree reaches the server directly (see `Manager.ts`, localTransport).
  Schema.Struct({ op: Schema.Literal("local") }),
  Schema.Struct({ op: Schema.Literal("shutdown") })
])
export type Request = typeof Request.Type

/** The identity of a process tree: every process of one tree shares its authkey. */
export const treeId = (): string => createHash("sha256").update("multiproc-tree:" + kernel.self.authkey).digest("hex").slice(0, 24)

/** The data a proxy carries; the typed proxy classes of `Manager.ts` extend it. */
export class ProxyRef {
  /** The manager server's unique id. */
  readonly serverId: string
  /** The process tree the server's actor lives in. */
  readonly tree: string
  /** The server's actor (valid inside `tree`). */
  readonly actor: Actor.ActorRef<unknown>
  /** The server's TCP address, when it listens. */
  readonly tcp: { readonly host: string; readonly port: number } | null
  /** The object's id on the server. */
  readonly id: number
  readonly typeid: string
  /** The methods that may be called; `null` = every public method. */
  readonly exposed: ReadonlyArray<string> | null
  constructor(
    serverId: string,
    tree: string,
    actor: Actor.ActorRef<unknown>,
    tcp: { readonly host: string; readonly port: number } | null,
    id: number,
    typeid: string,
    exposed: ReadonlyArray<string> | null
  ) {
    this.serverId = serverId
    this.tree = tree
    this.actor = actor
    this.tcp = tcp
    this.id = id
    this.typeid = typeid
    this.exposed = exposed
  }
  toString(): string {
    return `<${this.constructor.name} object, typeid '${this.typeid}' at ${this.serverId}#${this.id}>`
  }
}

// ---- reference counting ---------------------------------------------------------------------------
//
// A served object lives while some process holds a proxy of it (Python's BaseProxy._incref /
// _decref), while a proxy of it is on its way somewhere, or while a proxy of it is stored inside
// another served object. The rule, per server:
//
// - Each process counts its live proxy objects per referent. Every decoded proxy tells the server
//   "this process holds it" (HOLD, idempotent per process); when the last one of a referent in
//   the process is garbage-collected (FinalizationRegistry), the process sends DROP. A process
//   that dies (or whose session ends) drops everything it held (`down`).
// - Encoding a proxy (a message to a child, an item put in a queue, a reply) PINs the referent
//   under a fresh token carried in the encoded proxy; decoding it HOLDs with that token, which
//   unpins it. So a proxy in flight keeps its referent alive even if the sender drops its own
//   proxy at once: the sender's PIN and its later DROP travel in order on the sender's one channel
//   to the server, and the receiver's HOLD may overtake the PIN (the token is then remembered as
//   claimed early, and the PIN, when it comes, pins nothing).
// - The server's own process is a holder like any other (key `#self`), applied at once: a proxy
//   stored in a served dict, list or queue is a live proxy object there, so a nested referent
//   lives as long as its container does (and the server's GC, after the container is freed,
//   drops it).
// - A referent with no holder and no pin is freed. Nothing is freed on the per-call path: only
//   proxies crossing a boundary and collected proxies cost anything.
//
// Conservative failures: a message carrying a proxy that is never decoded (a queue never read, a
// process that cannot reach the server) leaves its pin, so the referent stays until shutdown;
// a reference cycle through served containers is never freed (as in Python). `drop()` still frees
// at once.

/** Reference operations: `kind, id, token` (token null when none). */
export const PIN = 0
export const HOLD = 1
export const DROP = 2

/** How to reach a server (what `Manager.ts` needs to build a transport), without a proxy. */
export interface Route {
  readonly serverId: string
  readonly tree: string
  readonly actor: Actor.ActorRef<unknown>
  readonly tcp: { readonly host: string; readonly port: number } | null
}

/** The server of this very process, which applies its reference operations at once. */
let localServer: { readonly serverId: string; readonly apply: (refs: ReadonlyArray<unknown>) => void } | undefined
/** Sends reference operations to a server in another process (set by `Manager.ts`). */
let sendRefs: ((route: Route, refs: Array<unknown>) => void) | undefined

/** Called by the server when it serves in this process. */
export const setLocalServer = (serverId: string, apply: (refs: ReadonlyArray<unknown>) => void): void => {
  localServer = { serverId, apply }
}

/** Called by `Manager.ts`: where other servers' reference operations go. */
export const setRefSender = (f: (route: Route, refs: Array<unknown>) => void): void => {
  sendRefs = f
}

const tokenBase = randomUUID().slice(0, 13)
let tokens = 0
const nextToken = (): string => tokenBase + (tokens++).toString(36)

/** Operations waiting for the end of the tick, by server (sent from a microtask: an encode hook
 * must not encode another message). */
const outbox = new Map<string, { readonly route: Route; readonly refs: Array<unknown> }>()
let flushing = false

const flushRefs = (): void => {
  flushing = false
  const batches = [...outbox.values()]
  outbox.clear()
  for (const b of batches) sendRefs?.(b.route, b.refs)
}

const refOp = (route: Route, kind: number, id: number, token: string | null): void => {
  if (localServer !== undefined && localServer.serverId === route.serverId) return localServer.apply([kind, id, token])
  let b = outbox.get(route.serverId)
  if (b === undefined) outbox.set(route.serverId, b = { route: { serverId: route.serverId, tree: route.tree, actor: route.actor, tcp: route.tcp }, refs: [] })
  b.refs.push(kind, id, token)
  if (!flushing) {
    flushing = true
    queueMicrotask(flushRefs)
  }
}

/** The live proxy objects of one referent in this process. */
class Held {
  readonly key: string
  readonly route: Route
  readonly id: number
  count = 0
  constructor(key: string, route: Route, id: number) {
    this.key = key
    this.route = route
    this.id = id
  }
}

const held = new Map<string, Held>()

const collected = new FinalizationRegistry<Held>((h) => {
  if (--h.count > 0) return
  if (held.get(h.key) === h) held.delete(h.key)
  refOp(h.route, DROP, h.id, null)
})

/** A decoded proxy: counted here, and the server told this process holds it (unpinning `token`). */
const track = (p: ProxyRef, token: string | null): void => {
  const key = p.serverId + "#" + p.id
  let h = held.get(key)
  // The route is copied: the entry must not keep the proxy itself alive.
  if (h === undefined) held.set(key, h = new Held(key, { serverId: p.serverId, tree: p.tree, actor: p.actor, tcp: p.tcp }, p.id))
  h.count++
  collected.register(p, h)
  if (h.count === 1 || token !== null) refOp(h.route, HOLD, p.id, token)
}

type ProxyClass = new(...args: ConstructorParameters<typeof ProxyRef>) => ProxyRef

const classes = new Map<string, ProxyClass>()
let fallback: ProxyClass = ProxyRef

const encodeProxy = (p: ProxyRef) => {
  const token = nextToken()
  refOp(p, PIN, p.id, token)
  return [p.serverId, p.tree, p.actor.address, p.actor.port, p.tcp ? [p.tcp.host, p.tcp.port] : null, p.id, p.typeid, p.exposed, token]
}

const decodeProxy = (x: Array<any>): ProxyRef => {
  const C = classes.get(x[6]) ?? fallback
  const p = new C(x[0], x[1], { address: x[2], port: x[3] }, x[4] ? { host: x[4][0], port: x[4][1] } : null, x[5], x[6], x[7])
  track(p, typeof x[8] === "string" ? x[8] : null)
  return p
}

/** Makes proxies of `typeid` decode as `Class` (the generic class when typeid is undefined). */
export const registerProxyClass = (typeid: string | undefined, Class: ProxyClass): void => {
  if (typeid === undefined) fallback = Class
  else classes.set(typeid, Class)
  Codec.register({ tag: "multiproc/Manager/Proxy", Class: Class as any, encode: encodeProxy as any, decode: decodeProxy })
}

registerProxyClass(undefined, ProxyRef)

/** Builds a proxy of the right class. */
export const makeProxy = (
  serverId: string,
  tree: string,
  actor: Actor.ActorRef<unknown>,
  tcp: { host: string; port: number } | null,
  id: number,
  typeid: string,
  exposed: ReadonlyArray<string> | null
): ProxyRef => {
  const C = classes.get(typeid) ?? fallback
  return new C(serverId, tree, actor, tcp, id, typeid, exposed)
}

/** What the server reports about itself. */
export interface ServerInfo {
  readonly serverId: string
  readonly tree: string
  readonly actor: Actor.ActorRef<unknown>
  readonly tcp: { readonly host: string; readonly port: number } | null
  readonly types: ReadonlyArray<string>
}
