/**
 * Connection: authenticated message connections over TCP or a Unix socket, for talking to
 * processes outside the process tree (a remote manager, a service on another machine).
 *
 * - Every connection is authenticated both ways before any message is read: Python 3.12's HMAC
 *   challenge–response (SHA-256, constant-time comparison; a peer running Python 3.11 or older,
 *   which answers and challenges with a raw HMAC-MD5, is served as Python 3.12 serves it, so a
 *   Python program's `Client` / `Listener` with the same key can talk bytes with ours). A wrong
 *   key fails on both sides with `ConnectionError` reason `AuthenticationError`; nothing an
 *   unauthenticated peer sends reaches the program. The two halves are also exported on their own
 *   (`deliverChallenge`, `answerChallenge`), over a network connection or a pipe end.
 * - Messages are length-prefixed frames with a maximum size (64 MiB by default); a bigger frame
 *   ends the connection instead of exhausting memory. Values are encoded with the runtime's data
 *   only codec (msgpackr), never pickle: receiving cannot run code.
 * - Listeners bind `127.0.0.1` unless told otherwise, and an address in use is a clear error.
 * - Addresses are read as Python reads them: a string is a Unix socket path (on Linux, a name
 *   starting with `"\0"` is abstract; one starting with `\\` is a Windows named pipe, refused
 *   elsewhere), `[host, port]` or `{ host, port }` is TCP, and anything else fails with
 *   `BadArgument`. A listener on a path removes its socket file when it closes.
 *
 * Python equivalent: `multiprocessing.connection` (`Listener`, `Client`, `Connection`,
 * `deliver_challenge`, `answer_challenge`).
 *
 * @since 0.1.0
 */
import { Codec } from "@multiproc/runtime"
import * as kernel from "@multiproc/runtime/internal/kernel"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { randomBytes } from "node:crypto"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Bytes from "./internal/bytes.ts"
import * as wire from "./internal/wire.ts"
import { describe, unknownOption } from "./internal/args.ts"
import type * as Pipe from "./Pipe.ts"

/**
 * Why a connection could not do what was asked.
 *
 * - `AddressInUse`: the listening address is taken (Python: `OSError: [Errno 98]`).
 * - `ConnectFailed`: nothing listens there, or the network failed.
 * - `AuthenticationError`: the peer does not know the key (Python: `AuthenticationError`); the
 *   message says to pass the same `authkey` to both ends.
 * - `FrameTooLarge`: a frame above the maximum size (the connection is closed).
 * - `Closed`: the connection or listener was closed here (Python: `OSError: handle is closed`).
 * - `EOF`: the peer closed the connection and nothing is left to read (Python: `EOFError`).
 * - `Timeout`: the handshake took too long.
 * - `BadMessage`: a frame that does not decode.
 * - `MessageTooLong`: `recvBytes(maxlength)` got a longer message (it is dropped; Python:
 *   `OSError: bad message length`).
 * - `BufferTooShort`: `recvBytesInto` got a message larger than the buffer; `data` carries it.
 * - `BadArgument`: an address of an unknown shape, or an offset, size or maxlength out of range
 *   (Python `ValueError`).
 *
 * @example
 * ```ts
 * import { Connection } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const orNull = <A>(e: Effect.Effect<A, Connection.ConnectionError>) =>
 *   e.pipe(Effect.catchTag("ConnectionError", (err) => Effect.succeed(err.reason === "EOF" ? null : undefined)))
 * ```
 * @category errors
 * @since 0.1.0
 */
export class ConnectionError extends Schema.TaggedError<ConnectionError>()("ConnectionError", {
  reason: Schema.Literals([
    "AddressInUse",
    "ConnectFailed",
    "AuthenticationError",
    "FrameTooLarge",
    "Closed",
    "EOF",
    "Timeout",
    "BadMessage",
    "MessageTooLong",
    "BufferTooShort",
    "BadArgument"
  ]),
  message: Schema.String,
  cause: Schema.optional(Schema.Defect()),
  data: Schema.optional(Schema.Unknown)
}) {}

Codec.registerError(ConnectionError)

/** A TCP address. */
export interface Address {
  readonly host: string
  readonly port: number
}

/**
 * A Unix socket address: a filesystem path or, on Linux, an abstract name starting with `"\0"`.
 *
 * Python equivalent: an `AF_UNIX` address (a string such as `'/tmp/app.sock'`).
 *
 * @example
 * ```ts
 * import type { Connection } from "@multiproc/primitives"
 * const file: Connection.UnixAddress = { path: "/tmp/app.sock" }
 * const abstract: Connection.UnixAddress = { path: "\0app" } // Linux only, no file
 * ```
 * @category models
 * @since 0.1.0
 */
export interface UnixAddress {
  readonly path: string
}

/**
 * An address as {@link listen} and {@link connect} take it, read as Python's `address_type`
 * reads it: a string is a Unix socket path, a `[host, port]` pair or `{ host, port }` is TCP.
 *
 * Python equivalent: the `address` of `Listener` and `Client` (`AF_UNIX` string or `AF_INET` tuple).
 *
 * @example
 * ```ts
 * import type { Connection } from "@multiproc/primitives"
 * const unix: Array<Connection.AddressInput> = ["/tmp/app.sock", { path: "/tmp/app.sock" }]
 * const tcp: Array<Connection.AddressInput> = [["127.0.0.1", 6000], { host: "127.0.0.1", port: 6000 }]
 * ```
 * @category models
 * @since 0.1.0
 */
export type AddressInput = Address | UnixAddress | readonly [host: string, port: number] | string

/** Options shared by {@link listen} and {@link connect}. */
export interface CommonOptions {
  /**
   * The shared secret. Defaults to this process tree's authkey (`current_process().authkey`), so a
   * program outside the tree needs the same explicit key on both ends; Python's default (`None`)
   * does no authentication at all.
   */
  readonly authkey?: string | Uint8Array | undefined
  /** The largest frame accepted, in bytes. Default 64 MiB. */
  readonly maxFrameSize?: number | undefined
  /** How long the handshake may take. Default 10 seconds. */
  readonly handshakeTimeout?: Duration.Input | undefined
}

/** Options of {@link listen}. */
export interface ListenOptions extends CommonOptions {
  /** A Unix socket path, or a TCP address that defaults to `127.0.0.1` and a free port (port 0). */
  readonly address?: Partial<Address> | UnixAddress | readonly [host: string, port: number] | string | undefined
  /** Python's `backlog`. Default 128. */
  readonly backlog?: number | undefined
  /**
   * Python's `family`, for a listener without `address`: `"AF_UNIX"` listens on a fresh socket
   * file in the temporary directory (`listener-…`), `"AF_INET"` on `127.0.0.1` and a free port
   * (the default: Python's default on Unix is `AF_UNIX`). `"AF_PIPE"` is Windows' (a named pipe).
   * A family the address or the platform does not have fails with `BadArgument`.
   */
  readonly family?: "AF_INET" | "AF_UNIX" | "AF_PIPE" | undefined
}

/**
 * The address a listener started with options `O` reports: a Unix one for a path, else TCP.
 *
 * Python equivalent: `Listener.address` (a string for `AF_UNIX`, a tuple for `AF_INET`).
 *
 * @example
 * ```ts
 * import type { Connection } from "@multiproc/primitives"
 * type Unix = Connection.ListenAddress<{ address: "/tmp/app.sock" }> // Connection.UnixAddress
 * type Tcp = Connection.ListenAddress<{ authkey: "secret" }> // Connection.Address
 * ```
 * @category models
 * @since 0.1.0
 */
export type ListenAddress<O extends ListenOptions> = O extends { readonly address: string | UnixAddress } ? UnixAddress
  : O extends { readonly family: "AF_UNIX" | "AF_PIPE" } ? UnixAddress
  : O extends { readonly address: Partial<Address> | readonly [string, number] | undefined } ? Address
  // No `address` at all is TCP; an `address` known only as ListenOptions' union could be either.
  : "address" extends keyof O ? Address | UnixAddress
  : Address

const show = (u: unknown): string => {
  try {
    return JSON.stringify(u) ?? String(u)
  } catch {
    return String(u)
  }
}

/** An address checked at the entry: a Unix path, or a complete TCP address. */
type Where = { readonly path: string } | { readonly path?: undefined; readonly host: string; readonly port: number }

const badAddress = (address: unknown, why = "unrecognized"): ConnectionError =>
  new ConnectionError({
    reason: "BadArgument",
    message: `address type of ${show(address)} ${why}: pass a Unix socket path (a string or { path }), or a TCP address ({ host, port } or [host, port])`
  })

/** A path starting with `\\` is a Windows named pipe (Python's `AF_PIPE`): elsewhere Python's
 * Listener and Client refuse it (ValueError) rather than make a socket file of that name. */
const pathOf = (path: string): Where | ConnectionError =>
  path.startsWith("\\\\") && process.platform !== "win32"
    ? badAddress(path, "is a Windows named pipe, which this platform does not have")
    : { path }

let arbitrary = 0

/** Python's `Listener(address, family)`: a missing address is an arbitrary one of the family
 * (Python's `arbitrary_address`); a family the platform or the address does not have is refused
 * (Python: ValueError, or the socket's own error for a mismatched address). */
const withFamily = (family: ListenOptions["family"], address: unknown): Where | ConnectionError => {
  if (family === undefined) return where(address, true)
  const windows = process.platform === "win32"
  const known = family === "AF_INET" || (family === "AF_UNIX" && !windows) || (family === "AF_PIPE" && windows)
  if (!known) {
    return new ConnectionError({ reason: "BadArgument", message: `Family ${String(family)} is not recognized.` })
  }
  if (address === undefined) {
    if (family === "AF_INET") return { host: "127.0.0.1", port: 0 }
    const name = `listener-${process.pid}-${++arbitrary}-${randomBytes(4).toString("hex")}`
    return { path: family === "AF_PIPE" ? `\\\\.\\pipe\\${name}` : join(tmpdir(), name) }
  }
  const w = where(address, true)
  if (w instanceof ConnectionError || (w.path === undefined) === (family === "AF_INET")) return w
  return badAddress(address, `is not an ${family} address`)
}

/** Python's `address_type`, strict: what is neither a path nor a TCP address is an error, never a default. */
const where = (address: unknown, listening: boolean): Where | ConnectionError => {
  if (address === undefined && listening) return { host: "127.0.0.1", port: 0 }
  if (typeof address === "string") return address.length > 0 ? pathOf(address) : badAddress(address, "is an empty path")
  let host: unknown, port: unknown
  if (Array.isArray(address) && address.length === 2) [host, port] = address
  else if (typeof address === "object" && address !== null && !Array.isArray(address)) {
    const keys = Object.keys(address)
    if (keys.includes("path")) {
      const path = (address as UnixAddress).path
      return keys.length === 1 && typeof path === "string" && path.length > 0 ? pathOf(path) : badAddress(address)
    }
    if (!keys.every((k) => k === "host" || k === "port")) return badAddress(address)
    ;({ host, port } = address as Partial<Address>)
    if (listening) {
      host ??= "127.0.0.1"
      port ??= 0
    }
  } else return badAddress(address)
  if (typeof host !== "string") return badAddress(address, "has no host")
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) return badAddress(address, "has no port (an integer from 0 to 65535)")
  return { host, port }
}

const addressOf = (w: Where): Address | UnixAddress => w.path !== undefined ? { path: w.path } : { host: w.host, port: w.port }

/** What `wire` takes: host and port, or a path (host and port unused). */
const wireAddress = (w: Where): { host: string; port: number; path?: string } =>
  w.path !== undefined ? { host: "", port: 0, path: w.path } : { host: w.host, port: w.port }

/** Unlike Python (no authentication by default), both ends default to the tree's key: say so. */
const AUTH_HINT = "pass the same `authkey` to both ends; by default a Listener and a Client use this process tree's key"

const fromWire = (e: unknown): ConnectionError =>
  e instanceof wire.WireError
    ? new ConnectionError({
      reason: e.reason,
      message: e.reason === "AuthenticationError" ? `${e.message} (${AUTH_HINT})` : e.message,
      ...(e.cause === undefined ? {} : { cause: e.cause })
    })
    : new ConnectionError({ reason: "ConnectFailed", message: String((e as Error)?.message ?? e), cause: e })

/**
 * The key a connection authenticates with, as bytes. @internal
 *
 * @example
 * ```ts
 * import { Connection } from "@multiproc/primitives"
 * const key = Connection.keyOf("secret") // the bytes used for the HMAC handshake
 * ```
 */
// Python's TypeError "authkey should be a byte string", where a number failed deep in the
// handshake as ConnectFailed with Node's own message.
const badAuthkey = (authkey: unknown): ConnectionError | undefined =>
  authkey == null || typeof authkey === "string" || authkey instanceof Uint8Array
    ? undefined
    : new ConnectionError({ reason: "BadArgument", message: `authkey must be a string or a Uint8Array, got ${describe(authkey)}` })

const connectOptions = ["authkey", "maxFrameSize", "handshakeTimeout"]
const listenOptions = [...connectOptions, "address", "backlog", "family"]

// Python's "unexpected keyword argument": a misspelt `authKey` was ignored, and both ends then
// silently used the default key.
const badOption = (options: object, known: ReadonlyArray<string>): ConnectionError | undefined => {
  const message = unknownOption(options, known)
  return message === undefined ? undefined : new ConnectionError({ reason: "BadArgument", message })
}

export const keyOf = (authkey: string | Uint8Array | undefined): Buffer => wire.toKey(authkey ?? kernel.self.authkey)

const fromProblem = (p: Bytes.Problem): ConnectionError => new ConnectionError(p)

const millis = (d: Duration.Input | undefined, fallback: number): number =>
  d === undefined ? fallback : Duration.toMillis(Duration.fromInputUnsafe(d))

/**
 * An authenticated, message-oriented, bidirectional connection.
 *
 * Python equivalent: `multiprocessing.connection.Connection`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Connection {
  /** The peer's address (`{ path: "" }` for a client of a Unix socket listener, as in Python). */
  readonly peer: Address | UnixAddress
  /** Whether `close` was called here. */
  readonly closed: boolean
  /** Always true: a network connection is duplex (Python's `readable`). */
  readonly readable: boolean
  /** Always true: a network connection is duplex (Python's `writable`). */
  readonly writable: boolean
  /** @internal */
  readonly socket: wire.FrameSocket
}

class ConnectionImpl implements Connection {
  readonly socket: wire.FrameSocket
  readonly peer: Address | UnixAddress
  readonly readable = true
  readonly writable = true
  constructor(socket: wire.FrameSocket, peer: Address | UnixAddress) {
    this.socket = socket
    this.peer = peer
  }
  get closed(): boolean {
    return this.socket.closedLocally
  }
  toString(): string {
    const peer = "path" in this.peer ? this.peer.path : `${this.peer.host}:${this.peer.port}`
    return `<Connection ${peer}${this.closed ? " closed" : ""}>`
  }
}

/**
 * Wraps an authenticated frame socket. @internal
 *
 * @example
 * ```ts
 * import { Connection } from "@multiproc/primitives"
 * declare const socket: Parameters<typeof Connection.fromSocket>[0]
 * const conn = Connection.fromSocket(socket, { host: "127.0.0.1", port: 6000 })
 * ```
 */
export const fromSocket = (socket: wire.FrameSocket, peer: Address | UnixAddress): Connection => new ConnectionImpl(socket, peer)

/**
 * Whether a value is a network connection (what {@link connect} and {@link accept} give).
 *
 * @example
 * ```ts
 * import { Connection } from "@multiproc/primitives"
 * Connection.isConnection({}) // false
 * ```
 * @category guards
 * @since 0.2.0
 */
export const isConnection = (u: unknown): u is Connection => u instanceof ConnectionImpl

/**
 * A listening socket that hands out authenticated connections.
 *
 * Python equivalent: `multiprocessing.connection.Listener`.
 *
 * @category models
 * @since 0.1.0
 */
export interface Listener<A extends Address | UnixAddress = Address | UnixAddress> {
  /** Where it listens (the real port when port 0 was asked for, or the socket's path). */
  readonly address: A
  /** The peer of the last accepted connection (Python's `last_accepted`). */
  readonly lastAccepted: A | undefined
  /** @internal */
  readonly core: wire.WireListener
}

class ListenerImpl implements Listener {
  lastAccepted: Address | UnixAddress | undefined = undefined
  readonly core: wire.WireListener
  constructor(core: wire.WireListener) {
    this.core = core
  }
  get address(): Address | UnixAddress {
    const path = this.core.options.path
    return path !== undefined ? { path } : { host: this.core.host, port: this.core.port }
  }
}

/**
 * Listens on a TCP address or a Unix socket for as long as the Scope lives; closing the Scope
 * frees the address at once (and removes the socket file). An address of an unknown shape fails
 * with `BadArgument`, a taken one with `AddressInUse`.
 *
 * Python equivalent: `Listener(address=('127.0.0.1', 0), authkey=...)`; `Listener('/tmp/sock')`.
 *
 * @example
 * ```ts
 * import { Connection } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const listener = yield* Connection.listen({ authkey: "secret" }) // or { address: "/tmp/app.sock" }
 *   const conn = yield* Connection.accept(listener)
 *   yield* Connection.send(conn, yield* Connection.recv(conn))
 * }))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const listen = <const O extends ListenOptions = {}>(
  options?: O
): Effect.Effect<Listener<ListenAddress<O>>, ConnectionError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.suspend(() => {
      const o: ListenOptions = options ?? {}
      // `listen({ path })` or `listen({ port })` would otherwise listen on a random TCP port.
      const misplaced = ["path", "host", "port"].find((k) => k in o)
      if (misplaced !== undefined) {
        return Effect.fail(badAddress({ [misplaced]: (o as Record<string, unknown>)[misplaced] }, "given outside `address`"))
      }
      const w = badOption(o, listenOptions) ?? badAuthkey(o.authkey) ?? withFamily(o.family, o.address)
      if (w instanceof ConnectionError) return Effect.fail(w)
      return Effect.tryPromise({
        try: async () => {
          const core = new wire.WireListener({
            ...wireAddress(w),
            backlog: o.backlog ?? 128,
            key: keyOf(o.authkey),
            maxFrame: o.maxFrameSize ?? wire.DEFAULT_MAX_FRAME,
            handshakeTimeoutMs: millis(o.handshakeTimeout, 10_000)
          })
          await core.listen()
          return new ListenerImpl(core) as Listener<any>
        },
        catch: fromWire
      })
    }),
    (listener) => Effect.promise(() => listener.core.close())
  )

/**
 * Waits for the next authenticated connection. A peer that fails the handshake makes this fail
 * with `AuthenticationError` (as Python's `accept` does); call it again for the next peer.
 * The connection is closed with the Scope.
 *
 * Python equivalent: `Listener.accept()`.
 *
 * @example
 * ```ts
 * import { Connection } from "@multiproc/primitives"
 * declare const listener: Connection.Listener
 * const conn = Connection.accept(listener)
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const accept = (listener: Listener): Effect.Effect<Connection, ConnectionError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<Connection, ConnectionError>((resume) => {
      const cancel = listener.core.accept((a) => {
        if (a.ok) {
          // A Unix socket client is unnamed: Python's `last_accepted` is '' for it.
          const peer = listener.core.options.path !== undefined ? { path: "" } : a.peer
          ;(listener as ListenerImpl).lastAccepted = peer
          resume(Effect.succeed(new ConnectionImpl(a.conn, peer)))
        } else resume(Effect.fail(fromWire(a.error)))
      })
      return Effect.sync(cancel)
    }),
    (conn) => Effect.sync(() => conn.socket.close())
  )

/**
 * Closes a listener now (its Scope would close it anyway): it stops accepting and frees its
 * address; the connections it already accepted stay open.
 *
 * Python equivalent: `Listener.close()`.
 *
 * @example
 * ```ts
 * import { Connection } from "@multiproc/primitives"
 * declare const listener: Connection.Listener
 * const done = Connection.closeListener(listener)
 * ```
 * @category lifecycle
 * @since 0.1.0
 */
export const closeListener = (listener: Listener): Effect.Effect<void> => Effect.promise(() => listener.core.close())

/** Options of {@link connect}. */
export interface ConnectOptions extends CommonOptions {}

/**
 * Connects to a listener (a TCP address or a Unix socket path) and authenticates both ways; the
 * connection is closed with the Scope. An address of an unknown shape fails with `BadArgument`.
 *
 * Python equivalent: `multiprocessing.connection.Client(address, authkey=...)`.
 *
 * @example
 * ```ts
 * import { Connection } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const conn = yield* Connection.connect({ host: "127.0.0.1", port: 6000 }, { authkey: "secret" })
 *   yield* Connection.send(conn, { hello: "world" })
 *   const local = yield* Connection.connect("/tmp/app.sock", { authkey: "secret" })
 *   yield* Connection.send(local, "over a Unix socket")
 * }))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const connect = (address: AddressInput, options: ConnectOptions = {}): Effect.Effect<Connection, ConnectionError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.suspend(() => {
      const w = badOption(options, connectOptions) ?? badAuthkey(options.authkey) ?? where(address, false)
      if (w instanceof ConnectionError) return Effect.fail(w)
      return Effect.tryPromise({
        try: async () => {
          const socket = await wire.connect({
            ...wireAddress(w),
            key: keyOf(options.authkey),
            maxFrame: options.maxFrameSize ?? wire.DEFAULT_MAX_FRAME,
            handshakeTimeoutMs: millis(options.handshakeTimeout, 10_000)
          })
          return new ConnectionImpl(socket, addressOf(w)) as Connection
        },
        catch: fromWire
      })
    }),
    (conn) => Effect.sync(() => conn.socket.close())
  )

const writeFrame = (conn: Connection, bytes: Uint8Array): Effect.Effect<void, ConnectionError> =>
  Effect.callback<void, ConnectionError>((resume) => {
    if (bytes.length > conn.socket.maxFrame) {
      return resume(Effect.fail(new ConnectionError({ reason: "FrameTooLarge", message: `a message of ${bytes.length} bytes exceeds the maximum frame size of ${conn.socket.maxFrame}` })))
    }
    let ok: boolean
    try {
      ok = conn.socket.send(bytes)
    } catch (e) {
      return resume(Effect.fail(fromWire(e)))
    }
    if (ok) return resume(Effect.void)
    // Back-pressure: wait until the socket's buffer drained (or the connection ended).
    const socket = conn.socket.socket
    const done = () => {
      socket.off("drain", done)
      socket.off("close", done)
      resume(Effect.void)
    }
    socket.on("drain", done)
    socket.on("close", done)
    return Effect.sync(() => {
      socket.off("drain", done)
      socket.off("close", done)
    })
  })

/**
 * Sends `size` bytes from `offset` as one message (defaults: all of it; boundaries are kept and
 * empty messages are allowed); an out-of-range offset or size fails with `BadArgument`.
 *
 * Python equivalent: `Connection.send_bytes(buf, offset=0, size=None)`.
 *
 * @example
 * ```ts
 * import { Connection } from "@multiproc/primitives"
 * declare const conn: Connection.Connection
 * const sent = Connection.sendBytes(conn, new TextEncoder().encode("ping pong"), 5) // "pong"
 * ```
 * @category messages
 * @since 0.1.0
 */
export const sendBytes = (
  conn: Connection,
  buf: Uint8Array | ArrayBufferView | ArrayBuffer,
  offset = 0,
  size?: number
): Effect.Effect<void, ConnectionError> =>
  Bytes.sendBytes(buf, offset, size, (view) => writeFrame(conn, view), fromProblem)

const recvFrame = (conn: Connection): Effect.Effect<Uint8Array, ConnectionError> =>
  Effect.callback<Uint8Array, ConnectionError>((resume) => {
    if (conn.socket.closedLocally) return resume(Effect.fail(new ConnectionError({ reason: "Closed", message: "the connection is closed" })))
    const cancel = conn.socket.recvCallback(
      (frame) => resume(Effect.succeed(new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength))),
      (e) => resume(Effect.fail(fromWire(e)))
    )
    return Effect.sync(cancel)
  })

/**
 * Receives one message as raw bytes; fails with `EOF` once the peer closed and nothing is left,
 * and with `MessageTooLong` (the message is dropped) if it is longer than `maxlength`.
 *
 * Python equivalent: `Connection.recv_bytes(maxlength=None)`.
 *
 * @example
 * ```ts
 * import { Connection } from "@multiproc/primitives"
 * declare const conn: Connection.Connection
 * const bytes = Connection.recvBytes(conn, 1024)
 * ```
 * @category messages
 * @since 0.1.0
 */
export const recvBytes = (conn: Connection, maxlength?: number): Effect.Effect<Uint8Array, ConnectionError> =>
  Bytes.recvBytes(recvFrame(conn), maxlength, fromProblem)

/**
 * Receives one message into `buf` at byte `offset` and returns its length; a message that does
 * not fit fails with `BufferTooShort`, whose `data` is the whole message.
 *
 * Python equivalent: `Connection.recv_bytes_into(buf, offset=0)`.
 *
 * @example
 * ```ts
 * import { Connection } from "@multiproc/primitives"
 * declare const conn: Connection.Connection
 * const buf = new Uint8Array(64)
 * const n = Connection.recvBytesInto(conn, buf, 8)
 * ```
 * @category messages
 * @since 0.1.0
 */
export const recvBytesInto = (
  conn: Connection,
  buf: Uint8Array | ArrayBufferView | ArrayBuffer,
  offset = 0
): Effect.Effect<number, ConnectionError> =>
  Bytes.recvBytesInto(recvFrame(conn), buf, offset, fromProblem)

/**
 * Sends a value, encoded with the runtime codec.
 *
 * Python equivalent: `Connection.send(obj)` (without pickle's code execution on the other side).
 *
 * @example
 * ```ts
 * import { Connection } from "@multiproc/primitives"
 * declare const conn: Connection.Connection
 * const sent = Connection.send(conn, new Map([["a", 1]]))
 * ```
 * @category messages
 * @since 0.1.0
 */
export const send = (conn: Connection, value: unknown): Effect.Effect<void, ConnectionError | Codec.SerializationError> =>
  Effect.flatMap(Codec.encode(value), (bytes) => writeFrame(conn, bytes))

/**
 * Receives a value sent with {@link send}; a frame that does not decode fails with `BadMessage`.
 *
 * Python equivalent: `Connection.recv()`.
 *
 * @example
 * ```ts
 * import { Connection } from "@multiproc/primitives"
 * declare const conn: Connection.Connection
 * const value = Connection.recv(conn)
 * ```
 * @category messages
 * @since 0.1.0
 */
export const recv = (conn: Connection): Effect.Effect<unknown, ConnectionError> =>
  Effect.flatMap(recvFrame(conn), (bytes) =>
    Effect.mapError(Codec.decode(bytes), (e) => new ConnectionError({ reason: "BadMessage", message: e.message, cause: e })))

/**
 * Whether a message (or the end of the connection) can be read without waiting, waiting at most
 * `timeout` (no timeout: do not wait; `null` or `"infinity"`: wait forever).
 *
 * Python equivalent: `Connection.poll(timeout)`.
 *
 * @example
 * ```ts
 * import { Connection } from "@multiproc/primitives"
 * declare const conn: Connection.Connection
 * const ready = Connection.poll(conn, "100 millis")
 * ```
 * @category messages
 * @since 0.1.0
 */
export const poll = (conn: Connection, timeout?: Duration.Input | null): Effect.Effect<boolean, ConnectionError> =>
  Effect.suspend(() => {
    const s = conn.socket
    if (s.closedLocally) return Effect.fail(new ConnectionError({ reason: "Closed", message: "the connection is closed" }))
    if (s.available > 0 || s.ended) return Effect.succeed(true)
    if (timeout === undefined) return Effect.succeed(false)
    const d = timeout === null ? Duration.infinity : Duration.fromInputUnsafe(timeout)
    if (Duration.toMillis(d) <= 0) return Effect.succeed(false)
    const wait = Effect.callback<boolean>((resume) => {
      const off = s.onReadable(() => {
        off()
        resume(Effect.succeed(true))
      })
      return Effect.sync(off)
    })
    return Duration.isFinite(d) ? Effect.map(Effect.timeoutOption(wait, d), (o) => o._tag === "Some") : wait
  })

/**
 * Closes the connection; the peer's next receive fails with `EOF`. Idempotent.
 *
 * Python equivalent: `Connection.close()`.
 *
 * @example
 * ```ts
 * import { Connection } from "@multiproc/primitives"
 * declare const conn: Connection.Connection
 * const done = Connection.close(conn)
 * ```
 * @category lifecycle
 * @since 0.1.0
 */
export const close = (conn: Connection): Effect.Effect<void> => Effect.sync(() => conn.socket.close())

// ---- the challenge–response on its own ---------------------------------------------------------

/**
 * What {@link deliverChallenge} and {@link answerChallenge} run over: a network connection or an
 * end of a pipe (a duplex one, or the right end of a one-way one).
 *
 * Python equivalent: the `connection` argument of `deliver_challenge` / `answer_challenge` (any
 * object with `send_bytes` / `recv_bytes`).
 *
 * @example
 * ```ts
 * import type { Connection, Pipe } from "@multiproc/primitives"
 * declare const net: Connection.Connection
 * declare const end: Pipe.Connection
 * const both: Array<Connection.Challengeable> = [net, end]
 * ```
 * @category models
 * @since 0.2.0
 */
export type Challengeable = Connection | Pipe.Connection

/**
 * What a challenge over `C` fails with: `ConnectionError` (`AuthenticationError` for a wrong key
 * or a bogus reply, `BadArgument`, and a network connection's own errors such as `EOF`), plus the
 * pipe's own errors (`PipeError` `EOF`, `Closed`, `NotReadable`, …) over a pipe end.
 *
 * Python equivalent: `AuthenticationError`, or the error of the connection's `send_bytes` /
 * `recv_bytes` (`EOFError`, `OSError`).
 *
 * @example
 * ```ts
 * import type { Connection, Pipe } from "@multiproc/primitives"
 * type OverNetwork = Connection.ChallengeError<Connection.Connection> // ConnectionError
 * type OverPipe = Connection.ChallengeError<Pipe.Connection> // ConnectionError | PipeError | SerializationError
 * ```
 * @category errors
 * @since 0.2.0
 */
export type ChallengeError<C extends Challengeable> =
  | ConnectionError
  | (C extends Connection ? never : Pipe.PipeError | Codec.SerializationError)

/**
 * The digests {@link deliverChallenge} can ask the peer to answer with (Python 3.12's allowed set).
 *
 * Python equivalent: `deliver_challenge`'s `digest_name`.
 *
 * @example
 * ```ts
 * import type { Connection } from "@multiproc/primitives"
 * const digest: Connection.DigestName = "sha384"
 * ```
 * @category models
 * @since 0.2.0
 */
export type DigestName = wire.DigestName

/** One message each way, whatever carries them; `recv` gives `undefined` for a message longer
 * than a handshake message may be (Python reads them with `recv_bytes(256)`), which is no answer. */
interface Transport {
  readonly send: (bytes: Uint8Array) => Effect.Effect<void, unknown>
  readonly recv: Effect.Effect<Uint8Array | undefined, unknown>
}

const PIPE_TYPE_ID: symbol = Symbol.for("@multiproc/primitives/Pipe/Connection")

const isPipeEnd = (u: unknown): u is Pipe.Connection => typeof u === "object" && u !== null && PIPE_TYPE_ID in u

const tooLong = (e: unknown): boolean => (e as { readonly reason?: unknown } | undefined)?.reason === "MessageTooLong"

const transportOf = (conn: unknown): Effect.Effect<Transport, ConnectionError> => {
  if (isConnection(conn)) {
    return Effect.succeed({
      send: (bytes) => sendBytes(conn, bytes),
      recv: Effect.catchIf(recvBytes(conn, wire.HANDSHAKE_MAX), tooLong, () => Effect.succeed(undefined))
    })
  }
  if (isPipeEnd(conn)) {
    // Not imported statically: the Pipe module imports this one. A pipe end exists only once the
    // Pipe module is loaded, so this import is one that already finished.
    return Effect.map(Effect.promise(() => import("./Pipe.ts")), (P): Transport => ({
      send: (bytes) => P.sendBytes(conn, bytes),
      recv: Effect.catchIf(P.recvBytes(conn, wire.HANDSHAKE_MAX), tooLong, () => Effect.succeed(undefined))
    }))
  }
  return Effect.fail(new ConnectionError({ reason: "BadArgument", message: `expected a network connection or a pipe end, got ${describe(conn)}` }))
}

const authFailure = (message: string): ConnectionError =>
  new ConnectionError({ reason: "AuthenticationError", message: `${message} (pass the same authkey to both ends)` })

const challengeKey = (authkey: unknown): Buffer | ConnectionError =>
  authkey == null
    ? new ConnectionError({ reason: "BadArgument", message: "authkey is required: a string or a Uint8Array" })
    : badAuthkey(authkey) ?? wire.toKey(authkey as string | Uint8Array)

/**
 * Challenges the peer to prove it knows `authkey`: sends a random challenge, checks the HMAC that
 * comes back (constant-time) and tells the peer whether it was welcome. A wrong answer, or a reply
 * that is no answer at all, fails with `AuthenticationError` (after telling the peer `#FAILURE#`).
 * Works over a network connection or a pipe end; the peer runs {@link answerChallenge}, or
 * Python's `answer_challenge` (any version: a Python 3.11 peer's raw HMAC-MD5 answer is accepted,
 * as Python 3.12 accepts it).
 *
 * Python equivalent: `multiprocessing.connection.deliver_challenge(connection, authkey, digest_name='sha256')`.
 *
 * @example
 * ```ts
 * import { Connection, Pipe } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const [a, b] = yield* Pipe.make()
 *   yield* Effect.all([Connection.deliverChallenge(a, "secret"), Connection.answerChallenge(b, "secret")], { concurrency: 2 })
 * }))
 * ```
 * @category authentication
 * @since 0.2.0
 */
export const deliverChallenge = <C extends Challengeable>(
  conn: C,
  authkey: string | Uint8Array,
  digestName: DigestName = "sha256"
): Effect.Effect<void, ChallengeError<C>> =>
  Effect.suspend(() => {
    const key = challengeKey(authkey)
    if (key instanceof ConnectionError) return Effect.fail(key)
    if (!wire.isDigestName(digestName)) {
      return Effect.fail(new ConnectionError({ reason: "BadArgument", message: `digestName must be one of md5, sha256, sha384, sha3_256, sha3_384, got ${describe(digestName)}` }))
    }
    return Effect.flatMap(transportOf(conn), (t) =>
      Effect.gen(function*() {
        const { frame, message } = wire.makeChallenge(digestName)
        yield* t.send(frame)
        const response = yield* t.recv
        if (response !== undefined && wire.verifyAnswer(key, message, response)) return yield* t.send(wire.WELCOME)
        // (A peer already gone does not change the verdict.)
        yield* Effect.ignore(t.send(wire.FAILURE))
        return yield* Effect.fail(authFailure("digest received was wrong"))
      }))
  }) as Effect.Effect<void, ChallengeError<C>>

/**
 * Proves to the peer that this side knows `authkey`: answers the challenge the peer sends with
 * an HMAC of it and fails with `AuthenticationError` unless the peer welcomes the answer (a wrong
 * key, or a first message that is no challenge). Works over a network connection or a pipe end;
 * the peer runs {@link deliverChallenge}, or Python's `deliver_challenge` (a Python 3.11 peer's
 * legacy challenge is answered with a raw HMAC-MD5, as Python 3.12 answers it).
 *
 * Python equivalent: `multiprocessing.connection.answer_challenge(connection, authkey)`.
 *
 * @example
 * ```ts
 * import { Connection } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const conn: Connection.Connection
 * // Mutual authentication, as Client does it: answer the peer, then challenge it.
 * const program = Effect.andThen(Connection.answerChallenge(conn, "secret"), Connection.deliverChallenge(conn, "secret"))
 * ```
 * @category authentication
 * @since 0.2.0
 */
export const answerChallenge = <C extends Challengeable>(conn: C, authkey: string | Uint8Array): Effect.Effect<void, ChallengeError<C>> =>
  Effect.suspend(() => {
    const key = challengeKey(authkey)
    if (key instanceof ConnectionError) return Effect.fail(key)
    return Effect.flatMap(transportOf(conn), (t) =>
      Effect.gen(function*() {
        const challenge = yield* t.recv
        if (challenge === undefined) return yield* Effect.fail(authFailure("protocol error: expected a challenge, got a longer message"))
        let answer: Buffer
        try {
          answer = wire.answerFor(key, challenge)
        } catch (e) {
          return yield* Effect.fail(authFailure((e as Error).message))
        }
        yield* t.send(answer)
        const verdict = yield* t.recv
        if (verdict === undefined || !wire.isWelcome(verdict)) return yield* Effect.fail(authFailure("digest sent was rejected"))
      }))
  }) as Effect.Effect<void, ChallengeError<C>>
