/**
 * Python's exception classes of `multiprocessing` that are kinds of this API's errors rather than
 * classes of their own: `e instanceof BufferTooShort` (`TimeoutError`, `AuthenticationError`) is
 * true for the errors of that kind, whichever module's error class carries it, as Python's
 * `except multiprocessing.BufferTooShort:` catches them.
 *
 * Python equivalent: `multiprocessing.BufferTooShort`, `TimeoutError`, `AuthenticationError`.
 *
 * @since 0.2.0
 */
import type { ConnectionError } from "../Connection.ts"
import type { ManagerError } from "../Manager.ts"
import type { PipeError } from "../Pipe.ts"
import type { PoolError } from "../Pool.ts"

/** An error kind: matched by `instanceof` (its `Symbol.hasInstance`), not constructed. */
export interface ErrorKind<E> {
  /** Whether `u` is an error of this kind (what `u instanceof Kind` calls). */
  readonly [Symbol.hasInstance]: (u: unknown) => u is E
  /** Python's class name. */
  readonly name: string
}

const field = (u: unknown, key: string): unknown => typeof u === "object" && u !== null ? (u as Record<string, unknown>)[key] : undefined

const kind = <E>(name: string, test: (tag: unknown, u: unknown) => boolean): ErrorKind<E> =>
  Object.freeze({
    name,
    [Symbol.hasInstance]: (u: unknown): u is E => test(field(u, "_tag"), u),
    toString: () => `<class 'multiprocessing.${name}'>`
  })

/**
 * A `recvBytesInto` whose buffer is too short for the message: a `PipeError` or `ConnectionError`
 * with reason `"BufferTooShort"`, the message in its `data`.
 *
 * Python equivalent: `multiprocessing.BufferTooShort` (`e.args[0]` is the message).
 *
 * @example
 * ```ts
 * import { BufferTooShort, Pipe } from "@multiproc/primitives/promise"
 * const [a, b] = Pipe()
 * await a.sendBytes(new Uint8Array(8))
 * try {
 *   await b.recvBytesInto(new Uint8Array(4))
 * } catch (e) {
 *   if (e instanceof BufferTooShort) console.log(e.data) // the whole message
 * }
 * ```
 * @category errors
 * @since 0.2.0
 */
export const BufferTooShort: ErrorKind<PipeError | ConnectionError> = kind("BufferTooShort", (tag, u) =>
  (tag === "PipeError" || tag === "ConnectionError") && field(u, "reason") === "BufferTooShort")

/**
 * A pool result not ready within the timeout given to `AsyncResult.get`: a `PoolError` with reason
 * `"Timeout"`.
 *
 * Python equivalent: `multiprocessing.TimeoutError`.
 *
 * @example
 * ```ts
 * import { Pool, TimeoutError } from "@multiproc/primitives/promise"
 * import * as Task from "@multiproc/runtime/Task"
 * export const slow = Task.make(import.meta, () => new Promise((r) => setTimeout(r, 1000)), { name: "slow" })
 * if (import.meta.main) {
 *   await using pool = new Pool(1)
 *   try {
 *     await pool.applyAsync(slow).get(10)
 *   } catch (e) {
 *     if (e instanceof TimeoutError) console.log("not yet")
 *   }
 * }
 * ```
 * @category errors
 * @since 0.2.0
 */
export const TimeoutError: ErrorKind<PoolError> = kind("TimeoutError", (tag, u) => tag === "PoolError" && field(u, "reason") === "Timeout")

/**
 * A peer that does not know the key: a `ConnectionError` with reason `"AuthenticationError"`
 * (`Client`, `Listener.accept`, `deliverChallenge`, `answerChallenge`), or a `ManagerError` with reason (or `remoteType`)
 * `"AuthenticationError"` (`Manager.connect` with the wrong key, a served call that raised it).
 *
 * Python equivalent: `multiprocessing.AuthenticationError`.
 *
 * @example
 * ```ts
 * import { AuthenticationError, Client } from "@multiproc/primitives/promise"
 * try {
 *   await Client({ host: "127.0.0.1", port: 6000 }, { authkey: "wrong" })
 * } catch (e) {
 *   if (e instanceof AuthenticationError) console.log("refused")
 * }
 * ```
 * @category errors
 * @since 0.2.0
 */
export const AuthenticationError: ErrorKind<ConnectionError | ManagerError> = kind("AuthenticationError", (tag, u) =>
  tag === "ConnectionError"
    ? field(u, "reason") === "AuthenticationError"
    : tag === "ManagerError" && (field(u, "reason") === "AuthenticationError" || field(u, "remoteType") === "AuthenticationError"))
