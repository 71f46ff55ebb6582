/**
 * Python's `array` / `ctypes` typecodes: element size, typed-array kind, and the conversion rules
 * of ctypes (integers wrap silently, a float for an integer type is a TypeError, `c` is one byte,
 * `u` one character). Lean: no `effect` import.
 * @internal
 */

export type Typecode = "c" | "b" | "B" | "h" | "H" | "i" | "I" | "l" | "L" | "q" | "Q" | "f" | "d" | "u"

export type Element<T extends Typecode> = T extends "c" | "u" ? string : T extends "l" | "L" | "q" | "Q" ? bigint : number

type AnyTyped =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array

export interface Spec {
  readonly code: Typecode
  readonly size: number
  readonly kind: "int" | "bigint" | "float" | "char" | "wchar"
  readonly make: (buffer: ArrayBufferLike, byteOffset: number, length: number) => AnyTyped
}

const spec = (code: Typecode, size: number, kind: Spec["kind"], C: any): Spec => ({
  code,
  size,
  kind,
  make: (buffer, byteOffset, length) => new C(buffer, byteOffset, length)
})

export const specs: Record<Typecode, Spec> = {
  c: spec("c", 1, "char", Uint8Array),
  b: spec("b", 1, "int", Int8Array),
  B: spec("B", 1, "int", Uint8Array),
  h: spec("h", 2, "int", Int16Array),
  H: spec("H", 2, "int", Uint16Array),
  i: spec("i", 4, "int", Int32Array),
  I: spec("I", 4, "int", Uint32Array),
  // C long is 64-bit on Linux and macOS (LP64), as Python's `l` there.
  l: spec("l", 8, "bigint", BigInt64Array),
  L: spec("L", 8, "bigint", BigUint64Array),
  q: spec("q", 8, "bigint", BigInt64Array),
  Q: spec("Q", 8, "bigint", BigUint64Array),
  f: spec("f", 4, "float", Float32Array),
  d: spec("d", 8, "float", Float64Array),
  // wchar_t is 4 bytes (UCS-4) on Linux and macOS.
  u: spec("u", 4, "wchar", Uint32Array)
}

/**
 * The ctypes type of each typecode, by the name Python prints (`multiprocessing.sharedctypes`'
 * `typecode_to_type`). On LP64 (Linux, macOS) ctypes makes `c_longlong` an alias of `c_long`, so
 * `q` / `Q` print as `c_long` / `c_ulong`, as there.
 */
export const ctypesNames: Record<Typecode, string> = {
  c: "c_char",
  u: "c_wchar",
  b: "c_byte",
  B: "c_ubyte",
  h: "c_short",
  H: "c_ushort",
  i: "c_int",
  I: "c_uint",
  l: "c_long",
  L: "c_ulong",
  q: "c_long",
  Q: "c_ulong",
  f: "c_float",
  d: "c_double"
}

export const typecodes: ReadonlyArray<Typecode> = Object.keys(specs) as Array<Typecode>

export const isTypecode = (u: unknown): u is Typecode => typeof u === "string" && Object.hasOwn(specs, u)

export class TypecodeError extends Error {
  readonly pyType: "TypeError" | "ValueError"
  constructor(pyType: "TypeError" | "ValueError", message: string) {
    super(message)
    this.name = pyType
    this.pyType = pyType
  }
}

export const specOf = (code: unknown): Spec => {
  if (!isTypecode(code)) {
    throw new TypecodeError("TypeError", `bad typecode (must be one of ${typecodes.join(" ")}): ${String(code)}`)
  }
  return specs[code]
}

/** Converts a JS value to what the typed array stores, with ctypes' rules. */
export const toRaw = (s: Spec, value: unknown): number | bigint => {
  switch (s.kind) {
    case "int":
      // The low 32 bits first: a bigint past 2 ** 53 is no exact number, so Number() of it would
      // round away the bits the cell keeps (ctypes' c_int(2 ** 60 + 5) is 5).
      if (typeof value === "bigint") return Number(BigInt.asIntN(32, value))
      if (typeof value === "boolean") return value ? 1 : 0
      if (typeof value !== "number" || !Number.isInteger(value)) {
        throw new TypecodeError("TypeError", `int expected instead of ${describe(value)}`)
      }
      return value
    case "bigint":
      if (typeof value === "bigint") return value
      if (typeof value === "boolean") return value ? 1n : 0n
      if (typeof value !== "number" || !Number.isInteger(value)) {
        throw new TypecodeError("TypeError", `int expected instead of ${describe(value)}`)
      }
      return BigInt(value)
    case "float":
      if (typeof value === "number") return value
      if (typeof value === "bigint") return Number(value)
      if (typeof value === "boolean") return value ? 1 : 0
      throw new TypecodeError("TypeError", `must be real number, not ${describe(value)}`)
    case "char":
      if (typeof value === "string" && value.length === 1 && value.charCodeAt(0) < 256) return value.charCodeAt(0)
      if (typeof value === "number" && Number.isInteger(value) && value >= 0 && value < 256) return value
      if (value instanceof Uint8Array && value.length === 1) return value[0]!
      throw new TypecodeError("TypeError", `one character bytes, bytearray or integer expected, not ${describe(value)}`)
    case "wchar": {
      if (typeof value === "string") {
        const cp = value.codePointAt(0)
        if (cp !== undefined && String.fromCodePoint(cp).length === value.length) return cp
      }
      throw new TypecodeError("TypeError", `unicode string of length 1 expected, not ${describe(value)}`)
    }
  }
}

/** Converts what the typed array holds to the JS value. */
export const fromRaw = (s: Spec, raw: number | bigint): unknown => {
  switch (s.kind) {
    case "char":
      return String.fromCharCode(raw as number)
    case "wchar":
      return String.fromCodePoint(raw as number)
    default:
      return raw
  }
}

/** The zero value of a typecode. */
export const zero = (s: Spec): unknown => s.kind === "bigint" ? 0n : s.kind === "char" ? "\x00" : s.kind === "wchar" ? "\x00" : 0

/** Python's name of a value's type, for messages (`int`, `float`, `str of length 2`, …). */
export const describe = (value: unknown): string => {
  if (value === null) return "None"
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float"
  if (typeof value === "string") return `str of length ${value.length}`
  return typeof value === "object" ? ((value as object).constructor?.name ?? "object") : typeof value
}

/** Python's slice resolution: (start, stop, step) into the indices it selects. */
export const sliceIndices = (length: number, start?: number | null, stop?: number | null, step?: number | null): Array<number> => {
  // Python's TypeError for a slice index that is no int: "x" or NaN would select nothing, 1.5
  // positions between cells. ±Infinity is kept as "past the end" (the clamp below).
  for (const i of [start, stop]) {
    if (i != null && !(typeof i === "number" && (Number.isInteger(i) || i === Infinity || i === -Infinity))) {
      throw new TypecodeError("TypeError", "slice indices must be integers or None")
    }
  }
  if (step != null && !(typeof step === "number" && Number.isInteger(step))) {
    throw new TypecodeError("TypeError", "slice indices must be integers or None")
  }
  const st = step ?? 1
  if (st === 0) throw new TypecodeError("ValueError", "slice step cannot be zero")
  const clamp = (i: number, lo: number, hi: number) => Math.max(lo, Math.min(hi, i))
  let a: number
  let b: number
  if (st > 0) {
    a = start == null ? 0 : clamp(start < 0 ? start + length : start, 0, length)
    b = stop == null ? length : clamp(stop < 0 ? stop + length : stop, 0, length)
  } else {
    a = start == null ? length - 1 : clamp(start < 0 ? start + length : start, -1, length - 1)
    b = stop == null ? -1 : clamp(stop < 0 ? stop + length : stop, -1, length - 1)
  }
  const out: Array<number> = []
  if (st > 0) for (let i = a; i < b; i += st) out.push(i)
  else for (let i = a; i > b; i += st) out.push(i)
  return out
}

/** Python's index normalisation: negative counts from the end; out of range is an IndexError. */
export const normIndex = (length: number, i: unknown, what = "index"): number => {
  if (typeof i !== "number" || !Number.isInteger(i)) throw new TypecodeError("TypeError", `${what} must be an integer`)
  const j = i < 0 ? i + length : i
  if (j < 0 || j >= length) {
    const e = new TypecodeError("TypeError", `${what} out of range`)
    e.name = "IndexError"
    throw e
  }
  return j
}

// ---- Python's repr of simple values (for printable forms that read like Python's) --------------

/** Python's `repr(float)`: the shortest digits, `1.0` for integral values, exponent past 1e16. */
export const pyFloat = (x: number): string => {
  if (Number.isNaN(x)) return "nan"
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf"
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0"
  // toExponential() without digits gives the shortest digits that round-trip, as Python's repr.
  const [mantissa, exp] = x.toExponential().split("e") as [string, string]
  const e = Number(exp)
  const sign = mantissa.startsWith("-") ? "-" : ""
  const digits = mantissa.replace("-", "").replace(".", "")
  if (e < -4 || e >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    return `${sign}${m}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`
  }
  if (e < 0) return `${sign}0.${"0".repeat(-e - 1)}${digits}`
  const whole = digits.slice(0, e + 1).padEnd(e + 1, "0")
  const frac = digits.slice(e + 1)
  return `${sign}${whole}.${frac === "" ? "0" : frac}`
}

const quoteFor = (s: string): string => (s.includes("'") && !s.includes("\"") ? "\"" : "'")

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0")

/** Python's `repr(str)`: quoted, with Python's escapes for non-printable characters. */
export const pyStr = (s: string): string => {
  const q = quoteFor(s)
  let out = q
  for (const ch of s) {
    const cp = ch.codePointAt(0)!
    if (ch === "\\" || ch === q) out += `\\${ch}`
    else if (ch === "\n") out += "\\n"
    else if (ch === "\r") out += "\\r"
    else if (ch === "\t") out += "\\t"
    else if (ch !== " " && /[\p{C}\p{Z}]/u.test(ch)) out += cp < 0x100 ? `\\x${hex(cp, 2)}` : cp < 0x10000 ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`
    else out += ch
  }
  return out + q
}

/** Python's `repr(bytes)`: `b'…'`, printable ASCII as is, the rest as `\xNN`. */
export const pyBytes = (b: Uint8Array): string => {
  const text = String.fromCharCode(...b)
  const q = quoteFor(text)
  let out = `b${q}`
  for (const c of b) {
    const ch = String.fromCharCode(c)
    if (ch === "\\" || ch === q) out += `\\${ch}`
    else if (c === 10) out += "\\n"
    else if (c === 13) out += "\\r"
    else if (c === 9) out += "\\t"
    else if (c < 32 || c > 126) out += `\\x${hex(c, 2)}`
    else out += ch
  }
  return out + q
}

/** Python's `repr` of an int / float / bool / str / bytes / None (a JS number that is an integer
 * prints as an int, as the value it stands for). */
export const pyRepr = (u: unknown): string => {
  if (u === null || u === undefined) return "None"
  if (typeof u === "boolean") return u ? "True" : "False"
  if (typeof u === "bigint") return String(u)
  if (typeof u === "number") return Number.isSafeInteger(u) && !Object.is(u, -0) ? String(u) : pyFloat(u)
  if (typeof u === "string") return pyStr(u)
  if (u instanceof Uint8Array) return pyBytes(u)
  if (Array.isArray(u)) return `[${u.map(pyRepr).join(", ")}]`
  return String(u)
}

/** How ctypes shows a scalar of a typecode: `5`, `1.0`, `b'x'`, `'x'`. */
export const ctypesShown = (code: Typecode, value: unknown): string => {
  const s = specs[code]
  return s.kind === "char"
    ? pyBytes(new Uint8Array([String(value).charCodeAt(0)]))
    : s.kind === "float"
    ? pyFloat(Number(value))
    : s.kind === "wchar"
    ? pyStr(String(value))
    : String(value)
}

/** The repr of a ctypes scalar holding `value`, e.g. `c_int(5)`, `c_double(1.0)`, `c_char(b'x')`. */
export const ctypesRepr = (code: Typecode, value: unknown): string => `${ctypesNames[code]}(${ctypesShown(code, value)})`

// ---- structures (ctypes' `Structure` with `_fields_`) ------------------------------------------

/** A structure's fields: name to typecode, in order (ctypes' `_fields_`). */
export type Fields = { readonly [name: string]: Typecode }

/** The plain record a structure of `F` reads as. */
export type StructOf<F extends Fields> = { -readonly [K in keyof F]: Element<F[K]> }

export interface Field {
  readonly name: string
  readonly code: Typecode
  readonly spec: Spec
  /** Bytes from the start of the structure (C's alignment: each field at a multiple of its size). */
  readonly offset: number
}

export interface Layout {
  readonly fields: ReadonlyArray<Field>
  /** The structure's size, a multiple of its widest field (C's padding). */
  readonly size: number
}

/** Whether `u` is a structure's field object (and not a typecode). */
export const isFields = (u: unknown): u is Fields =>
  typeof u === "object" && u !== null && !Array.isArray(u) && Object.getPrototypeOf(u) === Object.prototype

/** C's layout of a structure from its fields (an object, or name / typecode pairs). */
export const layoutOf = (fields: Fields | ReadonlyArray<readonly [string, unknown]>): Layout => {
  const entries = Array.isArray(fields) ? fields as ReadonlyArray<readonly [string, unknown]> : Object.entries(fields)
  let size = 0
  let align = 1
  const out = entries.map(([name, code]): Field => {
    if (!isTypecode(code)) {
      throw new TypecodeError("TypeError", `bad typecode for field '${name}' (must be one of ${typecodes.join(" ")}): ${String(code)}`)
    }
    const spec = specs[code]
    const offset = Math.ceil(size / spec.size) * spec.size
    size = offset + spec.size
    align = Math.max(align, spec.size)
    return { name, code, spec, offset }
  })
  return { fields: out, size: Math.ceil(size / align) * align }
}

/** The field of that name; Python's AttributeError (our TypeError) for another. */
export const fieldOf = (layout: Layout, name: string): Field => {
  const f = layout.fields.find((x) => x.name === name)
  if (!f) throw new TypecodeError("TypeError", `structure has no field '${name}'`)
  return f
}

/** The fields an initialiser or an assignment names, with their values and raw values, all checked
 * before any is written: a record (any of the fields), or values in field order (ctypes' positional
 * initialisers; more than there are fields is "too many initializers"). */
export const structWrites = (layout: Layout, init: unknown): Array<readonly [Field, unknown, number | bigint]> => {
  if (Array.isArray(init)) {
    if (init.length > layout.fields.length) throw new TypecodeError("TypeError", "too many initializers")
    return init.map((v, i) => [layout.fields[i]!, v, toRaw(layout.fields[i]!.spec, v)] as const)
  }
  if (typeof init !== "object" || init === null) {
    throw new TypecodeError("TypeError", `a structure takes a record of its fields, not ${describe(init)}`)
  }
  return Object.entries(init).map(([name, v]) => {
    const f = fieldOf(layout, name)
    return [f, v, toRaw(f.spec, v)] as const
  })
}
