/**
 * The one codec every mailbox uses: structured-clone values to msgpackr bytes and back, exactly
 * (lone surrogates, -0, NaN, BigInt, Map, Set, Date, typed arrays, sparse arrays, shared and
 * circular references, errors with class, fields and cause). Values that cannot cross fail at the
 * sender with a {@link SerializationError} naming the path to the bad value.
 *
 * Python equivalent: `pickle` as used by `multiprocessing` (data only: no code is ever decoded).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as internal from "./internal/codec.ts"

/**
 * A value could not be encoded for another process.
 *
 * Python equivalent: `pickle.PicklingError`, raised here at the call site, not in a feeder thread.
 *
 * @example
 * ```ts
 * import { Codec } from "@multiproc/runtime"
 * import { Effect } from "effect"
 * const program = Codec.encode({ f: () => 1 }).pipe(
 *   Effect.catchTag("SerializationError", (e) => Effect.succeed(e.path)) // "$.f"
 * )
 * ```
 * @category errors
 * @since 0.1.0
 */
export class SerializationError extends Schema.TaggedError<SerializationError>()("SerializationError", {
  path: Schema.String,
  reason: Schema.String,
  message: Schema.String
}) {}

/**
 * Turns the lean codec's exception into the typed error. @internal
 *
 * @example
 * ```ts
 * import { Codec } from "@multiproc/runtime"
 * import { CodecError } from "@multiproc/runtime/internal/codec"
 * const typed = Codec.fromCodecError(new CodecError("$.f", "a function cannot be sent"))
 * ```
 */
export const fromCodecError = (e: internal.CodecError): SerializationError =>
  new SerializationError({ path: e.path, reason: e.reason, message: e.message })

/**
 * Whether an unknown thrown value is the codec's exception (also one rebuilt from a worker).
 *
 * @example
 * ```ts
 * import { Codec } from "@multiproc/runtime"
 * Codec.isCodecError(new Error("x")) // false
 * ```
 */
export const isCodecError = (u: unknown): u is internal.CodecError =>
  u instanceof internal.CodecError || (u instanceof Error && u.name === "SerializationError" && typeof (u as any).path === "string")

internal.registerErrorClass(internal.CodecError)
internal.registerErrorClass(SerializationError)

/**
 * Encodes a value into msgpack bytes.
 *
 * Python equivalent: `pickle.dumps(obj)`.
 *
 * @example
 * ```ts
 * import { Codec } from "@multiproc/runtime"
 * const bytes = Codec.encode(new Map([[1, "a"]]))
 * ```
 * @category encoding
 * @since 0.1.0
 */
export const encode = (value: unknown): Effect.Effect<Uint8Array, SerializationError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(internal.encode(value))
    } catch (e) {
      return e instanceof internal.CodecError ? Effect.fail(fromCodecError(e)) : Effect.die(e)
    }
  })

/**
 * Decodes bytes made by {@link encode}.
 *
 * Python equivalent: `pickle.loads(data)` (without the code execution).
 *
 * @example
 * ```ts
 * import { Codec } from "@multiproc/runtime"
 * import { Effect } from "effect"
 * const roundTrip = Codec.encode(-0).pipe(Effect.flatMap(Codec.decode)) // -0
 * ```
 * @category encoding
 * @since 0.1.0
 */
export const decode = (bytes: Uint8Array): Effect.Effect<unknown, SerializationError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(internal.decode(bytes))
    } catch (e) {
      return e instanceof internal.CodecError
        ? Effect.fail(fromCodecError(e))
        : Effect.fail(new SerializationError({ path: "$", reason: String((e as Error)?.message ?? e), message: `cannot decode: ${(e as Error)?.message ?? e}` }))
    }
  })

/**
 * Synchronous encode that throws {@link SerializationError}.
 *
 * @example
 * ```ts
 * import { Codec } from "@multiproc/runtime"
 * const bytes = Codec.encodeUnsafe([1, 2, 3])
 * ```
 * @category encoding
 * @since 0.1.0
 */
export const encodeUnsafe = (value: unknown): Uint8Array => {
  try {
    return internal.encode(value)
  } catch (e) {
    throw e instanceof internal.CodecError ? fromCodecError(e) : e
  }
}

/**
 * Synchronous decode.
 *
 * @example
 * ```ts
 * import { Codec } from "@multiproc/runtime"
 * const value = Codec.decodeUnsafe(Codec.encodeUnsafe(new Set([1])))
 * ```
 * @category encoding
 * @since 0.1.0
 */
export const decodeUnsafe = (bytes: Uint8Array): unknown => internal.decode(bytes)

/**
 * Registers a class whose instances cross processes through their own encoding (handles such as
 * queues and locks use this to travel as references).
 *
 * Python equivalent: `copyreg` / `__reduce__`.
 *
 * @example
 * ```ts
 * import { Codec } from "@multiproc/runtime"
 * class Point {
 *   readonly x: number
 *   readonly y: number
 *   constructor(x: number, y: number) {
 *     this.x = x
 *     this.y = y
 *   }
 * }
 * Codec.register({ tag: "Point", Class: Point, encode: (p) => [p.x, p.y], decode: ([x, y]) => new Point(x, y) })
 * ```
 * @category registration
 * @since 0.1.0
 */
export const register: <A>(codec: internal.CustomCodec<A>) => void = internal.registerCustom

/**
 * Makes errors of a class thrown in another process arrive as instances of that class.
 *
 * @example
 * ```ts
 * import { Codec } from "@multiproc/runtime"
 * class QuotaExceeded extends Error {}
 * Codec.registerError(QuotaExceeded)
 * ```
 * @category registration
 * @since 0.1.0
 */
export const registerError: (Class: Function, name?: string) => void = internal.registerErrorClass

/** @category models */
export type CustomCodec<A> = internal.CustomCodec<A>
