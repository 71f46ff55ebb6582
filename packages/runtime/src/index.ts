/**
 * @multiproc/runtime: how processes exist and talk. Backends (worker threads and child
 * processes), the msgpackr codec and batched framing, task references, supervision and the
 * process tree's message routing. It knows nothing of Pool or Queue semantics.
 *
 * @since 0.1.0
 */
export * as Actor from "./Actor.ts"
export * as Child from "./Child.ts"
export * as Codec from "./Codec.ts"
export * as Logging from "./Logging.ts"
export * as Task from "./Task.ts"
