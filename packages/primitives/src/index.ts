/**
 * @multiproc/primitives: Python's `multiprocessing` API on the multiproc runtime.
 *
 * @since 0.1.0
 */
export * as Process from "./Process.ts"
export * as Connection from "./Connection.ts"
export * as Manager from "./Manager.ts"
export * as SharedValue from "./SharedValue.ts"
export * as SharedMemory from "./SharedMemory.ts"
