/**
 * @multiproc/primitives: Python's `multiprocessing` API on the multiproc runtime.
 *
 * @since 0.1.0
 */
export * as Process from "./Process.ts"
export * as Pool from "./Pool.ts"
export * as Queue from "./Queue.ts"
export * as Pipe from "./Pipe.ts"
export * as Lock from "./Lock.ts"
export * as Semaphore from "./Semaphore.ts"
export * as Condition from "./Condition.ts"
export * as Event from "./Event.ts"
export * as Barrier from "./Barrier.ts"
export * as Connection from "./Connection.ts"
export * as Manager from "./Manager.ts"
export * as SharedValue from "./SharedValue.ts"
export * as SharedMemory from "./SharedMemory.ts"
