/**
 * The worker side of Pool: one call runs a user's task over a chunk of argument lists, so the
 * pool pays one round trip per chunk, not per item. Free of `effect` unless the user's task
 * returns an Effect (then `effect/Effect` is loaded once, lazily), so pool workers boot fast.
 *
 * A chunk answers with the plain values array when every item succeeded with a primitive value
 * (the hot path), or with `{ b, s }`: the chunk's `[values, failures]` encoded here, so that a
 * value that cannot be serialised fails only its own item. `failures` is flat:
 * `[index, status, error, index, status, error, …]` with the runtime's DONE statuses. One plain
 * item (an `apply`, say) travels flat and a primitive result comes back bare ({@link SINGLE}):
 * three arrays less to clone per round trip, 0.7-0.9 µs of a pool's 13 (measured).
 * @internal
 */
import { CodecError, encode, Opaque, prepareOpaque, registerCustom } from "@multiproc/runtime/internal/codec"
import * as kernel from "@multiproc/runtime/internal/kernel"
import { DIE, FAIL, INTERRUPTED, THROW } from "@multiproc/runtime/internal/protocol"
import * as Task from "@multiproc/runtime/Task"

type Fn = (...args: ReadonlyArray<any>) => unknown
type EffectModule = typeof import("effect/Effect")

const fns = new Map<string, Fn>()
let E: EffectModule | undefined

const isEffect = (u: unknown): boolean => typeof u === "object" && u !== null && "~effect/Effect" in u
const isThenable = (u: unknown): u is PromiseLike<unknown> =>
  u !== null && (typeof u === "object" || typeof u === "function") && typeof (u as any).then === "function"

const invoke = (fn: Fn, star: number, item: unknown): unknown => star === 1 ? fn(...(item as Array<unknown>)) : fn(item)

/** The encoded answer of a chunk that is not all-primitive. */
export interface Packed {
  readonly b: Uint8Array
  readonly s: Array<unknown> | null
}

const isPrimitive = (v: unknown): boolean => v === null || (typeof v !== "object" && typeof v !== "function" && typeof v !== "symbol")

const sharedContext = (): Array<unknown> | undefined => kernel.self.backend === "thread" ? [] : undefined

const finish = (values: Array<unknown>, failures: Array<unknown> | undefined): Array<unknown> | Packed => {
  if (failures === undefined) {
    let plain = true
    for (let i = 0; i < values.length; i++) {
      if (!isPrimitive(values[i])) {
        plain = false
        break
      }
    }
    if (plain) return values
  }
  const f = failures ?? []
  const shared = sharedContext()
  try {
    return { b: encode([values, f], { shared }), s: shared ?? null }
  } catch (e) {
    if (!(e instanceof CodecError)) throw e
  }
  // Something cannot cross: find it, and fail only the items it belongs to.
  for (let i = 0; i < values.length; i++) {
    if (isPrimitive(values[i])) continue
    try {
      encode(values[i], { shared: sharedContext() })
    } catch (e) {
      if (!(e instanceof CodecError)) throw e
      values[i] = undefined
      f.push(i, THROW, new CodecError(`result${e.path.slice(1)}`, e.reason))
    }
  }
  for (let k = 2; k < f.length; k += 3) {
    try {
      encode(f[k], { shared: sharedContext() })
    } catch {
      const err = f[k] as any
      f[k] = new Error(typeof err?.message === "string" ? err.message : String(err))
    }
  }
  const s2 = sharedContext()
  return { b: encode([values, f], { shared: s2 }), s: s2 ?? null }
}

const runAsync = async (
  fn: Fn,
  star: number,
  items: ReadonlyArray<unknown>,
  from: number,
  first: PromiseLike<unknown>,
  values: Array<unknown>,
  failures: Array<unknown> | undefined
): Promise<unknown> => {
  for (let i = from; i < items.length; i++) {
    let out: unknown
    try {
      out = i === from ? first : invoke(fn, star, items[i])
      if (isEffect(out)) return runEffects(fn, star, items, i, out, values, failures)
      values[i] = await out
    } catch (e) {
      ;(failures ??= []).push(i, THROW, e)
    }
  }
  return finish(values, failures)
}

const runEffects = (
  fn: Fn,
  star: number,
  items: ReadonlyArray<unknown>,
  from: number,
  first: unknown,
  values: Array<unknown>,
  failures: Array<unknown> | undefined
): unknown => {
  if (E === undefined) {
    return import("effect/Effect").then((m) => {
      E = m
      return runEffects(fn, star, items, from, first, values, failures)
    })
  }
  const Eff = E
  return Eff.gen(function*() {
    for (let i = from; i < items.length; i++) {
      let out: unknown
      try {
        out = i === from ? first : invoke(fn, star, items[i])
      } catch (e) {
        ;(failures ??= []).push(i, THROW, e)
        continue
      }
      if (!isEffect(out) && !isThenable(out)) {
        values[i] = out
        continue
      }
      const exit: any = isEffect(out)
        ? yield* Eff.exit(out as any)
        : yield* Eff.exit(Eff.tryPromise({ try: () => out as PromiseLike<unknown>, catch: (e) => e }))
      if (exit._tag === "Success") {
        values[i] = exit.value
        continue
      }
      const reasons: ReadonlyArray<any> = exit.cause.reasons
      const fail = reasons.find((r) => r._tag === "Fail")
      const die = reasons.find((r) => r._tag === "Die")
      if (!isEffect(out)) (failures ??= []).push(i, THROW, fail?.error)
      else if (fail) (failures ??= []).push(i, FAIL, fail.error)
      else if (die) (failures ??= []).push(i, DIE, die.defect)
      else (failures ??= []).push(i, INTERRUPTED, undefined)
    }
    return finish(values, failures)
  })
}

const run = (fn: Fn, star: number, items: ReadonlyArray<unknown>): unknown => {
  const n = items.length
  const values = new Array<unknown>(n)
  let failures: Array<unknown> | undefined
  for (let i = 0; i < n; i++) {
    let out: unknown
    try {
      out = invoke(fn, star, items[i])
    } catch (e) {
      ;(failures ??= []).push(i, THROW, e)
      continue
    }
    if (out !== null && typeof out === "object") {
      if (isEffect(out)) return runEffects(fn, star, items, i, out, values, failures)
      if (typeof (out as any).then === "function") return runAsync(fn, star, items, i, out as PromiseLike<unknown>, values, failures)
    }
    values[i] = out
  }
  return finish(values, failures)
}

/**
 * A chunk's items, left undecoded on arrival and opened once the task's module is imported: the
 * items may hold handles (queues, connections, …) whose codecs that module's imports register.
 */
export class Items {
  readonly items: ReadonlyArray<unknown> | undefined
  readonly opaque: Opaque | undefined
  readonly shared: ReadonlyArray<unknown> | undefined
  constructor(items: ReadonlyArray<unknown> | undefined, opaque?: Opaque, shared?: ReadonlyArray<unknown>) {
    this.items = items
    this.opaque = opaque
    this.shared = shared
  }
  open(): ReadonlyArray<unknown> {
    return this.items ?? (this.opaque!.open({ shared: this.shared }) as ReadonlyArray<unknown>)
  }
}

registerCustom<Items>({
  tag: "multiproc/pool/Items",
  Class: Items,
  encode: (x, ctx) => prepareOpaque(x.items, ctx, "items"),
  decode: (opaque: Opaque, ctx) => new Items(undefined, opaque, ctx.shared)
})

const open = (items: Items | ReadonlyArray<unknown>): ReadonlyArray<unknown> => items instanceof Items ? items.open() : items

/**
 * The kernel port where a pool tells its worker a task's number: `[number, module, key]`, sent
 * over the same channel as the calls and before the first call that uses the number. A port's
 * messages are handled on arrival, so the worker knows the name even if that call is interrupted
 * before it runs; calls then carry the number, not the module URL.
 */
export const TASKS_PORT = -0x504f // "PO"

/** Task names by number, and their functions once resolved. */
const names: Array<readonly [string, string] | undefined> = []
const byNumber: Array<Fn | undefined> = []

kernel.openPort((body) => {
  const m = body as Array<unknown>
  if (Array.isArray(m) && Number.isInteger(m[0]) && (m[0] as number) >= 0 && typeof m[1] === "string" && typeof m[2] === "string") {
    names[m[0] as number] = [m[1], m[2]]
  }
}, TASKS_PORT)

/** In `runChunk`'s `star`: one plain item, whose arguments (with `star` 1) or argument follow
 * flat; a primitive result is answered bare, not in a values array. */
export const SINGLE = 2

/** One item sent flat (see {@link SINGLE}). */
const runOne = (fn: Fn, star: number, rest: ReadonlyArray<unknown>): unknown => {
  const spread = star & 1
  const item = spread === 1 ? rest : rest[0]
  let out: unknown
  try {
    out = invoke(fn, spread, item)
  } catch (e) {
    return finish([undefined], [0, THROW, e])
  }
  if (isPrimitive(out)) return out
  // Anything else continues as the first item of a chunk of one.
  const items = [item]
  const values: Array<unknown> = [undefined]
  if (typeof out === "object") {
    if (isEffect(out)) return runEffects(fn, spread, items, 0, out, values, undefined)
    if (typeof (out as any).then === "function") return runAsync(fn, spread, items, 0, out as PromiseLike<unknown>, values, undefined)
  }
  values[0] = out
  return finish(values, undefined)
}

const runWith = (fn: Fn, star: number, rest: ReadonlyArray<unknown>): unknown =>
  star >= SINGLE ? runOne(fn, star, rest) : run(fn, star, open(rest[0] as Items | ReadonlyArray<unknown>))

/** Runs task number `no` over its items: `[items]` (each one argument, or with `star` one
 * argument list), or one item flat (`star | SINGLE`, see {@link SINGLE}). */
export const runChunk = Task.make(import.meta, function runChunk(no: number, star: number, ...rest: Array<unknown>) {
  const fn = byNumber[no]
  if (fn !== undefined) return runWith(fn, star, rest)
  const name = names[no]
  if (name === undefined) throw new Error(`pool task number ${no} was never named to this worker`)
  const [module, key] = name
  const id = `${module}#${key}`
  const known = fns.get(id)
  if (known !== undefined) {
    byNumber[no] = known
    return runWith(known, star, rest)
  }
  return Task.resolve(module, key).then((f) => {
    fns.set(id, f)
    byNumber[no] = f
    return runWith(f, star, rest)
  })
}, { name: "runChunk" })

/** Answers at once: tells the pool the worker's event loop is free. */
export const ping = Task.make(import.meta, function ping() {
  return 0
}, { name: "ping" })
