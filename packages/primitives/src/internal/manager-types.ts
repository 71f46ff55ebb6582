/**
 * The built-in types a manager serves (Python's SyncManager registry): dict, list, Namespace,
 * Value, Array, and the synchronisation and queue types, as plain objects living in the manager's
 * process. Every method runs to completion on the server's event loop, so each single call is
 * atomic. Blocking methods return promises; they see the caller and an abort signal through
 * {@link current}, and release what a dead or departed caller held through `down`.
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import * as PoolModule from "../Pool.ts"
import { squash } from "./facade.ts"
import { pyError } from "./manager-common.ts"
import * as tc from "./typecodes.ts"

/** Who is calling, while a served method starts. */
export interface CallContext {
  readonly from: string
  readonly signal: AbortSignal
}

export let current: CallContext = { from: "", signal: new AbortController().signal }

export const withContext = <A>(ctx: CallContext, f: () => A): A => {
  const prev = current
  current = ctx
  try {
    return f()
  } finally {
    current = prev
  }
}

/** Whether `address` is the dead process `dead` or one of its descendants. */
export const isAtOrBelow = (address: string, dead: string): boolean =>
  address === dead || (dead === "" ? true : address.startsWith(dead + ":"))

// ---- structural equality (Python's ==) ------------------------------------------------------------

export const equals = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
    if (typeof a === "bigint" || typeof b === "bigint") return typeof a !== "object" && typeof b !== "object" && a == b
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => equals(x, b[i]))
  if (a instanceof Map) return b instanceof Map && a.size === b.size && [...a].every(([k, v]) => b.has(k) && equals(v, b.get(k)))
  if (a instanceof Set) return b instanceof Set && a.size === b.size && [...a].every((x) => b.has(x))
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && equals((a as any)[k], (b as any)[k]))
}

const checkKey = (k: unknown): void => {
  if (k !== null && typeof k === "object") throw pyError("TypeError", `unhashable type: '${(k as object).constructor?.name ?? "object"}'`)
}

const repr = (k: unknown): string => typeof k === "string" ? `'${k}'` : String(k)

// ---- dict -------------------------------------------------------------------------------------

/** The entries of `dict.update(list)`, checked as Python checks them (a non-pair was silently
 * read as a key without a value, or failed with a JavaScript message). */
const pairs = (xs: Array<unknown>): Array<[unknown, unknown]> => {
  xs.forEach((x, i) => {
    if (!Array.isArray(x)) throw pyError("TypeError", `cannot convert dictionary update sequence element #${i} to a sequence`)
    if (x.length !== 2) throw pyError("ValueError", `dictionary update sequence element #${i} has length ${x.length}; 2 is required`)
  })
  return xs as Array<[unknown, unknown]>
}

export class SharedDict {
  readonly map: Map<unknown, unknown>
  constructor(init?: unknown) {
    this.map = new Map()
    if (init !== undefined && init !== null) this.update(init)
  }
  get(k: unknown, dflt?: unknown) {
    return this.map.has(k) ? this.map.get(k) : dflt
  }
  getItem(k: unknown) {
    if (!this.map.has(k)) throw pyError("KeyError", repr(k))
    return this.map.get(k)
  }
  set(k: unknown, v: unknown) {
    checkKey(k)
    this.map.set(k, v)
  }
  /** Sets many entries in one request. */
  setMany(entries: Array<[unknown, unknown]>) {
    for (const [k] of entries) checkKey(k)
    for (const [k, v] of entries) this.map.set(k, v)
  }
  delete(k: unknown) {
    if (!this.map.delete(k)) throw pyError("KeyError", repr(k))
  }
  has(k: unknown) {
    return this.map.has(k)
  }
  len() {
    return this.map.size
  }
  keys() {
    return [...this.map.keys()]
  }
  values() {
    return [...this.map.values()]
  }
  items() {
    return [...this.map.entries()]
  }
  pop(k: unknown, ...dflt: Array<unknown>) {
    if (this.map.has(k)) {
      const v = this.map.get(k)
      this.map.delete(k)
      return v
    }
    if (dflt.length > 0) return dflt[0]
    throw pyError("KeyError", repr(k))
  }
  popitem() {
    if (this.map.size === 0) throw pyError("KeyError", "'popitem(): dictionary is empty'")
    const last = [...this.map.keys()].pop()
    const v = this.map.get(last)
    this.map.delete(last)
    return [last, v]
  }
  setdefault(k: unknown, dflt?: unknown) {
    checkKey(k)
    if (!this.map.has(k)) this.map.set(k, dflt)
    return this.map.get(k)
  }
  update(other: unknown) {
    const entries: Array<[unknown, unknown]> = other instanceof Map
      ? [...other]
      : Array.isArray(other)
      ? pairs(other)
      : typeof other === "object" && other !== null
      ? Object.entries(other)
      : (() => {
        throw pyError("TypeError", "update() expects a Map, an object or a list of pairs")
      })()
    this.setMany(entries)
  }
  /** Python's `iter(d)`: the keys (served as an iterator). As Python's dict iterator, it fails
   * with RuntimeError once the dict changed size, and keeps failing (a JavaScript Map's iterator
   * would silently end after a `clear` or go on with keys added meanwhile); once exhausted, it
   * stays exhausted whatever the dict does. */
  iter(): IterableIterator<unknown> {
    const map = this.map
    const size = map.size
    const keys = map.keys()
    let state: "open" | "changed" | "done" = "open"
    return {
      next() {
        if (state === "done") return { done: true, value: undefined }
        if (state === "changed" || map.size !== size) {
          state = "changed"
          throw pyError("RuntimeError", "dictionary changed size during iteration")
        }
        const r = keys.next()
        if (r.done) state = "done"
        return r
      },
      [Symbol.iterator]() {
        return this
      }
    }
  }
  copy() {
    return new Map(this.map)
  }
  clear() {
    this.map.clear()
  }
  getvalue() {
    return new Map(this.map)
  }
}

// ---- list -------------------------------------------------------------------------------------

const compare = (a: unknown, b: unknown): number => {
  const ta = typeof a
  const tb = typeof b
  if ((ta === "number" || ta === "bigint") && (tb === "number" || tb === "bigint")) return (a as number) < (b as number) ? -1 : (a as number) > (b as number) ? 1 : 0
  if (ta === "string" && tb === "string") return (a as string) < (b as string) ? -1 : (a as string) > (b as string) ? 1 : 0
  if (ta === "boolean" && tb === "boolean") return Number(a) - Number(b)
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = compare(a[i], b[i])
      if (c !== 0) return c
    }
    return a.length - b.length
  }
  throw pyError("TypeError", `'<' not supported between instances of '${ta}' and '${tb}'`)
}

export class SharedList {
  items: Array<unknown>
  constructor(init?: unknown) {
    this.items = init === undefined || init === null ? [] : [...(init as Iterable<unknown>)]
  }
  get(i: number) {
    return this.items[tc.normIndex(this.items.length, i, "list index")]
  }
  set(i: number, v: unknown) {
    this.items[tc.normIndex(this.items.length, i, "list assignment index")] = v
  }
  delete(i: number) {
    this.items.splice(tc.normIndex(this.items.length, i, "list assignment index"), 1)
  }
  len() {
    return this.items.length
  }
  append(v: unknown) {
    this.items.push(v)
  }
  extend(vs: Array<unknown>) {
    for (const v of vs) this.items.push(v)
  }
  insert(i: number, v: unknown) {
    const n = this.items.length
    const j = i < 0 ? Math.max(0, i + n) : Math.min(i, n)
    this.items.splice(j, 0, v)
  }
  pop(i: number = -1) {
    if (this.items.length === 0) throw pyError("IndexError", "pop from empty list")
    const j = tc.normIndex(this.items.length, i, "pop index")
    return this.items.splice(j, 1)[0]
  }
  remove(v: unknown) {
    const j = this.items.findIndex((x) => equals(x, v))
    if (j < 0) throw pyError("ValueError", "list.remove(x): x not in list")
    this.items.splice(j, 1)
  }
  index(v: unknown, start = 0, stop = this.items.length) {
    const idx = tc.sliceIndices(this.items.length, start, stop)
    for (const j of idx) if (equals(this.items[j], v)) return j
    throw pyError("ValueError", `${repr(v)} is not in list`)
  }
  count(v: unknown) {
    return this.items.filter((x) => equals(x, v)).length
  }
  contains(v: unknown) {
    return this.items.some((x) => equals(x, v))
  }
  sort(options?: { readonly reverse?: boolean }) {
    const sorted = [...this.items].sort(compare)
    this.items = options?.reverse ? sorted.reverse() : sorted
  }
  reverse() {
    this.items.reverse()
  }
  slice(start?: number | null, stop?: number | null, step?: number | null) {
    return tc.sliceIndices(this.items.length, start, stop, step).map((j) => this.items[j])
  }
  setSlice(start: number | null, stop: number | null, values: Array<unknown>, step?: number | null) {
    if (step != null && step !== 1) {
      const idx = tc.sliceIndices(this.items.length, start, stop, step)
      if (idx.length !== values.length) {
        throw pyError("ValueError", `attempt to assign sequence of size ${values.length} to extended slice of size ${idx.length}`)
      }
      idx.forEach((j, k) => this.items[j] = values[k])
      return
    }
    const idx = tc.sliceIndices(this.items.length, start, stop)
    const a = idx.length > 0 ? idx[0]! : tc.sliceIndices(this.items.length, start, null).at(0) ?? this.items.length
    this.items.splice(a, idx.length, ...values)
  }
  deleteSlice(start?: number | null, stop?: number | null, step?: number | null) {
    const idx = new Set(tc.sliceIndices(this.items.length, start, stop, step))
    this.items = this.items.filter((_, j) => !idx.has(j))
  }
  imul(n: number) {
    const base = this.items
    this.items = []
    for (let k = 0; k < n; k++) this.items.push(...base)
  }
  /** Python's `iter(l)` (index after index, as Python iterates a list proxy: sees later writes). */
  *iter() {
    for (let i = 0; i < this.items.length; i++) yield this.items[i]
  }
  copy() {
    return [...this.items]
  }
  clear() {
    this.items = []
  }
  getvalue() {
    return [...this.items]
  }
}

// ---- Namespace --------------------------------------------------------------------------------

export class SharedNamespace {
  readonly attrs: Map<string, unknown>
  constructor(init?: Record<string, unknown>) {
    this.attrs = new Map(Object.entries(init ?? {}))
  }
  get(name: string) {
    if (!this.attrs.has(name)) throw pyError("AttributeError", `'Namespace' object has no attribute '${name}'`)
    return this.attrs.get(name)
  }
  set(name: string, v: unknown) {
    this.attrs.set(name, v)
  }
  delete(name: string) {
    if (!this.attrs.delete(name)) throw pyError("AttributeError", `'Namespace' object has no attribute '${name}'`)
  }
  has(name: string) {
    return this.attrs.has(name)
  }
  getvalue() {
    return Object.fromEntries(this.attrs)
  }
}

// ---- Value and Array --------------------------------------------------------------------------

const asPy = (e: unknown): never => {
  if (e instanceof tc.TypecodeError) throw pyError(e.name, e.message)
  throw e
}

export class SharedValueObject {
  readonly spec!: tc.Spec
  readonly cell!: ReturnType<tc.Spec["make"]>
  constructor(typecode: string, value?: unknown) {
    try {
      this.spec = tc.specOf(typecode)
      this.cell = this.spec.make(new ArrayBuffer(this.spec.size), 0, 1)
      if (value !== undefined) this.cell[0] = tc.toRaw(this.spec, value) as never
    } catch (e) {
      return asPy(e)
    }
  }
  get() {
    return tc.fromRaw(this.spec, this.cell[0]!)
  }
  set(v: unknown) {
    try {
      this.cell[0] = tc.toRaw(this.spec, v) as never
    } catch (e) {
      asPy(e)
    }
  }
  getvalue() {
    return this.get()
  }
}

export class SharedArrayObject {
  readonly spec!: tc.Spec
  readonly cells!: ReturnType<tc.Spec["make"]>
  constructor(typecode: string, sizeOrInit: number | Array<unknown>) {
    try {
      this.spec = tc.specOf(typecode)
      const n = typeof sizeOrInit === "number" ? sizeOrInit : sizeOrInit.length
      this.cells = this.spec.make(new ArrayBuffer(this.spec.size * n), 0, n)
      if (typeof sizeOrInit !== "number") sizeOrInit.forEach((v, i) => this.cells[i] = tc.toRaw(this.spec, v) as never)
    } catch (e) {
      return asPy(e)
    }
  }
  len() {
    return this.cells.length
  }
  get(i: number) {
    try {
      return tc.fromRaw(this.spec, this.cells[tc.normIndex(this.cells.length, i, "invalid index")]!)
    } catch (e) {
      return asPy(e)
    }
  }
  set(i: number, v: unknown) {
    try {
      this.cells[tc.normIndex(this.cells.length, i, "invalid index")] = tc.toRaw(this.spec, v) as never
    } catch (e) {
      asPy(e)
    }
  }
  slice(start?: number | null, stop?: number | null, step?: number | null) {
    return tc.sliceIndices(this.cells.length, start, stop, step).map((j) => tc.fromRaw(this.spec, this.cells[j]!))
  }
  setSlice(start: number | null, stop: number | null, values: Array<unknown>, step?: number | null) {
    const idx = tc.sliceIndices(this.cells.length, start, stop, step)
    if (idx.length !== values.length) throw pyError("ValueError", "Can only assign sequence of same size")
    try {
      const raw = values.map((v) => tc.toRaw(this.spec, v))
      idx.forEach((j, k) => this.cells[j] = raw[k] as never)
    } catch (e) {
      asPy(e)
    }
  }
  getvalue() {
    return Array.from(this.cells as ArrayLike<number | bigint>, (x) => tc.fromRaw(this.spec, x))
  }
}

// ---- waiting ----------------------------------------------------------------------------------

interface Waiter {
  readonly from: string
  readonly grant: (value: unknown) => void
  readonly fail?: (e: unknown) => void
  readonly extra?: unknown
}

/** Waits in a FIFO, with a timeout (ms; null = forever) and the caller's abort signal. */
const wait = <A>(queue: Array<Waiter>, timeout: number | null | undefined, onTimeout: A, extra?: unknown): Promise<A> => {
  const { from, signal } = current
  return new Promise<A>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const waiter: Waiter = {
      from,
      grant: (v) => {
        cleanup()
        resolve(v as A)
      },
      fail: (e) => {
        cleanup()
        reject(e)
      },
      extra
    }
    const remove = (): boolean => {
      const i = queue.indexOf(waiter)
      if (i >= 0) queue.splice(i, 1)
      return i >= 0
    }
    const onAbort = () => {
      remove()
      cleanup()
    }
    const cleanup = () => {
      if (timer) clearTimeout(timer)
      signal.removeEventListener("abort", onAbort)
    }
    queue.push(waiter)
    signal.addEventListener("abort", onAbort)
    if (timeout != null) {
      timer = setTimeout(() => {
        cleanup()
        // Out of the queue already: taken by the one who will answer it (a barrier's last party
        // runs the action first); the timeout no longer applies, as in Python under the lock.
        if (remove()) resolve(onTimeout)
      }, Math.max(0, timeout))
    }
  })
}

const nonBlocking = (block: boolean | undefined, timeout: number | null | undefined): boolean =>
  block === false || (timeout != null && timeout <= 0)

export class SharedLock {
  owner: string | undefined = undefined
  readonly waiters: Array<Waiter> = []
  acquire(block = true, timeout: number | null = null): Promise<boolean> | boolean {
    if (this.owner === undefined) {
      this.owner = current.from
      return true
    }
    if (nonBlocking(block, timeout)) return false
    return wait(this.waiters, timeout, false)
  }
  release() {
    if (this.owner === undefined) throw pyError("RuntimeError", "release unlocked lock")
    this.handOver()
  }
  private handOver() {
    const next = this.waiters.shift()
    this.owner = next?.from
    next?.grant(true)
  }
  locked() {
    return this.owner !== undefined
  }
  /** A dead process's hold is released, so nobody waits for ever. */
  down(dead: string) {
    for (let i = this.waiters.length - 1; i >= 0; i--) if (isAtOrBelow(this.waiters[i]!.from, dead)) this.waiters.splice(i, 1)
    if (this.owner !== undefined && isAtOrBelow(this.owner, dead)) this.handOver()
  }
  abandoned(method: string, _args: Array<unknown>, value: unknown) {
    if (method === "acquire" && value === true) this.handOver()
  }
  /** Condition support: release the lock held by `from` (one level: it is not recursive). */
  releaseAll(from: string): number {
    if (this.owner !== from) throw pyError("RuntimeError", "cannot wait on un-acquired lock")
    this.handOver()
    return 1
  }
  /** Condition support: take the lock back for `from`. */
  reacquire(from: string, _count: number): Promise<void> | void {
    if (this.owner === undefined) {
      this.owner = from
      return
    }
    return new Promise<void>((resolve) => {
      this.waiters.push({ from, grant: () => resolve() })
    })
  }
}

export class SharedRLock {
  owner: string | undefined = undefined
  count = 0
  readonly waiters: Array<Waiter> = []
  acquire(block = true, timeout: number | null = null): Promise<boolean> | boolean {
    const me = current.from
    if (this.owner === undefined || this.owner === me) {
      this.owner = me
      this.count++
      return true
    }
    if (nonBlocking(block, timeout)) return false
    return wait(this.waiters, timeout, false)
  }
  release() {
    if (this.owner !== current.from) throw pyError("RuntimeError", "cannot release un-acquired lock")
    if (--this.count === 0) this.handOver()
  }
  private handOver() {
    const next = this.waiters.shift()
    this.owner = next?.from
    this.count = next ? 1 : 0
    next?.grant(true)
  }
  locked() {
    return this.owner !== undefined
  }
  down(dead: string) {
    for (let i = this.waiters.length - 1; i >= 0; i--) if (isAtOrBelow(this.waiters[i]!.from, dead)) this.waiters.splice(i, 1)
    if (this.owner !== undefined && isAtOrBelow(this.owner, dead)) this.handOver()
  }
  abandoned(method: string, _args: Array<unknown>, value: unknown, from: string) {
    if (method === "acquire" && value === true && this.owner === from && --this.count === 0) this.handOver()
  }
  /** Condition support: drop every level held by `from`, returning the count. */
  releaseAll(from: string): number {
    if (this.owner !== from) throw pyError("RuntimeError", "cannot wait on un-acquired lock")
    const n = this.count
    this.count = 0
    this.handOver()
    return n
  }
  /** Condition support: take the lock back with `count` levels for `from`. */
  reacquire(from: string, count: number): Promise<void> | void {
    if (this.owner === undefined) {
      this.owner = from
      this.count = count
      return
    }
    return new Promise<void>((resolve) => {
      this.waiters.push({
        from,
        grant: () => {
          this.count = count
          resolve()
        }
      })
    })
  }
}

export class SharedSemaphore {
  value: number
  readonly bound: number | undefined
  readonly waiters: Array<Waiter> = []
  constructor(value = 1, bounded = false) {
    if (value < 0) throw pyError("ValueError", "semaphore initial value must be >= 0")
    this.value = value
    this.bound = bounded ? value : undefined
  }
  acquire(block = true, timeout: number | null = null): Promise<boolean> | boolean {
    if (this.value > 0) {
      this.value--
      return true
    }
    if (nonBlocking(block, timeout)) return false
    return wait(this.waiters, timeout, false)
  }
  release(n = 1) {
    if (this.bound !== undefined && this.value + n > this.bound) throw pyError("ValueError", "Semaphore released too many times")
    this.value += n
    this.wake()
  }
  private wake() {
    while (this.value > 0 && this.waiters.length > 0) {
      const w = this.waiters.shift()!
      this.value--
      w.grant(true)
    }
  }
  getValue() {
    return this.value
  }
  /** Permits are not owned (one process may release what another acquired, for signalling), so a
   * dead process's permits are not returned; only its pending waits are dropped. */
  down(dead: string) {
    for (let i = this.waiters.length - 1; i >= 0; i--) if (isAtOrBelow(this.waiters[i]!.from, dead)) this.waiters.splice(i, 1)
  }
  abandoned(method: string, _args: Array<unknown>, value: unknown) {
    if (method === "acquire" && value === true) {
      this.value++
      this.wake()
    }
  }
}

export class SharedEvent {
  flag = false
  readonly waiters: Array<Waiter> = []
  set() {
    this.flag = true
    for (const w of this.waiters.splice(0)) w.grant(true)
  }
  clear() {
    this.flag = false
  }
  isSet() {
    return this.flag
  }
  wait(timeout: number | null = null): Promise<boolean> | boolean {
    if (this.flag) return true
    if (timeout != null && timeout <= 0) return false
    return wait(this.waiters, timeout, false)
  }
}

export class SharedCondition {
  readonly lock: SharedLock | SharedRLock
  readonly waiters: Array<Waiter> = []
  /** `lock`: a served Lock or RLock (Python's `Condition(lock)`); its own RLock otherwise. */
  constructor(lock?: SharedLock | SharedRLock) {
    this.lock = lock ?? new SharedRLock()
  }
  acquire(block = true, timeout: number | null = null) {
    return this.lock.acquire(block, timeout)
  }
  release() {
    this.lock.release()
  }
  async wait(timeout: number | null = null): Promise<boolean> {
    const from = current.from
    const levels = this.lock.releaseAll(from)
    const notified = await wait(this.waiters, timeout, false)
    await this.lock.reacquire(from, levels)
    return notified as boolean
  }
  notify(n = 1) {
    if (this.lock.owner !== current.from) throw pyError("RuntimeError", "cannot notify on un-acquired lock")
    for (const w of this.waiters.splice(0, n)) w.grant(true)
  }
  notifyAll() {
    this.notify(this.waiters.length)
  }
  down(dead: string) {
    for (let i = this.waiters.length - 1; i >= 0; i--) if (isAtOrBelow(this.waiters[i]!.from, dead)) this.waiters.splice(i, 1)
    this.lock.down(dead)
  }
}

/** Runs a Task here (the manager's process) to its end, an Effect it returns included. */
const runTask = async (task: (...args: Array<unknown>) => unknown): Promise<unknown> => {
  const r = await task()
  return Effect.isEffect(r) ? Effect.runPromise(r as Effect.Effect<unknown, unknown>) : r
}

export class SharedBarrier {
  readonly parties: number
  readonly timeout: number | null
  readonly action: ((...args: Array<unknown>) => unknown) | null
  broken = false
  readonly waiters: Array<Waiter> = []
  constructor(parties: number, timeout: number | null = null, action: ((...args: Array<unknown>) => unknown) | null = null) {
    if (!(parties >= 1)) throw pyError("ValueError", "parties must be >= 1")
    if (action !== null && typeof action !== "function") throw pyError("TypeError", "action must be a Task")
    this.parties = parties
    this.timeout = timeout
    this.action = action
  }
  wait(timeout: number | null = this.timeout): Promise<number> | number {
    if (this.broken) throw pyError("BrokenBarrierError", "the barrier is broken")
    const index = this.waiters.length
    if (index + 1 === this.parties) {
      const all = this.waiters.splice(0)
      if (this.action === null) {
        all.forEach((w, i) => w.grant(i))
        return index
      }
      // Python: the last to arrive runs the action before anyone passes; if it fails, the barrier
      // breaks (the others get BrokenBarrierError) and that caller gets the action's error.
      return runTask(this.action).then(
        () => {
          all.forEach((w, i) => w.grant(i))
          return index
        },
        (e) => {
          this.broken = true
          for (const w of all) w.fail?.(pyError("BrokenBarrierError", "the barrier is broken: its action failed"))
          throw e
        }
      )
    }
    return wait(this.waiters, timeout, -1).then((i) => {
      if (i === -1) {
        this.abort()
        throw pyError("BrokenBarrierError", "the barrier timed out")
      }
      return i as number
    })
  }
  abort() {
    this.broken = true
    for (const w of this.waiters.splice(0)) w.fail?.(pyError("BrokenBarrierError", "the barrier was aborted"))
  }
  reset() {
    for (const w of this.waiters.splice(0)) w.fail?.(pyError("BrokenBarrierError", "the barrier was reset"))
    this.broken = false
  }
  nWaiting() {
    return this.waiters.length
  }
  isBroken() {
    return this.broken
  }
  getParties() {
    return this.parties
  }
  down(dead: string) {
    if (this.waiters.some((w) => isAtOrBelow(w.from, dead))) this.abort()
  }
}

export class SharedQueue {
  readonly maxsize: number
  readonly items: Array<unknown> = []
  readonly getters: Array<Waiter> = []
  readonly putters: Array<Waiter> = []
  unfinished = 0
  readonly joiners: Array<Waiter> = []
  constructor(maxsize = 0) {
    this.maxsize = maxsize
  }
  private full() {
    return this.maxsize > 0 && this.items.length >= this.maxsize
  }
  put(item: unknown, block = true, timeout: number | null = null): Promise<void> | void {
    const getter = this.getters.shift()
    if (getter) {
      this.unfinished++
      getter.grant(item)
      return
    }
    if (!this.full()) {
      this.items.push(item)
      this.unfinished++
      return
    }
    if (nonBlocking(block, timeout)) throw pyError("Full", "the queue is full")
    return wait(this.putters, timeout, false, item).then((ok) => {
      if (ok === false) throw pyError("Full", "the queue is full")
    })
  }
  get(block = true, timeout: number | null = null): Promise<unknown> | unknown {
    if (this.items.length > 0) {
      const item = this.items.shift()
      const putter = this.putters.shift()
      if (putter) {
        this.items.push(putter.extra)
        this.unfinished++
        putter.grant(true)
      }
      return item
    }
    if (nonBlocking(block, timeout)) throw pyError("Empty", "the queue is empty")
    const NONE = Symbol("none")
    return wait(this.getters, timeout, NONE as unknown).then((v) => {
      if (v === NONE) throw pyError("Empty", "the queue is empty")
      return v
    })
  }
  qsize() {
    return this.items.length
  }
  empty() {
    return this.items.length === 0
  }
  isFull() {
    return this.full()
  }
  taskDone() {
    if (this.unfinished <= 0) throw pyError("ValueError", "task_done() called too many times")
    if (--this.unfinished === 0) for (const j of this.joiners.splice(0)) j.grant(undefined)
  }
  join(): Promise<void> | void {
    if (this.unfinished === 0) return
    return wait(this.joiners, null, undefined) as Promise<void>
  }
  abandoned(method: string, _args: Array<unknown>, value: unknown) {
    // A get that reached a caller who had given up: the item goes back to the front.
    if (method === "get") {
      this.items.unshift(value)
      this.unfinished--
      const g = this.getters.shift()
      if (g) {
        this.unfinished++
        g.grant(this.items.shift())
      }
    }
  }
}

/** The SyncManager registry: typeid → how to build the served object. */
export const builtins: Record<string, (...args: Array<any>) => object> = {
  dict: (init?: unknown) => new SharedDict(init),
  list: (init?: unknown) => new SharedList(init),
  Namespace: (init?: Record<string, unknown>) => new SharedNamespace(init),
  Value: (typecode: string, value?: unknown) => new SharedValueObject(typecode, value),
  Array: (typecode: string, sizeOrInit: number | Array<unknown>) => new SharedArrayObject(typecode, sizeOrInit),
  Lock: () => new SharedLock(),
  RLock: () => new SharedRLock(),
  Semaphore: (value?: number) => new SharedSemaphore(value ?? 1, false),
  BoundedSemaphore: (value?: number) => new SharedSemaphore(value ?? 1, true),
  Condition: (lock?: unknown) => {
    if (lock === undefined || lock === null) return new SharedCondition()
    if (lock instanceof SharedLock || lock instanceof SharedRLock) return new SharedCondition(lock)
    throw pyError("TypeError", "Condition(lock): lock must be a Lock or RLock of this manager")
  },
  Event: () => new SharedEvent(),
  Barrier: (parties: number, timeout?: number | null, action?: ((...args: Array<unknown>) => unknown) | null) => new SharedBarrier(parties, timeout ?? null, action ?? null),
  Queue: (maxsize?: number) => new SharedQueue(maxsize ?? 0),
  JoinableQueue: (maxsize?: number) => new SharedQueue(maxsize ?? 0),
  Pool: (options?: PoolOptions) => SharedPool.make(options ?? {}) as unknown as object
}

/** Built-in methods whose results are served objects (Python's `method_to_typeid`). */
export const builtinMethodToTypeid: Record<string, Readonly<Record<string, string>>> = {
  Pool: { applyAsync: "AsyncResult", mapAsync: "AsyncResult" }
}

// ---- Pool -------------------------------------------------------------------------------------

/** The options a served Pool accepts (plain data: they cross to the manager's process). */
export interface PoolOptions {
  readonly processes?: number | undefined
  readonly backend?: "thread" | "process" | undefined
  readonly initializer?: any
  readonly initargs?: ReadonlyArray<unknown> | undefined
  readonly maxTasksPerChild?: number | undefined
  readonly taskTimeout?: number | undefined
}

/** Runs a Pool Effect to a promise that rejects with the original error. */
const settle = <A>(effect: Effect.Effect<A, unknown>): Promise<A> =>
  Effect.runPromiseExit(effect).then((exit) => Exit.isSuccess(exit) ? exit.value : Promise.reject(squash(exit.cause)))

/** A real `Pool` (of `Pool.ts`) living in the manager's process, owned by its own Scope. */
export class SharedPool {
  readonly pool: PoolModule.Pool
  readonly scope: Scope.Closeable
  private constructor(pool: PoolModule.Pool, scope: Scope.Closeable) {
    this.pool = pool
    this.scope = scope
  }
  static async make(options: PoolOptions = {}): Promise<SharedPool> {
    const scope = Scope.makeUnsafe()
    try {
      const pool = await settle(Scope.provide(scope)(PoolModule.make(options as PoolModule.Options)))
      return new SharedPool(pool, scope)
    } catch (e) {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      throw e
    }
  }
  apply(task: any, args: Array<unknown> = []) {
    return settle(PoolModule.apply(this.pool, task, args as any))
  }
  map(task: any, items: Array<unknown>, chunksize?: number) {
    return settle(PoolModule.map(this.pool, task, items, { chunksize }))
  }
  starmap(task: any, items: Array<Array<unknown>>, chunksize?: number) {
    return settle(PoolModule.starmap(this.pool, task, items as any, { chunksize }))
  }
  applyAsync(task: any, args: Array<unknown> = []) {
    return PoolModule.applyAsyncUnsafe(this.pool, task, args as any)
  }
  mapAsync(task: any, items: Array<unknown>, chunksize?: number) {
    return settle(PoolModule.mapAsync(this.pool, task, items, { chunksize }))
  }
  close() {
    return settle(PoolModule.close(this.pool))
  }
  terminate() {
    return settle(PoolModule.terminate(this.pool))
  }
  join() {
    return settle(PoolModule.join(this.pool))
  }
  /** Dropped from the server or the manager shuts down: the workers go. */
  dispose(): Promise<void> {
    return Effect.runPromise(Scope.close(this.scope, Exit.void))
  }
}

/** The served face of a Pool's `AsyncResult` (`get(timeout ms)`, `wait`, `ready`, `successful`). */
export class SharedAsyncResult {
  readonly result: PoolModule.AsyncResult<unknown, unknown>
  constructor(result: PoolModule.AsyncResult<unknown, unknown>) {
    this.result = result
  }
  get(timeout: number | null = null) {
    return settle(this.result.get(timeout ?? undefined))
  }
  wait(timeout: number | null = null) {
    return settle(this.result.wait(timeout ?? undefined))
  }
  ready() {
    return this.result.ready()
  }
  successful() {
    return settle(this.result.successful())
  }
}
