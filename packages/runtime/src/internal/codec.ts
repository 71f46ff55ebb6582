/**
 * The mailbox codec: any structured-clone value to msgpackr bytes and back, exactly.
 *
 * msgpackr alone loses -0, sparse holes, lone surrogates, Map identity and error fields, so values
 * are first "prepared" into a tree msgpackr carries faithfully (special cases become `Ext` nodes),
 * and "restored" on the other side. Plain data (numbers, well-formed strings, plain objects and
 * arrays of them) passes through untouched, which keeps the hot path cheap.
 *
 * This module must stay free of `effect`: worker bootstraps load it before anything else.
 * @internal
 */
import type * as Msgpackr from "msgpackr/pack"

// msgpackr's Node entry also loads its stream iterators, ~4 ms of a worker's boot; its pack.js
// (which brings unpack.js) is all the codec needs. Fall back to the entry if the layout changes.
// Resolving the package's exports costs a fresh worker a few ms more than a direct path: try the
// workspace's own node_modules first. Loaded with `require` when first needed (Node 24 requires
// ES modules without top-level await synchronously), not a top-level `await import`: a worker thread terminated while
// an async module finishes evaluating can bring V8 down (a CHECK in
// `SourceTextModule::AsyncModuleExecutionFulfilled`), so the bootstrap's modules have no top-level
// await.
const loadMsgpackr = (): typeof Msgpackr => {
  const require = process.getBuiltinModule("node:module").createRequire(import.meta.url)
  const { fileURLToPath } = process.getBuiltinModule("node:url")
  for (const load of [
    () => require("../../node_modules/msgpackr/pack.js"),
    () => require(fileURLToPath(new URL("./pack.js", import.meta.resolve("msgpackr/pack")))),
    () => require("msgpackr")
  ]) {
    try {
      return load() as typeof Msgpackr
    } catch {
      // next
    }
  }
  throw new Error("msgpackr cannot be loaded")
}

/** Thrown at the sender when a value cannot cross a process boundary. */
export class CodecError extends Error {
  readonly path: string
  readonly reason: string
  constructor(path: string, reason: string) {
    super(`cannot serialise value at ${path}: ${reason}`)
    this.name = "SerializationError"
    this.path = path
    this.reason = reason
  }
}

/** A node of the prepared tree standing for a value msgpackr cannot carry as is. */
class Ext {
  readonly t: number
  readonly v: unknown
  constructor(t: number, v: unknown) {
    this.t = t
    this.v = v
  }
}

const T_NEG_ZERO = 0
const T_STR16 = 1
const T_REF = 2
const T_SPARSE = 3
const T_OBJ = 4
const T_MAP = 5
const T_SET = 6
const T_DATE = 7
const T_REGEXP = 8
const T_ABUF = 9
const T_VIEW = 10
const T_BOXED = 11
const T_ERROR = 12
const T_CUSTOM = 13
const T_SHARED = 14
const T_ROOT = 15
const T_OPAQUE = 16

let packrLoaded: InstanceType<typeof Msgpackr.Packr> | undefined

/**
 * msgpackr, loaded when first needed: a thread whose messages are all plain (see `isPlainArray`)
 * never loads it (3-5 ms of a worker's boot, measured).
 */
const packr = (): InstanceType<typeof Msgpackr.Packr> => packrLoaded ??= makePackr()

const makePackr = (): InstanceType<typeof Msgpackr.Packr> => {
  const { addExtension, Packr } = loadMsgpackr()
  addExtension({
    Class: Ext,
    type: 0x4d,
    write: (ext: Ext) => [ext.t, ext.v],
    read: (data: [number, unknown]) => new Ext(data[0], data[1])
  })
  return new Packr({
    useRecords: false,
    mapsAsObjects: true,
    int64AsType: "bigint",
    useBigIntExtension: true
  } as ConstructorParameters<typeof Msgpackr.Packr>[0])
}

/** Whether this thread has loaded msgpackr yet (for tests). */
export const msgpackrLoaded = (): boolean => packrLoaded !== undefined

/** A type whose instances cross the boundary through their own encoding (queues, locks, …). */
export interface CustomCodec<A = any> {
  readonly tag: string
  readonly Class: abstract new(...args: any) => A
  readonly encode: (value: A, ctx: EncodeContext) => unknown
  readonly decode: (payload: any, ctx: DecodeContext) => A
}

/** Where an encoded value is going; custom codecs use it to pick a representation. */
export interface EncodeContext {
  /** Objects that travel beside the bytes (SharedArrayBuffer, MessagePort), thread backend only. */
  readonly shared: Array<unknown> | undefined
}

/** Where a decoded value came from. */
export interface DecodeContext {
  readonly shared: ReadonlyArray<unknown> | undefined
}

const customByClass = new Map<Function, CustomCodec>()
const customByTag = new Map<string, CustomCodec>()

/** Registers a type that crosses process boundaries through its own encoding. */
export const registerCustom = <A>(codec: CustomCodec<A>): void => {
  customByClass.set(codec.Class, codec)
  customByTag.set(codec.tag, codec)
}

let functionCodec: { tag: string; encode: (fn: Function) => unknown } | undefined

/** Lets functions that carry their own address (tasks) cross as references. */
export const registerFunctionCodec = (tag: string, encode: (fn: Function) => unknown, decode: (payload: any) => unknown): void => {
  functionCodec = { tag, encode }
  customByTag.set(tag, { tag, Class: Function as any, encode: () => undefined, decode })
}

const errorClasses = new Map<string, Function>()

/** Makes errors whose class is named `name` decode as instances of `Class`. */
export const registerErrorClass = (Class: Function, name: string = Class.name): void => {
  errorClasses.set(name, Class)
}

const builtinErrors: Record<string, ErrorConstructor> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  AggregateError: AggregateError as unknown as ErrorConstructor
}

const viewKinds = [
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView
] as const

const viewKindOf = (view: ArrayBufferView): number => {
  if (view instanceof DataView) return 11
  for (let i = 0; i < 11; i++) {
    if (view instanceof (viewKinds[i] as Function)) return i
  }
  return -1
}

// Float16Array exists on newer Nodes; keep it if present.
const Float16 = (globalThis as any).Float16Array as (new(b: ArrayBufferLike, o: number, l: number) => ArrayBufferView) | undefined

const describe = (value: unknown): string => {
  if (typeof value === "function") return `a function${value.name ? ` (${value.name})` : ""} cannot be sent; send a Task reference instead`
  if (typeof value === "symbol") return `a symbol (${String(value)}) cannot be sent`
  const ctor = (value as any)?.constructor?.name ?? "null-prototype object"
  return `an instance of ${ctor} would lose its meaning in another process`
}

const child = (path: string, key: string | number): string =>
  typeof key === "number" ? `${path}[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`

interface PrepareState {
  /** Objects met so far, by id (their order of first meeting): a short list is searched, a
   * long walk switches to a map. Most messages hold a handful of objects. */
  readonly seenList: Array<object>
  seenMap: Map<object, number> | undefined
  special: boolean
  readonly ctx: EncodeContext
  /** Where the walk is: the root's name and the keys below it. Formatted only for an error, so
   * the walk builds no path strings. */
  readonly root: string
  readonly keys: Array<string | number | Segment>
}

/** A path segment written as is (`<key 0>`, `.buffer`). */
class Segment {
  readonly text: string
  constructor(text: string) {
    this.text = text
  }
}

const pathOf = (state: PrepareState): string => {
  let path = state.root
  for (const k of state.keys) path = k instanceof Segment ? path + k.text : child(path, k)
  return path
}

/** Prepares `value` one level below the current position. */
const prepareAt = (value: unknown, key: string | number | Segment, state: PrepareState): unknown => {
  state.keys.push(key)
  const out = prepare(value, state)
  state.keys.pop()
  return out
}

const prepareString = (s: string, state: PrepareState): unknown => {
  if (s.isWellFormed()) return s
  state.special = true
  const units = new Uint16Array(s.length)
  for (let i = 0; i < s.length; i++) units[i] = s.charCodeAt(i)
  return new Ext(T_STR16, new Uint8Array(units.buffer))
}

const prepareKey = (k: string, state: PrepareState): unknown => prepareString(k, state)

function prepare(value: unknown, state: PrepareState): unknown {
  switch (typeof value) {
    case "number":
      if (value === 0 && 1 / value < 0) {
        state.special = true
        return new Ext(T_NEG_ZERO, 0)
      }
      return value
    case "string":
      return prepareString(value, state)
    case "boolean":
    case "undefined":
    case "bigint":
      return value
    case "function": {
      const payload = functionCodec?.encode(value)
      if (payload === undefined) throw new CodecError(pathOf(state), describe(value))
      state.special = true
      const seenFn = seenId(state, value)
      if (seenFn >= 0) return new Ext(T_REF, seenFn)
      meet(state, value)
      return new Ext(T_CUSTOM, [functionCodec!.tag, prepare(payload, state)])
    }
    case "symbol":
      throw new CodecError(pathOf(state), describe(value))
  }
  if (value === null) return null
  const obj = value as object
  // Already prepared (an opaque part, see `prepareOpaque`): pass through, in its own id space.
  if (obj instanceof Ext) {
    state.special = true
    return obj
  }
  const id = seenId(state, obj)
  if (id >= 0) {
    state.special = true
    return new Ext(T_REF, id)
  }
  meet(state, obj)
  if (Array.isArray(obj)) return prepareArray(obj, state)
  const proto = Object.getPrototypeOf(obj)
  if (proto === Object.prototype || proto === null) return preparePlain(obj as Record<string, unknown>, state)
  state.special = true
  if (obj instanceof Map) {
    const out: Array<unknown> = []
    let i = 0
    for (const [k, v] of obj) {
      out.push(prepareAt(k, new Segment(`<key ${i}>`), state), prepareAt(v, new Segment(`<value ${i}>`), state))
      i++
    }
    return new Ext(T_MAP, out)
  }
  if (obj instanceof Set) {
    const out: Array<unknown> = []
    let i = 0
    for (const v of obj) out.push(prepareAt(v, new Segment(`<element ${i++}>`), state))
    return new Ext(T_SET, out)
  }
  if (obj instanceof Date) return new Ext(T_DATE, obj.getTime())
  if (obj instanceof RegExp) return new Ext(T_REGEXP, [obj.source, obj.flags])
  if (obj instanceof ArrayBuffer) return new Ext(T_ABUF, new Uint8Array(obj.slice(0)))
  if (typeof SharedArrayBuffer !== "undefined" && obj instanceof SharedArrayBuffer) {
    if (!state.ctx.shared) throw new CodecError(pathOf(state), "a SharedArrayBuffer cannot be shared with another OS process")
    state.ctx.shared.push(obj)
    return new Ext(T_SHARED, state.ctx.shared.length - 1)
  }
  if (ArrayBuffer.isView(obj)) {
    let kind = viewKindOf(obj)
    if (kind < 0 && Float16 && obj instanceof Float16) kind = 12
    if (kind < 0) throw new CodecError(pathOf(state), describe(obj))
    const length = obj instanceof DataView ? obj.byteLength : (obj as unknown as { length: number }).length
    return new Ext(T_VIEW, [kind, prepareAt(obj.buffer, new Segment(".buffer"), state), obj.byteOffset, length])
  }
  if (obj instanceof Error) return prepareError(obj, state)
  if (obj instanceof Number || obj instanceof String || obj instanceof Boolean || (obj as any) instanceof (BigInt as any)) {
    const inner = obj.valueOf()
    return new Ext(T_BOXED, [typeof inner, prepare(inner, state)])
  }
  const custom = customByClass.get(proto.constructor)
  if (custom) return new Ext(T_CUSTOM, [custom.tag, prepareAt(custom.encode(obj, state.ctx), `<${custom.tag}>`, state)])
  // Host objects the runtime knows how to pass alongside the bytes (thread backend only).
  if (isTransferablePort(obj)) {
    if (!state.ctx.shared) throw new CodecError(pathOf(state), "a MessagePort cannot be sent to another OS process")
    state.ctx.shared.push(obj)
    return new Ext(T_SHARED, state.ctx.shared.length - 1)
  }
  throw new CodecError(pathOf(state), describe(obj))
}

const isTransferablePort = (obj: object): boolean => (obj as any)?.constructor?.name === "MessagePort" && typeof (obj as any).postMessage === "function"

/** Values msgpackr carries as they are: no walk needed (-0 and long or odd strings are walked). */
export const isPlainLeaf = (v: unknown): boolean =>
  (typeof v === "number" && (v !== 0 || 1 / v > 0)) || typeof v === "boolean" || (typeof v === "string" && v.length < 64 && v.isWellFormed())

/** A small array of plain leaves, `null`, `undefined` (not holes) and small arrays of them, down
 * to `depth` levels below: it needs neither preparing nor restoring. */
export const isPlainArray = (v: unknown, depth: number): boolean => {
  if (!Array.isArray(v) || v.length > 16) return false
  for (let i = 0; i < v.length; i++) {
    const x = v[i]
    if (isPlainLeaf(x) || x === null || (x === undefined && i in v)) continue
    if (depth === 0 || !isPlainArray(x, depth - 1)) return false
  }
  return true
}

function prepareArray(arr: Array<unknown>, state: PrepareState): unknown {
  const n = arr.length
  let out: Array<unknown> | undefined
  for (let i = 0; i < n; i++) {
    const v = arr[i]
    if (isPlainLeaf(v)) {
      if (out !== undefined) out.push(v)
      continue
    }
    if (v === undefined && !(i in arr)) return prepareSparse(arr, out ?? arr.slice(0, i), i, state)
    const p = prepareAt(v, i, state)
    if (p !== v && out === undefined) out = arr.slice(0, i)
    if (out !== undefined) out.push(p)
  }
  return out ?? arr
}

/** Continues an array found to have a hole at `from`; `done` holds its prepared elements before. */
function prepareSparse(arr: Array<unknown>, done: Array<unknown>, from: number, state: PrepareState): unknown {
  state.special = true
  const entries: Array<unknown> = [arr.length]
  for (let i = 0; i < from; i++) entries.push(i, done[i])
  for (const k of Object.keys(arr)) {
    const i = Number(k)
    if (!Number.isInteger(i) || i < from) continue
    entries.push(i, prepareAt(arr[i], i, state))
  }
  return new Ext(T_SPARSE, entries)
}

/** `obj[k] = v`, also for `__proto__` (an assignment would set the prototype instead). */
const setOwn = (obj: Record<string, unknown>, k: string, v: unknown): void => {
  if (k === "__proto__") Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true })
  else obj[k] = v
}

function preparePlain(obj: Record<string, unknown>, state: PrepareState): unknown {
  let out: Record<string, unknown> | undefined
  let odd = false
  const keys = Object.keys(obj)
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!
    if (k === "__proto__" || !k.isWellFormed()) odd = true
    const v = obj[k]
    const p = isPlainLeaf(v) ? v : prepareAt(v, k, state)
    if (p !== v && out === undefined) {
      out = {}
      for (let j = 0; j < i; j++) setOwn(out, keys[j]!, obj[keys[j]!])
    }
    if (out !== undefined) setOwn(out, k, p)
  }
  if (odd) {
    // Keys that msgpackr or an object literal cannot hold safely travel as a flat list.
    state.special = true
    const flat: Array<unknown> = []
    const src = out ?? obj
    for (const k of keys) flat.push(prepareKey(k, state), src[k])
    return new Ext(T_OBJ, flat)
  }
  return out ?? obj
}

function prepareError(err: Error, state: PrepareState): unknown {
  const fields: Record<string, unknown> = {}
  for (const k of Object.keys(err)) {
    if (k === "message" || k === "stack" || k === "cause") continue
    fields[k] = (err as any)[k]
  }
  if (err instanceof AggregateError) fields.errors = err.errors
  const hasCause = Object.prototype.hasOwnProperty.call(err, "cause") || ("cause" in err && (err as any).cause !== undefined)
  return new Ext(T_ERROR, [
    String(err.name),
    String(err.message),
    typeof err.stack === "string" ? err.stack : "",
    err.constructor?.name ?? "Error",
    prepareAt(fields, "<fields>", state),
    hasCause ? 1 : 0,
    hasCause ? prepareAt((err as any).cause, "cause", state) : null
  ])
}

/** Prepares a value for msgpackr; throws `CodecError` naming the path of a value that cannot cross. */
export const prepareValue = (value: unknown, ctx: EncodeContext, path = "$"): unknown => {
  switch (typeof value) {
    case "number":
      if (value !== 0) return value
      break
    case "boolean":
    case "undefined":
      return value
    case "string":
      if (value.length < 64 && value.isWellFormed()) return value
  }
  const state: PrepareState = { seenList: [], seenMap: undefined, special: false, ctx, root: path, keys: [] }
  const out = prepare(value, state)
  return state.special ? new Ext(T_ROOT, out) : out
}

const SEEN_LIST_MAX = 16

const seenId = (state: PrepareState, obj: object): number => {
  if (state.seenMap !== undefined) return state.seenMap.get(obj) ?? -1
  return state.seenList.indexOf(obj)
}

const meet = (state: PrepareState, obj: object): void => {
  const list = state.seenList
  if (state.seenMap !== undefined) {
    state.seenMap.set(obj, state.seenMap.size)
    return
  }
  list.push(obj)
  if (list.length > SEEN_LIST_MAX) {
    const map = new Map<object, number>()
    for (let i = 0; i < list.length; i++) map.set(list[i]!, i)
    state.seenMap = map
  }
}

interface RestoreState {
  readonly refs: Array<unknown>
  readonly ctx: DecodeContext
}

const syntheticErrors = new Map<string, ErrorConstructor>()
const syntheticError = (name: string): ErrorConstructor => {
  let C = syntheticErrors.get(name)
  if (!C) {
    C = ({ [name]: class extends Error {} })[name] as unknown as ErrorConstructor
    Object.defineProperty(C.prototype, "name", { value: name, writable: true, configurable: true, enumerable: false })
    syntheticErrors.set(name, C)
  }
  return C
}

function restore(value: unknown, state: RestoreState): unknown {
  if (typeof value !== "object" || value === null) return value
  if (value instanceof Ext) return restoreExt(value, state)
  if (Array.isArray(value)) {
    state.refs.push(value)
    for (let i = 0; i < value.length; i++) {
      const v = value[i]
      if (typeof v === "object" && v !== null) value[i] = restore(v, state)
    }
    return value
  }
  state.refs.push(value)
  const obj = value as Record<string, unknown>
  for (const k in obj) {
    const v = obj[k]
    if (typeof v === "object" && v !== null) obj[k] = restore(v, state)
  }
  return obj
}

function reserve(state: RestoreState): number {
  state.refs.push(undefined)
  return state.refs.length - 1
}

function restoreExt(ext: Ext, state: RestoreState): unknown {
  const v = ext.v as any
  switch (ext.t) {
    case T_NEG_ZERO:
      return -0
    case T_STR16: {
      const bytes = v as Uint8Array
      const units = new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
      let s = ""
      for (let i = 0; i < units.length; i += 8192) s += String.fromCharCode.apply(null, units.subarray(i, i + 8192) as unknown as Array<number>)
      return s
    }
    case T_REF:
      return state.refs[v as number]
    case T_SPARSE: {
      const arr: Array<unknown> = []
      state.refs.push(arr)
      arr.length = v[0]
      for (let i = 1; i < v.length; i += 2) arr[v[i]] = restore(v[i + 1], state)
      return arr
    }
    case T_OBJ: {
      const obj: Record<string, unknown> = {}
      state.refs.push(obj)
      for (let i = 0; i < v.length; i += 2) {
        const k = restore(v[i], state) as string
        Object.defineProperty(obj, k, { value: restore(v[i + 1], state), enumerable: true, writable: true, configurable: true })
      }
      return obj
    }
    case T_MAP: {
      const map = new Map()
      state.refs.push(map)
      for (let i = 0; i < v.length; i += 2) {
        const k = restore(v[i], state)
        map.set(k, restore(v[i + 1], state))
      }
      return map
    }
    case T_SET: {
      const set = new Set()
      state.refs.push(set)
      for (const e of v as Array<unknown>) set.add(restore(e, state))
      return set
    }
    case T_DATE: {
      const d = new Date(v as number)
      state.refs.push(d)
      return d
    }
    case T_REGEXP: {
      const r = new RegExp(v[0], v[1])
      state.refs.push(r)
      return r
    }
    case T_ABUF: {
      const bytes = v as Uint8Array
      const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
      state.refs.push(buf)
      return buf
    }
    case T_VIEW: {
      const slot = reserve(state)
      const buffer = restore(v[1], state) as ArrayBuffer
      const kind = v[0] as number
      const Ctor: any = kind === 12 ? Float16 : viewKinds[kind]
      const view = new Ctor(buffer, v[2], v[3])
      state.refs[slot] = view
      return view
    }
    case T_BOXED: {
      const inner = restore(v[1], state)
      const boxed = Object(inner)
      state.refs.push(boxed)
      return boxed
    }
    case T_ERROR:
      return restoreError(v, state)
    case T_CUSTOM: {
      const codec = customByTag.get(v[0])
      const slot = reserve(state)
      const payload = restore(v[1], state)
      if (!codec) throw new CodecError("$", `no codec is registered for ${v[0]} in this process; import the module that defines it`)
      const out = codec.decode(payload, state.ctx)
      state.refs[slot] = out
      return out
    }
    case T_SHARED: {
      const shared = state.ctx.shared?.[v as number]
      state.refs.push(shared)
      return shared
    }
    case T_ROOT:
      return restore(v, state)
    case T_OPAQUE:
      return new Opaque(v)
  }
  throw new CodecError("$", `unknown extension ${ext.t}`)
}

function restoreError(v: Array<any>, state: RestoreState): Error {
  const slot = reserve(state)
  const [name, message, stack, ctorName] = v as [string, string, string, string]
  const Known = errorClasses.get(ctorName) ?? builtinErrors[ctorName]
  const Ctor = Known ?? syntheticError(ctorName)
  const err = Object.create(Ctor.prototype) as Error
  state.refs[slot] = err
  Object.defineProperty(err, "message", { value: message, writable: true, configurable: true, enumerable: false })
  if (err.name !== name) Object.defineProperty(err, "name", { value: name, writable: true, configurable: true, enumerable: false })
  Object.defineProperty(err, "stack", { value: stack, writable: true, configurable: true, enumerable: false })
  const fields = restore(v[4], state) as Record<string, unknown>
  for (const k of Object.keys(fields)) {
    if (k === "errors" && ctorName === "AggregateError") {
      Object.defineProperty(err, "errors", { value: fields[k], writable: true, configurable: true, enumerable: false })
    } else {
      ;(err as any)[k] = fields[k]
    }
  }
  if (v[5] === 1) {
    Object.defineProperty(err, "cause", { value: restore(v[6], state), writable: true, configurable: true, enumerable: false })
  }
  return err
}

/**
 * A part of a message left undecoded on arrival: the receiver opens it when it is ready to (after
 * importing the module that registers the codecs it needs, for example).
 */
export class Opaque {
  readonly tree: unknown
  constructor(tree: unknown) {
    this.tree = tree
  }
  open(ctx: DecodeContext): unknown {
    return restoreValue(this.tree, ctx)
  }
}

/** Prepares a value to travel inside a message as an {@link Opaque} part (own reference space). */
export const prepareOpaque = (value: unknown, ctx: EncodeContext, path = "$"): unknown =>
  new Ext(T_OPAQUE, prepareValue(value, ctx, path))

/** Turns a prepared tree (as msgpackr decoded it) back into the value that was sent. */
export const restoreValue = (value: unknown, ctx: DecodeContext): unknown =>
  value instanceof Ext ? restoreExt(value, { refs: [], ctx }) : value

const noShared: EncodeContext = { shared: undefined }
const noSharedDecode: DecodeContext = { shared: undefined }

/** Encodes one value into standalone msgpack bytes (a fresh buffer, safe to transfer). */
export const encode = (value: unknown, ctx: EncodeContext = noShared): Uint8Array => {
  const packed = packr().pack(prepareValue(value, ctx))
  return new Uint8Array(packed)
}

/** Decodes bytes produced by {@link encode}. */
export const decode = (bytes: Uint8Array, ctx: DecodeContext = noSharedDecode): unknown =>
  restoreValue(packr().unpack(bytes), ctx)

/** Packs already prepared values as one batch (one msgpack array) into a fresh buffer. */
export const packBatch = (prepared: Array<unknown>): Uint8Array => new Uint8Array(packr().pack(prepared))

/** Packs a batch into msgpackr's own buffer: the view is valid only until the next pack. */
export const packBatchView = (prepared: Array<unknown>): Buffer => packr().pack(prepared) as Buffer

/** Unpacks a batch into its prepared values; call {@link restoreValue} on each. */
export const unpackBatch = (bytes: Uint8Array): Array<unknown> => packr().unpack(bytes) as Array<unknown>
