/**
 * Shared values and arrays for async/await code: Python's constructors as plain functions that
 * return the `SharedValue` objects at once (allocating shared memory cannot wait or fail for
 * any reason but a bad typecode or value, which throws `SharedValueError`).
 *
 * On the creating process and on worker threads, `v.value`, `a.get(i)`, `a.set(i, x)` read and
 * write the memory directly. A child *process* gets a handle served by the holder: use the
 * Effect functions of `SharedValue` there (`get`, `set`, `getItem`, …).
 *
 * Python equivalent: `multiprocessing.Value`, `Array`, `RawValue`, `RawArray`.
 *
 * @since 0.1.0
 */
import * as SV from "../SharedValue.ts"
import type * as tc from "../internal/typecodes.ts"
import { runSync } from "../internal/facade.ts"

/**
 * A new shared value, with a lock unless `lock: false`.
 *
 * Python equivalent: `multiprocessing.Value(typecode, value, lock=True)`.
 *
 * @example
 * ```ts
 * import { Value } from "@multiproc/primitives/promise"
 * const num = Value("d", 0.0)
 * num.value = 3.5
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const Value = <T extends tc.Typecode>(typecode: T, initial?: tc.Element<T> | number, options: SV.Options = {}): SV.Value<tc.Element<T>> =>
  runSync(SV.value(typecode, initial, options))

/**
 * A new shared array from a size (zero-filled) or from values, with a lock unless `lock: false`.
 *
 * Python equivalent: `multiprocessing.Array(typecode, size_or_initializer, lock=True)`.
 *
 * @example
 * ```ts
 * import { Array as SharedArray } from "@multiproc/primitives/promise"
 * const arr = SharedArray("i", [0, 1, 2])
 * arr.set(0, -arr.get(2))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const Array = <T extends tc.Typecode>(
  typecode: T,
  sizeOrInit: number | Iterable<tc.Element<T> | number> | string,
  options: SV.Options = {}
): SV.Array<tc.Element<T>> =>
  runSync(SV.array(typecode, typeof sizeOrInit === "number" || typeof sizeOrInit === "string" ? sizeOrInit : [...sizeOrInit], options))

/**
 * A new shared value without a lock.
 *
 * Python equivalent: `multiprocessing.RawValue(typecode, value)`.
 *
 * @example
 * ```ts
 * import { RawValue } from "@multiproc/primitives/promise"
 * const flag = RawValue("b", 0)
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const RawValue = <T extends tc.Typecode>(typecode: T, initial?: tc.Element<T> | number): SV.Value<tc.Element<T>> =>
  Value(typecode, initial, { lock: false })

/**
 * A new shared array without a lock.
 *
 * Python equivalent: `multiprocessing.RawArray(typecode, size_or_initializer)`.
 *
 * @example
 * ```ts
 * import { RawArray } from "@multiproc/primitives/promise"
 * const bytes = RawArray("B", 16)
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const RawArray = <T extends tc.Typecode>(typecode: T, sizeOrInit: number | Iterable<tc.Element<T> | number> | string): SV.Array<tc.Element<T>> =>
  Array(typecode, sizeOrInit, { lock: false })
