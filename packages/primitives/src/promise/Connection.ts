/**
 * Authenticated connections for async/await code: `Listener`, `Client` and the connection objects
 * they give, as thin classes over the Effect API (`Connection`). Every object that owns a socket
 * closes it with `close()` or `await using`.
 *
 * Python equivalent: `multiprocessing.connection` (`Listener`, `Client`, `Connection`).
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as C from "../Connection.ts"
import { run } from "../internal/facade.ts"
import type { PipeConnection } from "./Pipe.ts"

export { ConnectionError } from "../Connection.ts"

/** Runs a scoped constructor in a Scope of its own, closed if the constructor fails. */
const own = async <A>(effect: Effect.Effect<A, C.ConnectionError, Scope.Scope>): Promise<[A, Scope.Closeable]> => {
  const scope = Scope.makeUnsafe()
  try {
    return [await run(Scope.provide(scope)(effect)), scope]
  } catch (e) {
    await Effect.runPromise(Scope.close(scope, Exit.void))
    throw e
  }
}

/**
 * One authenticated connection (from `Listener.accept()` or `Client()`).
 *
 * Python equivalent: `multiprocessing.connection.Connection`.
 *
 * @example
 * ```ts
 * import { Client } from "@multiproc/primitives/promise"
 * await using conn = await Client({ host: "127.0.0.1", port: 6000 }, { authkey: "secret" })
 * await conn.send({ hello: "world" })
 * console.log(await conn.recv())
 * ```
 * @category models
 * @since 0.1.0
 */
export class Connection {
  /** The Effect-API connection. */
  readonly connection: C.Connection
  private readonly scope: Scope.Closeable
  /** @internal */
  constructor(connection: C.Connection, scope: Scope.Closeable) {
    this.connection = connection
    this.scope = scope
  }
  /** The peer's address (`{ path: "" }` for a client of a Unix socket listener, as in Python). */
  get peer(): C.Address | C.UnixAddress {
    return this.connection.peer
  }
  /** Whether `close` was called here (Python's `closed`). */
  get closed(): boolean {
    return this.connection.closed
  }
  /** Python's `readable`: always true (a network connection is duplex). */
  get readable(): boolean {
    return this.connection.readable
  }
  /** Python's `writable`: always true (a network connection is duplex). */
  get writable(): boolean {
    return this.connection.writable
  }
  /** Python's `send(obj)` (encoded with the runtime codec, never pickle). */
  send(value: unknown): Promise<void> {
    return run(C.send(this.connection, value))
  }
  /** Python's `recv()`; rejects with `ConnectionError` reason `EOF` once the peer closed. */
  recv(): Promise<unknown> {
    return run(C.recv(this.connection))
  }
  /** Python's `send_bytes(buf, offset=0, size=None)`; rejects with `BadArgument` out of range. */
  sendBytes(buf: Uint8Array | ArrayBufferView | ArrayBuffer, offset?: number, size?: number): Promise<void> {
    return run(C.sendBytes(this.connection, buf, offset, size))
  }
  /** Python's `recv_bytes(maxlength=None)`; a longer message rejects with `MessageTooLong`. */
  recvBytes(maxlength?: number): Promise<Uint8Array> {
    return run(C.recvBytes(this.connection, maxlength))
  }
  /** Python's `recv_bytes_into(buf, offset=0)`; `BufferTooShort` carries the message in `data`. */
  recvBytesInto(buf: Uint8Array | ArrayBufferView | ArrayBuffer, offset?: number): Promise<number> {
    return run(C.recvBytesInto(this.connection, buf, offset))
  }
  /** Python's `poll(timeout=0.0)`: no timeout does not wait, `null` waits for ever. */
  poll(timeout?: Duration.Input | null): Promise<boolean> {
    return run(C.poll(this.connection, timeout))
  }
  /** Python's `close()`; idempotent. */
  close(): Promise<void> {
    return Effect.runPromise(Scope.close(this.scope, Exit.void))
  }
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
  toString(): string {
    return String(this.connection)
  }
}

/**
 * A listening socket handing out authenticated connections: TCP (binds 127.0.0.1 unless told
 * otherwise) or, given a path, a Unix socket whose file is removed on close.
 *
 * Python equivalent: `multiprocessing.connection.Listener(address, authkey=...)`.
 *
 * @example
 * ```ts
 * import { Listener } from "@multiproc/primitives/promise"
 * await using listener = await Listener.listen({ authkey: "secret" }) // or { address: "/tmp/app.sock" }
 * console.log(listener.address.port)
 * await using conn = await listener.accept()
 * await conn.send(await conn.recv())
 * ```
 * @category models
 * @since 0.1.0
 */
export class Listener<A extends C.Address | C.UnixAddress = C.Address | C.UnixAddress> {
  /** The Effect-API listener. */
  readonly listener: C.Listener<A>
  private readonly scope: Scope.Closeable
  private constructor(listener: C.Listener<A>, scope: Scope.Closeable) {
    this.listener = listener
    this.scope = scope
  }
  /** Python's `Listener(address=None, authkey=None, backlog=1)`; a string or `{ path }` address is
   * a Unix socket; rejects with `AddressInUse`, or `BadArgument` for an address of unknown shape. */
  static async listen<const O extends C.ListenOptions = {}>(options?: O): Promise<Listener<C.ListenAddress<O>>> {
    const [listener, scope] = await own(C.listen(options))
    return new Listener(listener, scope)
  }
  /** Where it listens (the real port when port 0 was asked for, or the socket's path). */
  get address(): A {
    return this.listener.address
  }
  /** Python's `last_accepted`. */
  get lastAccepted(): A | undefined {
    return this.listener.lastAccepted
  }
  /** Python's `accept()`: the next authenticated connection; rejects with `AuthenticationError`
   * when a peer fails the handshake (call it again for the next peer). */
  async accept(): Promise<Connection> {
    const [connection, scope] = await own(C.accept(this.listener))
    return new Connection(connection, scope)
  }
  /** Python's `close()`: stops accepting and frees the address at once (accepted connections stay
   * open); idempotent. */
  close(): Promise<void> {
    return Effect.runPromise(Scope.close(this.scope, Exit.void))
  }
  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}

/**
 * Connects to a listener (a TCP address, or a Unix socket path) and authenticates both ways.
 *
 * Python equivalent: `multiprocessing.connection.Client(address, authkey=...)`.
 *
 * @example
 * ```ts
 * import { Client } from "@multiproc/primitives/promise"
 * await using conn = await Client({ host: "127.0.0.1", port: 6000 }, { authkey: "secret" })
 * await conn.sendBytes(new TextEncoder().encode("ping"))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const Client = async (address: C.AddressInput, options: C.ConnectOptions = {}): Promise<Connection> => {
  const [connection, scope] = await own(C.connect(address, options))
  return new Connection(connection, scope)
}

/** The Effect-API connection under a facade one (a facade `Connection` or `PipeConnection`). */
const inner = (conn: Connection | PipeConnection): C.Challengeable =>
  typeof conn === "object" && conn !== null && "connection" in conn ? conn.connection : conn

/**
 * Challenges the peer to prove it knows `authkey` (a random challenge, its HMAC checked in
 * constant time, then `#WELCOME#` or `#FAILURE#`); rejects with `ConnectionError` reason
 * `AuthenticationError` for a wrong answer or a reply that is no answer. Works over a network
 * connection or a pipe end; the peer runs {@link answerChallenge} or Python's `answer_challenge`.
 *
 * Python equivalent: `multiprocessing.connection.deliver_challenge(connection, authkey, digest_name='sha256')`.
 *
 * @example
 * ```ts
 * import { answerChallenge, deliverChallenge, Pipe } from "@multiproc/primitives/promise"
 * const [a, b] = Pipe()
 * await Promise.all([deliverChallenge(a, "secret"), answerChallenge(b, "secret")])
 * ```
 * @category authentication
 * @since 0.2.0
 */
export const deliverChallenge = (conn: Connection | PipeConnection, authkey: string | Uint8Array, digestName?: C.DigestName): Promise<void> =>
  run(C.deliverChallenge(inner(conn), authkey, digestName))

/**
 * Answers the peer's challenge with an HMAC made with `authkey`; rejects with `ConnectionError`
 * reason `AuthenticationError` unless the peer welcomes the answer. Works over a network
 * connection or a pipe end; the peer runs {@link deliverChallenge} or Python's `deliver_challenge`.
 *
 * Python equivalent: `multiprocessing.connection.answer_challenge(connection, authkey)`.
 *
 * @example
 * ```ts
 * import { answerChallenge, Client, deliverChallenge } from "@multiproc/primitives/promise"
 * await using conn = await Client({ host: "127.0.0.1", port: 6000 }, { authkey: "secret" })
 * // A second key on top of the first, both ways:
 * await answerChallenge(conn, "second key")
 * await deliverChallenge(conn, "second key")
 * ```
 * @category authentication
 * @since 0.2.0
 */
export const answerChallenge = (conn: Connection | PipeConnection, authkey: string | Uint8Array): Promise<void> =>
  run(C.answerChallenge(inner(conn), authkey))
