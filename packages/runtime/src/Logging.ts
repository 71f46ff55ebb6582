/**
 * Logging across processes: records from every process end up in the main process, each line
 * annotated with the process name and pid, through Effect's Logger.
 *
 * Python equivalent: `multiprocessing.log_to_stderr()` and `multiprocessing.get_logger()`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as References from "effect/References"
import * as Schema from "effect/Schema"
import { registerErrorClass } from "./internal/codec.ts"
import * as kernel from "./internal/kernel.ts"
import { levelName, levels } from "./internal/protocol.ts"

/**
 * Python's logging levels, including multiprocessing's `SUBDEBUG` and `SUBWARNING`.
 *
 * @example
 * ```ts
 * import { Logging } from "@multiproc/runtime"
 * Logging.levels.INFO // 20
 * ```
 * @category models
 * @since 0.1.0
 */
export { levels }

/** A level name or number. */
export type Level = keyof typeof levels | number

/**
 * A level that is neither an integer nor the name of a level.
 *
 * Python equivalent: `setLevel("FOO")`'s ValueError "Unknown level: 'FOO'" and the TypeError
 * "Level not an integer or a valid string" of any other value.
 *
 * @example
 * ```ts
 * import { Logging } from "@multiproc/runtime"
 * try {
 *   Logging.getLogger().setLevel("VERBOSE" as any)
 * } catch (e) {
 *   if (e instanceof Logging.LoggingError) console.log(e.message) // Unknown level: 'VERBOSE'
 * }
 * ```
 * @category errors
 * @since 0.1.0
 */
export class LoggingError extends Schema.TaggedError<LoggingError>()("LoggingError", {
  reason: Schema.Literals(["InvalidLevel"]),
  message: Schema.String
}) {}

registerErrorClass(LoggingError)

// A name outside `levels` or a number that is no integer set the level to undefined or NaN, under
// which every record was printed.
const levelNumber = (level: Level): number => {
  if (typeof level === "number" && Number.isInteger(level)) return level
  if (typeof level === "string" && Object.hasOwn(levels, level)) return levels[level]
  throw new LoggingError({
    reason: "InvalidLevel",
    message: typeof level === "string" ? `Unknown level: '${level}'` : `Level not an integer or a valid string: ${String(level)}`
  })
}

/**
 * The process-wide logger, usable in any process and without Effect.
 *
 * Python equivalent: the logger returned by `multiprocessing.get_logger()`.
 *
 * @category models
 * @since 0.1.0
 */
export interface ProcessLogger {
  /** `"multiprocessing"`, Python's `LOGGER_NAME`. */
  readonly name: "multiprocessing"
  /** Throws {@link LoggingError} for a level that is neither an integer nor a level's name. */
  readonly setLevel: (level: Level) => void
  readonly getLevel: () => number
  readonly log: (level: Level, message: string) => void
  readonly subdebug: (message: string) => void
  readonly debug: (message: string) => void
  readonly info: (message: string) => void
  readonly subwarning: (message: string) => void
  readonly warning: (message: string) => void
  readonly error: (message: string) => void
  readonly critical: (message: string) => void
}

const processLogger: ProcessLogger = {
  name: "multiprocessing",
  setLevel: (level) => kernel.setLogLevel(levelNumber(level)),
  getLevel: () => kernel.self.logLevel,
  log: (level, message) => kernel.log(levelNumber(level), message),
  subdebug: (m) => kernel.log(levels.SUBDEBUG, m),
  debug: (m) => kernel.log(levels.DEBUG, m),
  info: (m) => kernel.log(levels.INFO, m),
  subwarning: (m) => kernel.log(levels.SUBWARNING, m),
  warning: (m) => kernel.log(levels.WARNING, m),
  error: (m) => kernel.log(levels.ERROR, m),
  critical: (m) => kernel.log(levels.CRITICAL, m)
}

/**
 * Returns the multiprocessing logger of this process. It logs nothing until a level is set.
 *
 * Python equivalent: `multiprocessing.get_logger()`.
 *
 * @example
 * ```ts
 * import { Logging } from "@multiproc/runtime"
 * const logger = Logging.getLogger()
 * logger.setLevel("INFO")
 * logger.info("starting") // [INFO/MainProcess] starting
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const getLogger = (): ProcessLogger => processLogger

/**
 * Sends multiprocessing's log records to stderr as `[LEVEL/ProcessName] message`; processes
 * created afterwards log too, through the main process. Without a level, a level set before is
 * kept (as Python's sets one only when given one); if none was, it is `WARNING`.
 *
 * Python equivalent: `multiprocessing.log_to_stderr(level)`.
 *
 * @example
 * ```ts
 * import { Logging } from "@multiproc/runtime"
 * Logging.logToStderr("INFO")
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const logToStderr = (level?: Level): ProcessLogger => {
  // Python's effective level of a logger nobody set is its root's, WARNING.
  if (level !== undefined) kernel.setLogLevel(levelNumber(level))
  else if (kernel.self.logLevel === levels.OFF) kernel.setLogLevel(levels.WARNING)
  return processLogger
}

const effectLevel = (n: number): "Trace" | "Debug" | "Info" | "Warn" | "Error" | "Fatal" =>
  n < 10 ? "Trace" : n < 20 ? "Debug" : n < 30 ? "Info" : n < 40 ? "Warn" : n < 50 ? "Error" : "Fatal"

const pythonLevel = (label: string): string =>
  label === "WARN" ? "WARNING" : label === "FATAL" ? "CRITICAL" : label === "TRACE" ? "SUBDEBUG" : label

/**
 * An Effect Logger printing Python's format, `[LEVEL/processName] message`, using the
 * `processName` annotation (set on records that come from other processes) or this process's name.
 *
 * @example
 * ```ts
 * import { Logging } from "@multiproc/runtime"
 * import { Effect, Logger } from "effect"
 * Effect.log("hi").pipe(Effect.provide(Logger.layer([Logging.logger]))) // [INFO/MainProcess] hi
 * ```
 * @category loggers
 * @since 0.1.0
 */
export const logger: Logger.Logger<unknown, void> = Logger.make((options) => {
  const message = Array.isArray(options.message) ? options.message.join(" ") : String(options.message)
  const name = currentAnnotation(options, "processName") ?? kernel.self.name
  process.stderr.write(`[${pythonLevel(options.logLevel.toUpperCase())}/${name}] ${message}\n`)
})

const currentAnnotation = (options: Logger.Options<unknown>, key: string): string | undefined => {
  const value = options.fiber.getRef(References.CurrentLogAnnotations)[key]
  return value === undefined ? undefined : String(value)
}

/**
 * Routes multiprocessing's records (from every process) into Effect's logging, annotated with
 * `processName` and `pid`, and prints them with {@link logger}. A bad level throws
 * {@link LoggingError} at the call.
 *
 * @example
 * ```ts
 * import { Logging } from "@multiproc/runtime"
 * import { Effect } from "effect"
 * const program = Effect.log("hello").pipe(Effect.provide(Logging.layer("INFO")))
 * ```
 * @category layers
 * @since 0.1.0
 */
export const layer = (level: Level = "INFO"): Layer.Layer<never> => {
  const n = levelNumber(level)
  return Layer.mergeAll(
    Logger.layer([logger]),
    Layer.effectDiscard(Effect.gen(function*() {
      const context = yield* Effect.context<never>()
      const previous = kernel.logSink
      kernel.setLogLevel(n)
      kernel.setLogSink((lvl, message, processName, pid) => {
        Effect.runForkWith(context)(
          Effect.logWithLevel(effectLevel(lvl))(message).pipe(
            Effect.annotateLogs({ processName, pid }),
            Effect.provide(Logger.layer([logger]))
          )
        )
      })
      yield* Effect.addFinalizer(() => Effect.sync(() => kernel.setLogSink(previous)))
    }))
  )
}

export { levelName }
