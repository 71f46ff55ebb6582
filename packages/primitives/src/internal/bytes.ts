/**
 * Python's `send_bytes`, `recv_bytes(maxlength)` and `recv_bytes_into` over any connection's
 * send and receive, shared by pipe connections (`Pipe.ts`) and network connections
 * (`Connection.ts`) so both check their arguments and fail alike. Each module turns a
 * {@link Problem} into its own error with the same reason.
 * @internal
 */
import * as Effect from "effect/Effect"
import { describe, intProblem } from "./args.ts"

/** Why a bytes operation failed; `data` is the whole message for `BufferTooShort`. */
export interface Problem {
  readonly reason: "BadArgument" | "MessageTooLong" | "BufferTooShort"
  readonly message: string
  readonly data?: Uint8Array
}

const problem = (reason: Problem["reason"], message: string, data?: Uint8Array): Problem =>
  data === undefined ? { reason, message } : { reason, message, data }

// Python's "a bytes-like object is required": `new Uint8Array("abc")` or `(5)` would silently give
// an empty or a zeroed buffer, so anything but bytes is refused before that conversion.
const notBytes = (buf: unknown): Problem | undefined =>
  buf instanceof Uint8Array || ArrayBuffer.isView(buf) || buf instanceof ArrayBuffer || buf instanceof SharedArrayBuffer
    ? undefined
    : problem("BadArgument", `a bytes-like object is required (a Uint8Array, an ArrayBufferView or an ArrayBuffer), got ${describe(buf)}`)

const toBytes = (buf: Uint8Array | ArrayBufferView | ArrayBuffer): Uint8Array =>
  buf instanceof Uint8Array
    ? buf
    : ArrayBuffer.isView(buf)
    ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
    : new Uint8Array(buf)

/** `send_bytes(buf, offset=0, size=None)`: hands `send` a view of the bytes to send. */
export const sendBytes = <E, F>(
  buf: Uint8Array | ArrayBufferView | ArrayBuffer,
  offset: number,
  size: number | undefined,
  send: (view: Uint8Array) => Effect.Effect<void, E>,
  fail: (p: Problem) => F
): Effect.Effect<void, E | F> =>
  Effect.suspend((): Effect.Effect<void, E | F> => {
    const wrong = notBytes(buf)
    if (wrong !== undefined) return Effect.fail(fail(wrong))
    const bytes = toBytes(buf)
    // Python's own messages for a negative number; a NaN, 1.5 or "x" is named as such (TypeError there).
    if (typeof offset === "number" && offset < 0) return Effect.fail(fail(problem("BadArgument", "offset is negative")))
    const badOffset = intProblem(offset, "offset", 0)
    if (badOffset !== undefined) return Effect.fail(fail(problem("BadArgument", badOffset)))
    if (bytes.length < offset) return Effect.fail(fail(problem("BadArgument", "buffer length < offset")))
    const n = size ?? bytes.length - offset
    if (typeof n === "number" && n < 0) return Effect.fail(fail(problem("BadArgument", "size is negative")))
    const badSize = intProblem(n, "size", 0)
    if (badSize !== undefined) return Effect.fail(fail(problem("BadArgument", badSize)))
    if (offset + n > bytes.length) return Effect.fail(fail(problem("BadArgument", "buffer length < offset + size")))
    return send(bytes.subarray(offset, offset + n))
  })

/** `recv_bytes(maxlength=None)`: a longer message is dropped (Python's `OSError`); `null` is None. */
export const recvBytes = <E, F>(
  receive: Effect.Effect<Uint8Array, E>,
  maxlength: number | null | undefined,
  fail: (p: Problem) => F
): Effect.Effect<Uint8Array, E | F> =>
  Effect.suspend((): Effect.Effect<Uint8Array, E | F> => {
    if (typeof maxlength === "number" && maxlength < 0) return Effect.fail(fail(problem("BadArgument", "negative maxlength")))
    // Checked before anything is read, so a bad maxlength loses no message (Python's TypeError).
    const bad = maxlength == null || maxlength === Infinity ? undefined : intProblem(maxlength, "maxlength", 0)
    if (bad !== undefined) return Effect.fail(fail(problem("BadArgument", bad)))
    return Effect.flatMap(receive, (bytes) =>
      maxlength != null && bytes.length > maxlength
        ? Effect.fail(fail(problem("MessageTooLong", `bad message length: ${bytes.length} > ${maxlength}`)))
        : Effect.succeed(bytes))
  })

/** `recv_bytes_into(buf, offset=0)`: copies the message into `buf` and returns its length. */
export const recvBytesInto = <E, F>(
  receive: Effect.Effect<Uint8Array, E>,
  buf: Uint8Array | ArrayBufferView | ArrayBuffer,
  offset: number,
  fail: (p: Problem) => F
): Effect.Effect<number, E | F> =>
  Effect.suspend((): Effect.Effect<number, E | F> => {
    const wrong = notBytes(buf)
    if (wrong !== undefined) return Effect.fail(fail(wrong))
    const target = toBytes(buf)
    if (typeof offset === "number" && offset < 0) return Effect.fail(fail(problem("BadArgument", "negative offset")))
    const badOffset = intProblem(offset, "offset", 0)
    if (badOffset !== undefined) return Effect.fail(fail(problem("BadArgument", badOffset)))
    if (offset > target.length) return Effect.fail(fail(problem("BadArgument", "offset too large")))
    return Effect.flatMap(receive, (bytes) => {
      if (offset + bytes.length > target.length) {
        return Effect.fail(fail(problem("BufferTooShort", `a message of ${bytes.length} bytes does not fit in ${target.length - offset} bytes`, bytes)))
      }
      target.set(bytes, offset)
      return Effect.succeed(bytes.length)
    })
  })
