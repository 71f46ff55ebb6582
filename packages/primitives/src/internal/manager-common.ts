/**
 * What the manager's server and its clients share: the error type, the request protocol, and the
 * proxy reference that crosses processes (a plain-data description of a served object).
 * @internal
 */
import type { Actor } from "@multiproc/runtime"
import * as kernel from "@multiproc/runtime/internal/kernel"
import { createHash } from "node:crypto"
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
 * - `BadRequest`: a request the server could not decode.
 *
 * @example
 * ```ts
 * import { Manager } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const d: Manager.DictProxy<string, number>
 * const orZero = Manager.getItem(d, "missing").pipe(
 *   Effect.catchTag("ManagerError", (e) => Effect.succeed(e.remoteType === "KeyError" ? 0 : -1))
 * )
 * ```
 * @category errors
 * @since 0.1.0
 */
export class ManagerError extends Schema.TaggedError<ManagerError>()("ManagerError", {
  reason: Schema.Literals(["RemoteError", "NotExposed", "UnknownType", "UnknownObject", "NotConnected", "ServerGone", "StartFailed", "BadRequest"]),
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

type ProxyClass = new(...args: ConstructorParameters<typeof ProxyRef>) => ProxyRef

const classes = new Map<string, ProxyClass>()
let fallback: ProxyClass = ProxyRef

const encodeProxy = (p: ProxyRef) => [p.serverId, p.tree, p.actor.address, p.actor.port, p.tcp ? [p.tcp.host, p.tcp.port] : null, p.id, p.typeid, p.exposed]

const decodeProxy = (x: Array<any>): ProxyRef => {
  const C = classes.get(x[6]) ?? fallback
  return new C(x[0], x[1], { address: x[2], port: x[3] }, x[4] ? { host: x[4][0], port: x[4][1] } : null, x[5], x[6], x[7])
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
