/**
 * @multiproc/primitives: Python's `multiprocessing` API on the multiproc runtime.
 *
 * @since 0.1.0
 */
export * as Process from "./Process.ts"
export * as Pool from "./Pool.ts"
export * as Queue from "./Queue.ts"
export * as Pipe from "./Pipe.ts"
