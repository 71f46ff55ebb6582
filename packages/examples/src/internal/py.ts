// Python-looking output for the ported examples: `repr` and `print` as Python writes them, so a
// port prints `[42, None, 'hello']` where the seed does. No `effect` import (workers load it).
//
// JavaScript has one number type: an integral number prints as a Python int (`2`), so a Python
// float that happens to be integral (`2.0`) cannot be told apart; the seeds never print one.

const reprString = (s: string): string => {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'"
  let out = quote
  for (const ch of s) {
    const code = ch.codePointAt(0)!
    if (ch === "\\") out += "\\\\"
    else if (ch === quote) out += `\\${quote}`
    else if (ch === "\n") out += "\\n"
    else if (ch === "\r") out += "\\r"
    else if (ch === "\t") out += "\\t"
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`
    else out += ch
  }
  return out + quote
}

const reprNumber = (n: number): string => {
  if (Number.isNaN(n)) return "nan"
  if (!Number.isFinite(n)) return n > 0 ? "inf" : "-inf"
  if (Object.is(n, -0)) return "-0.0"
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return String(n)
  // Python switches to exponent notation below 1e-4 and from 1e16; JavaScript at 1e-7 and 1e21.
  const abs = Math.abs(n)
  if (abs >= 1e16 || abs < 1e-4) {
    const [mantissa, exp] = n.toExponential().split("e") as [string, string]
    const e = Number(exp)
    return `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`
  }
  return String(n)
}

/**
 * Python's `repr(x)` for the values the examples print: None, bools, numbers, strings, lists
 * (arrays), dicts (Maps and plain objects) and sets.
 */
export const repr = (x: unknown): string => {
  if (x === null || x === undefined) return "None"
  if (typeof x === "boolean") return x ? "True" : "False"
  if (typeof x === "number") return reprNumber(x)
  if (typeof x === "bigint") return String(x)
  if (typeof x === "string") return reprString(x)
  if (Array.isArray(x)) return `[${x.map(repr).join(", ")}]`
  if (x instanceof Map) return `{${[...x].map(([k, v]) => `${repr(k)}: ${repr(v)}`).join(", ")}}`
  if (x instanceof Set) return x.size === 0 ? "set()" : `{${[...x].map(repr).join(", ")}}`
  if (ArrayBuffer.isView(x) && !(x instanceof DataView)) return `[${Array.from(x as unknown as ArrayLike<unknown>, repr).join(", ")}]`
  if (typeof x === "object" && Object.getPrototypeOf(x) === Object.prototype) {
    return `{${Object.entries(x).map(([k, v]) => `${repr(k)}: ${repr(v)}`).join(", ")}}`
  }
  return String(x)
}

/** Python's `str(x)`: strings as they are, everything else as `repr`. */
export const str = (x: unknown): string => typeof x === "string" ? x : repr(x)

/** Python's `print(*args, sep=' ', end='\n')`, written to stdout in one piece. */
export const print = (...args: Array<unknown>): void => {
  process.stdout.write(args.map(str).join(" ") + "\n")
}

/**
 * Python's `int(s)` for a string: an optionally signed decimal integer, surrounding whitespace
 * and single underscores between digits allowed; anything else throws (Python: `ValueError`).
 */
export const int = (s: string): number => {
  const t = s.trim()
  if (!/^[+-]?\d+(_\d+)*$/.test(t)) throw new Error(`invalid literal for int() with base 10: ${repr(s)}`)
  return Number(t.replaceAll("_", ""))
}

/** Python's `range(start, stop)` / `range(stop)` as an array. */
export const range = (a: number, b?: number): Array<number> => {
  const [start, stop] = b === undefined ? [0, a] : [a, b]
  return Array.from({ length: Math.max(0, stop - start) }, (_, i) => start + i)
}
