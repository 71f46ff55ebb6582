/**
 * The engine under Lock, RLock, Semaphore and BoundedSemaphore: a counting semaphore with an
 * optional bound, FIFO hand-off, per-process accounting of held permits (so a dead holder's
 * permits come back) and shared memory for every thread of the creator's OS process.
 *
 * ## A ticket semaphore in a SharedArrayBuffer
 * Two counters decide who holds a permit: `NEXT` (the next ticket to hand out) and `GRANTED`
 * (initial permits + releases: ticket `t` may go once `t < GRANTED`). An acquire takes a ticket;
 * a release advances `GRANTED` by one, which grants the oldest waiting ticket. Order is the
 * order of tickets: strict FIFO, nobody barges, nobody starves.
 * - Uncontended acquire: `NEXT < GRANTED`, so take ticket `NEXT` by CAS (never a ticket that would
 *   have to wait; that is also the non-blocking acquire). Uncontended release: `GRANTED += 1`, and
 *   nobody holds ticket `GRANTED - 1` yet. A few Atomics operations, no message.
 * - A waiter takes ticket `t = NEXT++` and waits on its cell `t mod RING` (`Atomics.waitAsync`,
 *   after a short spin). The releaser that advances `GRANTED` past `t` marks the cell
 *   `GRANTED(t)` and notifies it: a hand-off between threads is one store and one notify, no
 *   actor round trip. A waiter that gives up (timeout, interruption) marks its cell `ABANDONED(t)`
 *   by CAS; a releaser that finds its ticket abandoned passes the permit on to the next ticket.
 *   The CAS on the cell decides exactly once whether the ticket was granted or abandoned, so a
 *   waiter that gave up never owns a permit, and no permit is handed to nobody.
 * - Cell values carry the ticket (`t << 1 | abandoned`), so stale values of earlier laps of the
 *   ring are never mistaken for the current ticket's.
 *
 * ## The actor
 * The actor lives in the creating thread and stays the authority for what shared memory cannot
 * do: processes without the memory (other OS processes) acquire and release through it (it takes
 * and waits on tickets on their behalf, in the same ticket order as everybody else); a release
 * of a bounded permit that the releaser does not hold goes through it (it takes the permit away
 * from a holder); and it recovers what dead processes held (`down`): their held permits, the
 * tickets they were waiting with (abandoned, or passed on if already granted), and, with
 * `onOwnerDeath: "fail"`, it fails every waiter.
 *
 * ## Accounting
 * Each thread using the memory has a holder slot (its address, how many permits it holds); the
 * actor keeps the counts of processes without it. A waiter credits its slot when it sees its
 * grant, in the same straight-line code that clears its waiter mark; V8 only stops a terminated
 * worker at function entries and loop back-edges, so a killed thread is either still marked as
 * waiting on a granted cell (the actor passes the permit on) or has credited its slot (the actor
 * returns it), never neither or both.
 * @internal
 */
import * as Actor from "@multiproc/runtime/Actor"
import * as Codec from "@multiproc/runtime/Codec"
import * as kernel from "@multiproc/runtime/internal/kernel"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { hold } from "./alive.ts"

// ---- shared memory layout ---------------------------------------------------------------------

const GRANTED = 0
const NEXT = 1
/** Permits counted as held by someone whose hold another process released (bounded kinds). */
const DEBT = 2
/** Bumped when waiters are failed from outside (owner died with "fail", lock closed). */
const FAILGEN = 3
/** 1 once the actor closed. */
const CLOSED = 4
const SLOTS_AT = 8
const SLOT_WORDS = 20
const MAX_DEPTH = SLOT_WORDS - 3
const NSLOTS = 32
const S_FREE = 0
const S_CLAIMING = 1
const S_READY = 2
const CELLS_AT = SLOTS_AT + NSLOTS * SLOT_WORDS
/** Waiting tickets at most (beyond that, acquirers poll until the queue shrinks). */
const RING = 1024
const RING_MASK = RING - 1
const RING_SLACK = 64
const CELL_WORDS = 3
const WORDS = CELLS_AT + RING * CELL_WORDS
/** The largest initial count a semaphore takes. @internal */
export const MAX_INITIAL = 1 << 30

const stateAt = (slot: number) => SLOTS_AT + slot * SLOT_WORDS
const heldAt = (slot: number) => SLOTS_AT + slot * SLOT_WORDS + 1
const lenAt = (slot: number) => SLOTS_AT + slot * SLOT_WORDS + 2
const cellAt = (i: number) => CELLS_AT + i * CELL_WORDS
/** Who waits with the cell's ticket: 0 nobody, slot + 1 a thread, REMOTE the actor. */
const waiterAt = (i: number) => CELLS_AT + i * CELL_WORDS + 1
const ticketAt = (i: number) => CELLS_AT + i * CELL_WORDS + 2
const REMOTE = -1

/** `a` comes before `b` in (wrapping) ticket order. */
const before = (a: number, b: number): boolean => ((a - b) | 0) < 0

// ---- handles ----------------------------------------------------------------------------------

/** Which Python class a permits handle stands for. */
export type Kind = "Lock" | "RLock" | "Semaphore" | "BoundedSemaphore"

/** What to do with waiters when a holder dies. */
export type OnOwnerDeath = "release" | "fail"

/** The wire protocol of the permits actor. `timeout`: -1 forever, 0 try once, else milliseconds. */
export const Message = Schema.Union([
  Schema.Struct({ op: Schema.Literal("acquire"), timeout: Schema.Number }),
  Schema.Struct({ op: Schema.Literal("release"), own: Schema.Boolean }),
  Schema.Struct({ op: Schema.Literal("value") })
])
export type Message = typeof Message.Type

/** A handle: plain data plus, in the creator's OS process, the shared memory. @internal */
export class Permits {
  readonly kind: Kind
  readonly ref: Actor.ActorRef<typeof Message.Encoded>
  readonly bound: number
  readonly initial: number
  readonly sab: SharedArrayBuffer | undefined
  readonly words: Int32Array | undefined
  readonly key: string
  /** This process's state for the object (shared by every handle of it in this process). */
  local: Local | undefined = undefined
  /** In the creating thread: the actor's hook for a grant to a ticket it waits with. */
  onRemoteGrant: ((i: number) => void) | undefined = undefined
  /** Cached effects of the commonest calls (no allocation per call), for one errors object. */
  cachedFor: Errors<any> | undefined = undefined
  acquireForever: Effect.Effect<boolean, any> | undefined = undefined
  releaseEffect: Effect.Effect<void, any> | undefined = undefined
  constructor(kind: Kind, ref: Actor.ActorRef<any>, initial: number, bound: number, sab: SharedArrayBuffer | undefined) {
    this.kind = kind
    this.ref = ref
    this.initial = initial
    this.bound = bound
    this.sab = sab
    this.words = sab ? new Int32Array(sab) : undefined
    this.key = `${ref.address}/${ref.port}`
  }
  /** Python's repr (`<Lock(owner=None)>`, `<RLock(MainProcess, 1)>`, `<Semaphore(value=3)>`, …). */
  toString(): string {
    return repr(this)
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return repr(this)
  }
}

/**
 * Python's reprs of `synchronize.py`, from what this process knows synchronously: its own holds,
 * and the free permits where the memory is shared. A process-backend child knows only its own
 * holds, and prints `unknown` for the rest (as Python does where `get_value` is unsupported).
 * Another process holding a lock is `SomeOtherProcess`; an RLock held by a fiber prints the fiber
 * after the process name, as Python prints the thread.
 */
const repr = (h: Permits): string => {
  // no localOf: printing must not claim a holder slot in the shared memory
  const l = h.local ?? locals.get(h.key)
  const held = l === undefined ? 0 : l.owned + (h.words && l.slot >= 0 ? Atomics.load(h.words, heldAt(l.slot)) : 0)
  const free = h.words ? freeOf(h.words) : undefined
  const shown = free === undefined ? "unknown" : String(free)
  switch (h.kind) {
    case "Semaphore":
      return `<Semaphore(value=${shown})>`
    case "BoundedSemaphore":
      return `<BoundedSemaphore(value=${shown}, maxvalue=${h.bound})>`
    case "Lock": {
      const owner = held > 0 ? kernel.self.name : free === undefined ? "unknown" : free > 0 ? "None" : "SomeOtherProcess"
      return `<Lock(owner=${owner})>`
    }
    case "RLock": {
      if (l !== undefined && l.depth > 0 && l.owner !== undefined) {
        return `<RLock(${kernel.self.name}${l.owner === -1 ? "" : `|Fiber-${l.owner}`}, ${l.depth})>`
      }
      return free === undefined ? "<RLock(unknown, unknown)>" : free > 0 ? "<RLock(None, 0)>" : "<RLock(SomeOtherProcess, nonzero)>"
    }
  }
}

/** What the engine reports errors as (each public module has its own error class). */
export interface Errors<E> {
  readonly tooMany: (message: string) => E
  readonly ownerDied: (message: string) => E
  readonly gone: (message: string) => E
}

// ---- per-process state --------------------------------------------------------------------------

interface Local {
  /** The holder slot of this process in the shared memory; -1 none, -2 not yet claimed. */
  slot: number
  /** Permits this process holds through the actor (no shared memory). */
  owned: number
  /** RLock: the owner (fiber id, or -1 for async/await code) and the recursion depth. */
  owner: number | undefined
  depth: number
}

const locals = new Map<string, Local>()

export const localOf = (h: Permits): Local => {
  let l = h.local
  if (l !== undefined) return l
  l = locals.get(h.key)
  if (!l) locals.set(h.key, l = { slot: -2, owned: 0, owner: undefined, depth: 0 })
  if (l.slot === -2 && h.words) l.slot = claimSlot(h.words)
  h.local = l
  return l
}

/** The holder slot of this process, or -1 without shared memory (or without a free slot). */
const slotOf = (h: Permits, l: Local): number => (h.words ? l.slot : -1)

const addressParts = (address: string): Array<number> | undefined => {
  if (address === "") return []
  const parts = address.split(":").map(Number)
  return parts.length <= MAX_DEPTH ? parts : undefined
}

const claimSlot = (words: Int32Array): number => {
  const parts = addressParts(kernel.self.address)
  if (!parts) return -1
  for (let i = 0; i < NSLOTS; i++) {
    if (Atomics.compareExchange(words, stateAt(i), S_FREE, S_CLAIMING) !== S_FREE) continue
    Atomics.store(words, heldAt(i), 0)
    Atomics.store(words, lenAt(i), parts.length)
    for (let j = 0; j < parts.length; j++) Atomics.store(words, lenAt(i) + 1 + j, parts[j]!)
    Atomics.store(words, stateAt(i), S_READY)
    return i
  }
  return -1
}

const slotAddress = (words: Int32Array, slot: number): string => {
  const n = Atomics.load(words, lenAt(slot))
  const parts: Array<number> = []
  for (let j = 0; j < n; j++) parts.push(Atomics.load(words, lenAt(slot) + 1 + j))
  return parts.join(":")
}

/** How many permits this process holds. */
export const heldHere = (h: Permits): number => {
  const l = localOf(h)
  const slot = slotOf(h, l)
  return slot >= 0 ? Atomics.load(h.words!, heldAt(slot)) + l.owned : l.owned
}

/** Whether this process shares the object's memory (its synchronous operations work here). */
export const isShared = (h: Permits): boolean => slotOf(h, localOf(h)) >= 0

// ---- the ticket operations (shared by threads and the actor) -------------------------------------

/** Takes one DEBT unit if there is one (the caller then does not credit itself). */
const payDebt = (w: Int32Array): boolean => {
  for (;;) {
    const d = Atomics.load(w, DEBT)
    if (d <= 0) return false
    if (Atomics.compareExchange(w, DEBT, d, d - 1) === d) return true
  }
}

/** Non-blocking acquire: takes ticket NEXT only if it is already granted; credits `slot`. */
const tryFast = (w: Int32Array, slot: number): boolean => {
  // Plain reads where a stale value is harmless (an Atomics operation costs several plain ones):
  // NEXT is validated by the CAS (which returns the fresh value), DEBT is only ever a hint.
  let n = w[NEXT]!
  for (;;) {
    if (!before(n, Atomics.load(w, GRANTED))) return false
    const m = Atomics.compareExchange(w, NEXT, n, (n + 1) | 0)
    if (m === n) {
      if (w[DEBT] === 0 || !payDebt(w)) Atomics.add(w, heldAt(slot), 1)
      return true
    }
    n = m
  }
}

/** The same for the actor (a process without the memory): true if a permit was taken. */
const tryTake = (w: Int32Array): boolean => {
  for (;;) {
    const n = Atomics.load(w, NEXT)
    if (!before(n, Atomics.load(w, GRANTED))) return false
    if (Atomics.compareExchange(w, NEXT, n, (n + 1) | 0) === n) return true
  }
}

/**
 * After GRANTED moved from `g` to `g + 1`: if someone holds ticket `g`, mark its cell granted and
 * wake it; if it abandoned the ticket, grant the next one.
 */
const handOff = (h: Permits, w: Int32Array, g: number): void => {
  for (;;) {
    if (!before(g, Atomics.load(w, NEXT))) return
    const i = g & RING_MASK
    const at = cellAt(i)
    const v = Atomics.load(w, at)
    if (v === ((g << 1) | 1)) {
      g = Atomics.add(w, GRANTED, 1)
      continue
    }
    if (Atomics.compareExchange(w, at, v, g << 1) !== v) continue
    Atomics.notify(w, at)
    if (h.onRemoteGrant !== undefined && Atomics.load(w, waiterAt(i)) === REMOTE) h.onRemoteGrant(i)
    return
  }
}

/** Adds one permit (a release, or a grant given back): the oldest waiting ticket gets it. */
const grantOne = (h: Permits, w: Int32Array): void => {
  const g = Atomics.add(w, GRANTED, 1)
  if (before(g, Atomics.load(w, NEXT))) handOff(h, w, g)
}

/** Releases a permit held by `slot`. */
const releaseSlot = (h: Permits, w: Int32Array, slot: number): void => {
  // What this process held back (a queue's puts) is sent first. Through shared memory the next
  // holder may still be woken before those messages arrive: sent first, not there first.
  kernel.flushHeldBack()
  Atomics.sub(w, heldAt(slot), 1)
  const g = Atomics.add(w, GRANTED, 1)
  if (before(g, Atomics.load(w, NEXT))) handOff(h, w, g)
}

/** Ticket `t` (cell `at`) is ours: the cell says so, or GRANTED passed it (mark the cell). */
const isGranted = (w: Int32Array, t: number, at: number): boolean => {
  for (;;) {
    const v = Atomics.load(w, at)
    if (v === t << 1) return true
    if (v === ((t << 1) | 1) || !before(t, Atomics.load(w, GRANTED))) return false
    if (Atomics.compareExchange(w, at, v, t << 1) === v) return true
  }
}

/** Gives ticket `t` up: true if abandoned (or abandoned already by the actor), false if it was
 * granted first (the caller then holds an uncredited permit). */
const tryAbandon = (w: Int32Array, t: number, at: number): boolean => {
  for (;;) {
    const v = Atomics.load(w, at)
    if (v === t << 1) return false
    if (v === ((t << 1) | 1)) return true
    if (before(t, Atomics.load(w, GRANTED))) {
      if (Atomics.compareExchange(w, at, v, t << 1) === v) return false
      continue
    }
    if (Atomics.compareExchange(w, at, v, (t << 1) | 1) === v) return true
  }
}

/** The queue is nearly as long as the ring: new waiters poll until it shrinks. */
const ringFull = (w: Int32Array): boolean =>
  ((Atomics.load(w, NEXT) - Atomics.load(w, GRANTED)) | 0) >= RING - RING_SLACK

// ---- waiting on a cell -----------------------------------------------------------------------------

/** How a wait on a ticket ended. */
const GOT = 0
const TIMED_OUT = 1
const FAILED = 2

// Atomics.waitAsync does not keep an event loop alive: a ref'd timer does while anyone waits.
let waitingHere = 0
let keepAlive: ReturnType<typeof setInterval> | undefined
const startWaiting = (): void => {
  if (waitingHere++ === 0) (keepAlive ??= setInterval(() => {}, 1 << 30)).ref()
}
const stopWaiting = (): void => {
  if (--waitingHere === 0) keepAlive!.unref()
}

/** Re-check a waiting ticket at least this often (a notify lost to a thread killed mid-release). */
const RECHECK_MS = 500
/** Spin this long (ms) on the cell before sleeping, when the holder may be another thread. */
const SPIN_MS = 0.02

/**
 * Waits for ticket `t` (cell `i`): `done(GOT)` once granted (the caller credits the holder and
 * clears the waiter mark), `done(TIMED_OUT)` after `timeout` ms (-1 forever) with the ticket
 * abandoned, `done(FAILED)` if the actor abandoned it (owner died with "fail", or closed).
 * Returns a cancel that abandons the ticket: it returns true if the ticket had been granted
 * first (the caller then holds an uncredited permit and must pass it on), false otherwise.
 */
const waitTicket = (
  w: Int32Array,
  t: number,
  i: number,
  timeout: number,
  spin: boolean,
  done: (how: number) => void
): { readonly sync: boolean; readonly cancel: () => boolean } => {
  const at = cellAt(i)
  if (spin) {
    const until = performance.now() + SPIN_MS
    let k = 0
    do {
      if (isGranted(w, t, at)) {
        done(GOT)
        return { sync: true, cancel: () => false }
      }
    } while ((++k & 15) !== 0 || performance.now() < until)
  }
  const deadline = timeout < 0 ? Infinity : performance.now() + timeout
  let over = false
  const finish = (how: number) => {
    over = true
    stopWaiting()
    done(how)
  }
  const check = (): void => {
    if (over) return
    for (;;) {
      const v = Atomics.load(w, at)
      if (v === ((t << 1) | 1)) return finish(FAILED)
      if (isGranted(w, t, at)) return finish(GOT)
      const left = deadline - performance.now()
      if (left <= 0) {
        if (tryAbandon(w, t, at)) {
          Atomics.store(w, waiterAt(i), 0)
          return finish(TIMED_OUT)
        }
        return finish(GOT)
      }
      const r = Atomics.waitAsync(w, at, v, Math.min(left, RECHECK_MS))
      if (r.async) {
        r.value.then(check)
        return
      }
    }
  }
  startWaiting()
  check()
  return {
    sync: over,
    cancel: () => {
      if (over) return false
      over = true
      stopWaiting()
      if (tryAbandon(w, t, at)) {
        Atomics.store(w, waiterAt(i), 0)
        return false
      }
      return true
    }
  }
}

// ---- client side ----------------------------------------------------------------------------------

/**
 * Milliseconds for the wire: -1 forever, 0 try once (Python: a negative timeout is zero; `null` is
 * Python's None). The caller has checked the timeout with `timeoutProblem`.
 */
export const timeoutMillis = (block: boolean | undefined, timeout: Duration.Input | null | undefined): number => {
  if (block === false) return 0
  if (timeout == null) return -1
  const ms = Duration.toMillis(timeout)
  if (!Number.isFinite(ms)) return ms > 0 ? -1 : 0
  return ms <= 0 ? 0 : Math.max(1, Math.ceil(ms))
}

const mapActorError = <E>(errors: Errors<E>) => (e: unknown): Effect.Effect<never, E> => {
  if (e instanceof Actor.ActorError) return Effect.fail(errors.gone(`the ${e.reason === "OwnerDied" ? "process that created it has died" : e.message}`))
  if (e instanceof Codec.SerializationError) return Effect.die(e)
  return Effect.fail(e as E)
}

const TRUE = Effect.succeed(true)
const FALSE = Effect.succeed(false)

const failure = <E>(h: Permits, errors: Errors<E>): E =>
  Atomics.load(h.words!, CLOSED) !== 0
    ? errors.gone(`the ${h.kind} was closed`)
    : errors.ownerDied(`a process holding the ${h.kind} died`)

/** Waits in this thread for a ticket of the shared memory (the caller's fast path failed). */
const waitHere = <E>(h: Permits, slot: number, timeout: number, errors: Errors<E>): Effect.Effect<boolean, E> =>
  Effect.callback<boolean, E>((resume) => {
    const w = h.words!
    if (ringFull(w)) {
      resume(Effect.flatMap(Effect.sleep(1), () => acquireNow(h, timeout, errors)))
      return
    }
    const t = Atomics.add(w, NEXT, 1)
    if (before(t, Atomics.load(w, GRANTED))) {
      if (Atomics.load(w, DEBT) === 0 || !payDebt(w)) Atomics.add(w, heldAt(slot), 1)
      resume(TRUE)
      return
    }
    const i = t & RING_MASK
    Atomics.store(w, ticketAt(i), t)
    Atomics.store(w, waiterAt(i), slot + 1)
    // spinning only helps when another thread holds it
    const spin = Atomics.load(w, heldAt(slot)) === 0
    const wait = waitTicket(w, t, i, timeout, spin, (how) => {
      if (how === GOT) {
        if (Atomics.load(w, DEBT) === 0 || !payDebt(w)) Atomics.add(w, heldAt(slot), 1)
        Atomics.store(w, waiterAt(i), 0)
        resume(TRUE)
      } else {
        resume(how === TIMED_OUT ? FALSE : Effect.fail(failure(h, errors)))
      }
    })
    if (wait.sync) return
    return Effect.sync(() => {
      if (wait.cancel()) {
        // granted as we gave up: pass it on without ever having held it
        Atomics.store(w, waiterAt(i), 0)
        grantOne(h, w)
      }
    })
  })

const acquireNow = <E>(h: Permits, timeout: number, errors: Errors<E>): Effect.Effect<boolean, E> => {
  const l = localOf(h)
  const slot = slotOf(h, l)
  if (slot >= 0) {
    if (tryFast(h.words!, slot)) return TRUE
    if (timeout === 0) return FALSE
    return waitHere(h, slot, timeout, errors)
  }
  // A wait through the actor keeps this process alive too, as Python's blocked thread does (the
  // holder may be a daemonic child, which does not). One suspension (a round trip's CPU shows once
  // the round trip polls): the permit is counted in the reply's callback, so an interruption
  // either cancels the request (the actor takes back a grant that crosses it) or comes after it.
  return Effect.callback<boolean, E>((resume) => {
    const letGo = timeout === 0 ? undefined : hold()
    const cancel = Actor.askUnsafe<typeof Message.Encoded>(h.ref, { op: "acquire", timeout }, (ok, value) => {
      letGo?.()
      if (!ok) return resume(mapActorError(errors)(value))
      if (value === true) l.owned++
      resume(value === true ? TRUE : FALSE)
    }, undefined, "measure")
    return Effect.sync(() => {
      letGo?.()
      cancel()
    })
  })
}

/** Acquires one permit; `true` once held, `false` if the timeout passed first. */
export const acquire = <E>(h: Permits, timeout: number, errors: Errors<E>): Effect.Effect<boolean, E> => {
  if (h.cachedFor === undefined) cache(h, errors)
  return timeout === -1 && h.cachedFor === errors ? h.acquireForever! : Effect.suspend(() => acquireNow(h, timeout, errors))
}

const cache = <E>(h: Permits, errors: Errors<E>): void => {
  h.cachedFor = errors
  h.acquireForever = Effect.suspend(() => acquireNow(h, -1, errors))
  h.releaseEffect = Effect.suspend(() => releaseNow(h, errors))
}

/** Synchronous non-blocking acquire where the memory is shared: true if a permit was taken;
 * `undefined` where it is not (the caller must go through the actor). */
export const tryAcquireSync = (h: Permits): boolean | undefined => {
  const l = localOf(h)
  const slot = slotOf(h, l)
  return slot >= 0 ? tryFast(h.words!, slot) : undefined
}

/** Synchronous release of a permit this process holds: true if released, false if it holds none. */
export const releaseOwnSync = (h: Permits): boolean => {
  const l = localOf(h)
  const slot = slotOf(h, l)
  // only this thread raises its own count: a plain read is enough
  if (slot >= 0 && h.words![heldAt(slot)]! > 0) {
    releaseSlot(h, h.words!, slot)
    return true
  }
  if (l.owned > 0) {
    l.owned--
    Effect.runSync(Effect.ignore(Actor.tellLater(h.ref, { op: "release", own: true })))
    return true
  }
  return false
}

const releaseNow = <E>(h: Permits, errors: Errors<E>): Effect.Effect<void, E> => {
  const l = localOf(h)
  const slot = slotOf(h, l)
  if (slot >= 0) {
    const w = h.words!
    if (w[heldAt(slot)]! > 0) {
      releaseSlot(h, w, slot)
      return Effect.void
    }
    if (h.bound === 0) {
      // an unbounded semaphore released by a non-holder: one more permit, nobody to account
      kernel.flushHeldBack()
      grantOne(h, w)
      return Effect.void
    }
  }
  if (l.owned > 0) {
    l.owned--
    // With the next request of this tick, if any (see `Actor.tellLater`).
    return Actor.tellLater(h.ref, { op: "release", own: true }).pipe(Effect.orDie)
  }
  return Actor.ask<typeof Message.Encoded, void, E>(h.ref, { op: "release", own: false }).pipe(
    Effect.catch(mapActorError(errors))
  )
}

/** Releases one permit (this process's own if it holds one, else on behalf of a holder). */
export const release = <E>(h: Permits, errors: Errors<E>): Effect.Effect<void, E> => {
  if (h.cachedFor === undefined) cache(h, errors)
  return h.cachedFor === errors ? h.releaseEffect! : Effect.suspend(() => releaseNow(h, errors))
}

/** The number of free permits (Python's `get_value()`). */
export const value = <E>(h: Permits, errors: Errors<E>): Effect.Effect<number, E> =>
  Effect.suspend(() =>
    h.words
      ? Effect.succeed(freeOf(h.words))
      : Actor.ask<typeof Message.Encoded, number, E>(h.ref, { op: "value" }).pipe(Effect.catch(mapActorError(errors)))
  )

/** Tickets taken and not yet granted (waiters, local and remote, plus abandoned tickets not yet
 * passed); `undefined` where the memory is not shared. For tests and diagnostics. */
export const queued = (h: Permits): number | undefined =>
  h.words ? Math.max(0, (Atomics.load(h.words, NEXT) - Atomics.load(h.words, GRANTED)) | 0) : undefined

const freeOf = (w: Int32Array): number => {
  const n = Atomics.load(w, NEXT)
  return Math.max(0, (Atomics.load(w, GRANTED) - n) | 0)
}

export const tooManyMessage = (h: Permits): string =>
  h.kind === "Lock" || h.kind === "RLock" ? "release unlocked lock" : "semaphore or lock released too many times"

// ---- the actor ----------------------------------------------------------------------------------

interface RemoteWaiter {
  readonly from: string
  readonly t: number
  readonly request: Actor.Request
  cancel: () => boolean
}

/** Starts the actor of a new permits object in this process. */
export const make = <E>(
  kind: Kind,
  initial: number,
  bound: number,
  onOwnerDeath: OnOwnerDeath,
  errors: Errors<E>
): Effect.Effect<Permits, never, Scope.Scope> =>
  Effect.suspend(() => {
    if (!Number.isInteger(initial) || initial < 0 || initial > MAX_INITIAL) {
      return Effect.die(new RangeError(`${kind} initial value must be an integer in 0..${MAX_INITIAL}, got ${initial}`))
    }
    const sab = new SharedArrayBuffer(WORDS * 4)
    const w = new Int32Array(sab)
    Atomics.store(w, GRANTED, initial)
    for (let i = 0; i < RING; i++) Atomics.store(w, cellAt(i), (i - RING) << 1)
    const owned = new Map<string, number>()
    /** Tickets the actor waits with for processes without the memory, by cell. */
    const remote = new Map<number, RemoteWaiter>()

    const credit = (from: string): void => {
      if (Atomics.load(w, DEBT) !== 0 && payDebt(w)) return
      owned.set(from, (owned.get(from) ?? 0) + 1)
    }
    const uncredit = (from: string): boolean => {
      const n = owned.get(from) ?? 0
      if (n <= 0) return false
      if (n === 1) owned.delete(from)
      else owned.set(from, n - 1)
      return true
    }
    const decrementIfPositive = (at: number): boolean => {
      for (;;) {
        const n = Atomics.load(w, at)
        if (n <= 0) return false
        if (Atomics.compareExchange(w, at, n, n - 1) === n) return true
      }
    }
    /** Takes one permit's accounting away from whichever process holds one (a Lock released by
     * another process); if nobody is credited yet (a grant in flight), the next credit is skipped. */
    const stealFromAHolder = (): void => {
      for (const [from] of owned) {
        uncredit(from)
        return
      }
      for (let i = 0; i < NSLOTS; i++) {
        if (Atomics.load(w, stateAt(i)) === S_READY && decrementIfPositive(heldAt(i))) return
      }
      Atomics.add(w, DEBT, 1)
    }
    /** A release by a non-holder: adds a permit unless that passes the bound. */
    const releaseForeign = (): boolean => {
      for (;;) {
        const g = Atomics.load(w, GRANTED)
        const n = Atomics.load(w, NEXT)
        if (bound > 0 && ((g - n) | 0) + 1 > bound) return false
        if (Atomics.compareExchange(w, GRANTED, g, (g + 1) | 0) === g) {
          if (bound > 0) stealFromAHolder()
          if (before(g, Atomics.load(w, NEXT))) handOff(handle, w, g)
          return true
        }
      }
    }
    const settleRemote = (i: number): void => {
      const r = remote.get(i)
      if (!r || !isGranted(w, r.t, cellAt(i))) return
      remote.delete(i)
      r.cancel = () => false
      credit(r.from)
      Atomics.store(w, waiterAt(i), 0)
      r.request.reply(true)
    }
    /** Abandons every waiting ticket (the actor fails their waiters). */
    const failAllWaiters = (error: E): void => {
      Atomics.add(w, FAILGEN, 1)
      for (const [i, r] of remote) {
        remote.delete(i)
        if (r.cancel()) settleGranted(r, i)
        else r.request.fail(error)
      }
      for (let i = 0; i < RING; i++) {
        const who = Atomics.load(w, waiterAt(i))
        if (who <= 0) continue
        const at = cellAt(i)
        if (tryAbandon(w, Atomics.load(w, ticketAt(i)), at)) {
          Atomics.store(w, waiterAt(i), 0)
          Atomics.notify(w, at)
        }
      }
    }
    const settleGranted = (r: RemoteWaiter, i: number): void => {
      credit(r.from)
      Atomics.store(w, waiterAt(i), 0)
      r.request.reply(true)
    }

    const behavior: Actor.Behavior<Message> = {
      receive: (m, request) => {
        switch (m.op) {
          case "acquire": {
            if (tryTake(w)) {
              credit(request.from)
              return request.reply(true)
            }
            if (m.timeout === 0) return request.reply(false)
            const enqueue = (): void => {
              if (request.done) return
              if (ringFull(w)) {
                setTimeout(enqueue, 1)
                return
              }
              const t = Atomics.add(w, NEXT, 1)
              if (before(t, Atomics.load(w, GRANTED))) {
                credit(request.from)
                return request.reply(true)
              }
              const i = t & RING_MASK
              Atomics.store(w, ticketAt(i), t)
              Atomics.store(w, waiterAt(i), REMOTE)
              const r: RemoteWaiter = { from: request.from, t, request, cancel: () => false }
              remote.set(i, r)
              const wait = waitTicket(w, t, i, m.timeout, false, (how) => {
                if (remote.get(i) !== r) return
                remote.delete(i)
                if (how === GOT) return settleGranted(r, i)
                if (how === TIMED_OUT) return request.reply(false)
                request.fail(failure(handle, errors))
              })
              r.cancel = wait.cancel
              request.onCancel(() => {
                if (remote.get(i) !== r) return
                remote.delete(i)
                if (r.cancel()) {
                  Atomics.store(w, waiterAt(i), 0)
                  grantOne(handle, w)
                }
              })
            }
            return enqueue()
          }
          case "release": {
            if (m.own) {
              if (!uncredit(request.from)) {
                kernel.log(30, `${kind}: ${request.from || "main"} released a permit it no longer held`)
              }
              grantOne(handle, w)
              return request.reply(undefined)
            }
            if (!releaseForeign()) return request.fail(errors.tooMany(tooManyMessage(handle)))
            return request.reply(undefined)
          }
          case "value":
            return request.reply(freeOf(w))
        }
      },
      down: (dead) => {
        const deadSlots = new Set<number>()
        for (let s = 0; s < NSLOTS; s++) {
          if (Atomics.load(w, stateAt(s)) === S_READY && kernel.isAtOrBelow(slotAddress(w, s), dead)) deadSlots.add(s + 1)
        }
        // tickets the dead were waiting with: abandon them, or pass on a grant they never saw
        let passOn = 0
        if (deadSlots.size > 0) {
          for (let i = 0; i < RING; i++) {
            if (!deadSlots.has(Atomics.load(w, waiterAt(i)))) continue
            if (!tryAbandon(w, Atomics.load(w, ticketAt(i)), cellAt(i))) passOn++
            Atomics.store(w, waiterAt(i), 0)
          }
        }
        let n = 0
        for (const s of deadSlots) {
          n += Atomics.exchange(w, heldAt(s - 1), 0)
          Atomics.store(w, stateAt(s - 1), S_FREE)
        }
        for (const [from, count] of owned) {
          if (kernel.isAtOrBelow(from, dead)) {
            n += count
            owned.delete(from)
          }
        }
        if (n > 0 && onOwnerDeath === "fail") {
          failAllWaiters(errors.ownerDied(`a process holding the ${kind} (${dead || "main"}) died`))
        }
        for (let k = 0; k < n + passOn; k++) grantOne(handle, w)
      },
      abandoned: (m, granted, request) => {
        if (m.op !== "acquire" || granted !== true) return
        if (uncredit(request.from)) grantOne(handle, w)
      }
    }
    let handle: Permits
    return Actor.make(Message, behavior).pipe(
      Effect.tap(() =>
        Effect.addFinalizer(() =>
          Effect.sync(() => {
            decoded.delete(handle.key)
            locals.delete(handle.key)
            Atomics.store(w, CLOSED, 1)
            failAllWaiters(errors.gone(`the ${kind} was closed`))
          })
        )
      ),
      Effect.map((ref) => {
        handle = new Permits(kind, ref, initial, bound, sab)
        handle.onRemoteGrant = settleRemote
        decoded.set(handle.key, handle)
        return handle
      })
    )
  })

// ---- crossing processes ---------------------------------------------------------------------------

const decoded = new Map<string, Permits>()

Codec.register<Permits>({
  tag: "multiproc/Permits",
  Class: Permits,
  encode: (h, ctx) => [h.kind, h.ref.address, h.ref.port, h.initial, h.bound, ctx.shared && h.sab ? h.sab : null],
  decode: ([kind, address, port, initial, bound, sab]: [Kind, string, number, number, number, SharedArrayBuffer | null]) => {
    const key = `${address}/${port}`
    const known = decoded.get(key)
    if (known && (known.sab !== undefined || sab === null)) return known
    const h = new Permits(kind, { address, port }, initial, bound, sab ?? undefined)
    decoded.set(key, h)
    return h
  }
})
