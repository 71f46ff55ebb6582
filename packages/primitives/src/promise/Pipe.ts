/**
 * Pipes for async/await code: `Pipe()` returns two `PipeConnection`s over the Effect API (`Pipe`
 * module); `wait` multiplexes connections and processes. Connections can be passed to processes
 * and pool tasks as arguments.
 *
 * Python equivalent: `multiprocessing.Pipe` and `multiprocessing.connection.wait`.
 *
 * @since 0.1.0
 */
import { registerCustom } from "@multiproc/runtime/internal/codec"
import type * as Duration from "effect/Duration"
import * as Scope from "effect/Scope"
import { run, runSync, scope } from "../internal/facade.ts"
import * as P from "../Pipe.ts"
import type * as Proc from "../Process.ts"
import { Connection as NetConnection } from "./Connection.ts"

/**
 * One end of a pipe.
 *
 * Python equivalent: `multiprocessing.connection.Connection`.
 *
 * @example
 * ```ts
 * import { Pipe } from "@multiproc/primitives/promise"
 * const [a, b] = Pipe()
 * await a.send({ n: 1 })
 * console.log(await b.recv()) // { n: 1 }
 * ```
 * @category models
 * @since 0.1.0
 */
export class PipeConnection {
  /** The Effect-API connection. */
  readonly connection: P.Connection
  constructor(connection: P.Connection) {
    this.connection = connection
  }
  get readable(): boolean {
    return this.connection.readable
  }
  get writable(): boolean {
    return this.connection.writable
  }
  get closed(): boolean {
    return this.connection.closed
  }
  /** Python's `send(obj)`. */
  send(value: unknown): Promise<void> {
    return run(P.send(this.connection, value))
  }
  /** Python's `recv()`; rejects with `PipeError` reason `EOF` at end-of-file. */
  recv(): Promise<unknown> {
    return run(P.recv(this.connection))
  }
  /** Python's `poll(timeout=0.0)`; `null` waits for ever. */
  poll(timeout?: Duration.Input | null): Promise<boolean> {
    return run(P.poll(this.connection, timeout))
  }
  /** Python's `send_bytes(buf, offset=0, size=None)`. */
  sendBytes(buf: Uint8Array | ArrayBufferView | ArrayBuffer, offset?: number, size?: number): Promise<void> {
    return run(P.sendBytes(this.connection, buf, offset, size))
  }
  /** Python's `recv_bytes(maxlength=None)`. */
  recvBytes(maxlength?: number): Promise<Uint8Array> {
    return run(P.recvBytes(this.connection, maxlength))
  }
  /** Python's `recv_bytes_into(buf, offset=0)`; `BufferTooShort` carries the message in `data`. */
  recvBytesInto(buf: Uint8Array | ArrayBufferView | ArrayBuffer, offset?: number): Promise<number> {
    return run(P.recvBytesInto(this.connection, buf, offset))
  }
  /** Python's `close()`. */
  close(): void {
    runSync(P.close(this.connection))
  }
  [Symbol.dispose](): void {
    this.close()
  }
  toString(): string {
    return String(this.connection)
  }
}

/**
 * Creates a pipe; with `duplex: false` (or `Pipe(false)`, Python's positional form) the first
 * connection only receives and the second only sends.
 *
 * Python equivalent: `multiprocessing.Pipe(duplex=True)`.
 *
 * @example
 * ```ts
 * import { Pipe } from "@multiproc/primitives/promise"
 * const [reader, writer] = Pipe({ duplex: false })
 * await writer.send("hello")
 * console.log(await reader.recv()) // "hello"
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const Pipe = (options: P.MakeOptions | boolean = {}): [PipeConnection, PipeConnection] => {
  const [a, b] = runSync(Scope.provide(scope())(P.make(options)))
  return [new PipeConnection(a), new PipeConnection(b)]
}

/** What {@link wait} accepts: pipe and network connections and processes (facade or Effect-API ones). */
export type Waitable = PipeConnection | NetConnection | { readonly process: Proc.Process<any, any> } | P.Waitable

const unwrap = (w: Waitable): P.Waitable =>
  typeof w !== "object" || w === null
    ? w
    : w instanceof PipeConnection || w instanceof NetConnection ? w.connection : "process" in w && typeof (w as any).isAlive !== "function" ? (w as any).process : (w as any).process !== undefined && (w as any).start ? (w as any).process : w as P.Waitable

/**
 * Waits until at least one object is ready and returns the ready ones (`[]` after `timeout`);
 * `objects` is any iterable. Rejects as `Pipe.wait` fails (`Closed`, `BadArgument`).
 *
 * Python equivalent: `multiprocessing.connection.wait(object_list, timeout=None)`.
 *
 * @example
 * ```ts
 * import { Pipe, wait } from "@multiproc/primitives/promise"
 * const [a, b] = Pipe()
 * await b.send(1)
 * console.log((await wait([a], 1000)).length) // 1
 * ```
 * @category operations
 * @since 0.1.0
 */
export const wait = async <W extends Waitable>(given: Iterable<W>, timeout?: Duration.Input | null): Promise<Array<W>> => {
  // What is no iterable goes to `P.wait` as it is, to be refused there (`BadArgument`).
  const objects = typeof (given as any)?.[Symbol.iterator] === "function" ? Array.from(given) : given as unknown as Array<W>
  const inner = Array.isArray(objects) ? objects.map(unwrap) : objects
  const ready = new Set<P.Waitable>(await run(P.wait(inner, timeout)))
  return objects.filter((_, i) => ready.has(inner[i]!))
}

registerCustom<PipeConnection>({
  tag: "multiproc/promise/PipeConnection",
  Class: PipeConnection,
  encode: (c) => c.connection,
  decode: (c) => new PipeConnection(c)
})
