/**
 * The async/await facade of @multiproc/primitives: Python's names, promises instead of Effects.
 * Each class runs the Effect API; nothing is implemented twice.
 *
 * @since 0.1.0
 */
export {
  activeChildren,
  cpuCount,
  currentProcess,
  freezeSupport,
  getAllStartMethods,
  getStartMethod,
  parentProcess,
  Process,
  ProcessError,
  setStartMethod
} from "./Process.ts"
/** Python's `multiprocessing.get_logger()` and `log_to_stderr()`; `LoggingError` for a bad level. */
export { getLogger, LoggingError, logToStderr } from "@multiproc/runtime/Logging"
export { AsyncResult, Pool, PoolError } from "./Pool.ts"
export { Context, type ContextManager, getContext } from "./Context.ts"
export { JoinableQueue, Queue, SimpleQueue } from "./Queue.ts"
export { Pipe, PipeConnection, wait } from "./Pipe.ts"
export { Lock, RLock } from "./Lock.ts"
export { BoundedSemaphore, Semaphore } from "./Semaphore.ts"
export { Condition } from "./Condition.ts"
export { Event } from "./Event.ts"
export { Barrier } from "./Barrier.ts"
export { Manager, type Promisified, promisify } from "./Manager.ts"
export { answerChallenge, Client, Connection, ConnectionError, deliverChallenge, Listener } from "./Connection.ts"
export { Array, copy, RawArray, RawValue, SharedValueError, synchronized, Value, ValueLock } from "./SharedValue.ts"
export { ShareableList, SharedMemory, SharedMemoryError, SharedMemoryManager } from "./SharedMemory.ts"
/** Python's `BufferTooShort`, `TimeoutError`, `AuthenticationError`: `e instanceof TimeoutError`. */
export { AuthenticationError, BufferTooShort, type ErrorKind, TimeoutError } from "./errors.ts"
/** The error classes of the modules whose facade classes reject with them (`e instanceof PipeError`,
 * or `e._tag === "PipeError"`); the others are exported with their classes above. */
export { BarrierError } from "../Barrier.ts"
export { ConditionError } from "../Condition.ts"
export { EventError } from "../Event.ts"
export { LockError } from "../Lock.ts"
export { ManagerError } from "../Manager.ts"
export { PipeError } from "../Pipe.ts"
export { QueueError } from "../Queue.ts"
export { SemaphoreError } from "../Semaphore.ts"
