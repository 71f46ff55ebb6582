/**
 * Argument checks shared by the modules' entry points: a JS caller has no type checker, so a bad
 * argument is caught where it enters (Python's ValueError / TypeError there) and each module turns
 * the problem into its own typed error, instead of a raw exception deep inside, a silent zero or a
 * wait for ever.
 *
 * @internal
 */
import * as Duration from "effect/Duration"

const durationKeys = new Set(["weeks", "days", "hours", "minutes", "seconds", "milliseconds", "microseconds", "nanoseconds"])

const show = (v: unknown): string => {
  if (typeof v === "string") return JSON.stringify(v)
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint" || v == null) return String(v)
  if (typeof v === "function") return "a function"
  try {
    return JSON.stringify(v) ?? typeof v
  } catch {
    return typeof v
  }
}

/**
 * Why `input` is not a timeout, or `undefined` if it is one. `undefined` and `null` (Python's
 * None) wait for ever; a negative number is zero (as in Python); NaN, a string that names no
 * duration, an object with other keys than a duration's, and anything else are refused, where
 * Effect's own conversion reads NaN and `{}` as zero and throws a plain Error for the rest.
 */
export const timeoutProblem = (input: unknown, name = "timeout"): string | undefined => {
  if (input == null || Duration.isDuration(input) || typeof input === "bigint") return undefined
  const bad = `${name} must be a number of milliseconds or a Duration, got ${show(input)}`
  if (typeof input === "number") return Number.isNaN(input) ? bad : undefined
  if (typeof input === "string") return Duration.fromInput(input as Duration.Input)._tag === "Some" ? undefined : bad
  if (Array.isArray(input)) {
    return input.length === 2 && input.every((x) => typeof x === "number" && Number.isFinite(x)) ? undefined : bad
  }
  if (typeof input === "object") {
    const o = input as Record<string, unknown>
    const keys = Object.keys(o)
    const ok = keys.length > 0 &&
      keys.every((k) => durationKeys.has(k) && (o[k] === undefined || typeof o[k] === "number" && !Number.isNaN(o[k])))
    return ok ? undefined : bad
  }
  return bad
}

/** Why `input` is not an integer in `[min, max]`, or `undefined` if it is one. */
export const intProblem = (input: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): string | undefined =>
  typeof input === "number" && Number.isInteger(input) && input >= min && input <= max
    ? undefined
    : `${name} must be an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in ${min}..${max}`}, got ${show(input)}`

/**
 * Why `options` has a key outside `known` (Python's "got an unexpected keyword argument"), or
 * `undefined`: a misspelt option (`maxsiz`, `proceses`) would otherwise be ignored silently.
 */
export const unknownOption = (options: unknown, known: ReadonlyArray<string>): string | undefined => {
  if (options == null || typeof options !== "object") return undefined
  const extra = Object.keys(options).find((k) => !known.includes(k))
  return extra === undefined ? undefined : `unknown option '${extra}' (known: ${known.join(", ")})`
}

/**
 * Why `input` is not a backend, or `undefined` if it is `"thread"`, `"process"` or left out
 * (`undefined` / `null`: the start method's): any other value ran on the process backend.
 */
export const backendProblem = (input: unknown): string | undefined =>
  input == null || input === "thread" || input === "process" ? undefined : `backend must be "thread" or "process", got ${show(input)}`

/** A value's short description for messages. */
export const describe = show
