/**
 * The engine under Lock, RLock, Semaphore and BoundedSemaphore: a counting semaphore with an
 * optional bound, FIFO hand-off, per-process accounting of held permits (so a dead holder's
 * permits come back) and a shared-memory fast path for threads of the creator's OS process.
 *
 * The state lives in two places that always agree:
 * - a SharedArrayBuffer (created with the actor, shared with worker threads of the same OS
 *   process): the number of free permits, a CONTENDED flag, and a table of holder slots (one per
 *   process that used the fast path: its address and how many permits it holds);
 * - the actor (in the creating process): the FIFO queue of waiters and the permits held by
 *   processes without the shared memory (other OS processes).
 *
 * Protocol: a fast acquire is a CAS `free → free - 1` allowed only while CONTENDED is clear (no
 * barging past queued waiters). A release always returns the permit to `free` (keeping the flag);
 * if the flag was set it nudges the actor, which hands free permits to its waiters in order. The
 * actor sets CONTENDED when it queues a waiter and clears it when the queue empties; it is the only
 * one that ever changes the flag. Waiting, timeouts and cancellation always happen in the actor,
 * so a waiter that gave up never owns a permit (a grant that crossed the cancellation comes back
 * through `abandoned`).
 *
 * A fast-path acquire or release is two adjacent Atomics operations with no JavaScript call in
 * between; V8 only stops a terminated worker at function entries and loop back-edges, so a killed
 * thread cannot be stopped between them.
 * @internal
 */
import * as Actor from "@multiproc/runtime/Actor"
import * as Codec from "@multiproc/runtime/Codec"
import * as kernel from "@multiproc/runtime/internal/kernel"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"

// ---- shared memory layout ---------------------------------------------------------------------

const VALUE = 0
const CONTENDED = 1 << 30
const MASK = CONTENDED - 1
const SLOTS_AT = 4
const SLOT_WORDS = 20
const MAX_DEPTH = SLOT_WORDS - 3
const NSLOTS = 32
const S_FREE = 0
const S_CLAIMING = 1
const S_READY = 2
const WORDS = SLOTS_AT + NSLOTS * SLOT_WORDS

const stateAt = (slot: number) => SLOTS_AT + slot * SLOT_WORDS
const heldAt = (slot: number) => SLOTS_AT + slot * SLOT_WORDS + 1
const lenAt = (slot: number) => SLOTS_AT + slot * SLOT_WORDS + 2

// ---- handles ----------------------------------------------------------------------------------

/** Which Python class a permits handle stands for. */
export type Kind = "Lock" | "RLock" | "Semaphore" | "BoundedSemaphore"

/** What to do with waiters when a holder dies. */
export type OnOwnerDeath = "release" | "fail"

/** The wire protocol of the permits actor. `timeout`: -1 forever, 0 try once, else milliseconds. */
export const Message = Schema.Union([
  Schema.Struct({ op: Schema.Literal("acquire"), slot: Schema.Number, timeout: Schema.Number }),
  Schema.Struct({ op: Schema.Literal("release"), own: Schema.Boolean }),
  Schema.Struct({ op: Schema.Literal("wake") }),
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
  constructor(kind: Kind, ref: Actor.ActorRef<any>, initial: number, bound: number, sab: SharedArrayBuffer | undefined) {
    this.kind = kind
    this.ref = ref
    this.initial = initial
    this.bound = bound
    this.sab = sab
    this.words = sab ? new Int32Array(sab) : undefined
    this.key = `${ref.address}/${ref.port}`
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
  let l = locals.get(h.key)
  if (!l) locals.set(h.key, l = { slot: -2, owned: 0, owner: undefined, depth: 0 })
  return l
}

/** The holder slot of this process (claimed on first use), or -1 without shared memory. */
const slotOf = (h: Permits, l: Local): number => {
  if (!h.words) return -1
  if (l.slot === -2) l.slot = claimSlot(h.words)
  return l.slot
}

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

// ---- fast path ----------------------------------------------------------------------------------

const tryFast = (words: Int32Array, slot: number): boolean => {
  for (;;) {
    const w = Atomics.load(words, VALUE)
    if ((w & CONTENDED) !== 0 || w === 0) return false
    if (Atomics.compareExchange(words, VALUE, w, w - 1) === w) {
      Atomics.add(words, heldAt(slot), 1)
      return true
    }
  }
}

const FAST_DONE = 0
const FAST_WAKE = 1
const FAST_OVER = 2

/** Returns a permit this process holds to `free`. */
const releaseFast = (words: Int32Array, slot: number, bound: number): number => {
  for (;;) {
    const w = Atomics.load(words, VALUE)
    if (bound > 0 && (w & MASK) + 1 > bound) return FAST_OVER
    if (Atomics.compareExchange(words, VALUE, w, w + 1) === w) {
      Atomics.sub(words, heldAt(slot), 1)
      return (w & CONTENDED) !== 0 ? FAST_WAKE : FAST_DONE
    }
  }
}

// ---- client side ----------------------------------------------------------------------------------

/** Milliseconds for the wire: -1 forever, 0 try once (Python: a negative timeout is zero). */
export const timeoutMillis = (block: boolean | undefined, timeout: Duration.Input | undefined): number => {
  if (block === false) return 0
  if (timeout === undefined) return -1
  const ms = Duration.toMillis(timeout)
  if (!Number.isFinite(ms)) return ms > 0 ? -1 : 0
  return ms <= 0 ? 0 : Math.max(1, Math.ceil(ms))
}

const mapActorError = <E>(errors: Errors<E>) => (e: unknown): Effect.Effect<never, E> => {
  if (e instanceof Actor.ActorError) return Effect.fail(errors.gone(`the ${e.reason === "OwnerDied" ? "process that created it has died" : e.message}`))
  if (e instanceof Codec.SerializationError) return Effect.die(e)
  return Effect.fail(e as E)
}

/** Acquires one permit; `true` once held, `false` if the timeout passed first. */
export const acquire = <E>(h: Permits, timeout: number, errors: Errors<E>): Effect.Effect<boolean, E> =>
  Effect.suspend(() => {
    const l = localOf(h)
    const slot = slotOf(h, l)
    if (slot >= 0) {
      if (tryFast(h.words!, slot)) return Effect.succeed(true)
      if (timeout === 0 && (Atomics.load(h.words!, VALUE) & MASK) === 0) return Effect.succeed(false)
    }
    return Effect.uninterruptibleMask((restore) =>
      restore(Actor.ask<typeof Message.Encoded, boolean, E>(h.ref, { op: "acquire", slot, timeout })).pipe(
        Effect.map((ok) => {
          if (ok && slot < 0) l.owned++
          return ok
        }),
        Effect.catch(mapActorError(errors))
      )
    )
  })

/** Releases one permit (this process's own if it holds one, else on behalf of a holder). */
export const release = <E>(h: Permits, errors: Errors<E>): Effect.Effect<void, E> =>
  Effect.suspend(() => {
    const l = localOf(h)
    const slot = slotOf(h, l)
    if (slot >= 0 && Atomics.load(h.words!, heldAt(slot)) > 0) {
      switch (releaseFast(h.words!, slot, h.bound)) {
        case FAST_DONE:
          return Effect.void
        case FAST_WAKE:
          return Actor.tell(h.ref, { op: "wake" }).pipe(Effect.orDie)
        default:
          return Effect.fail(errors.tooMany(tooManyMessage(h)))
      }
    }
    if (l.owned > 0) {
      l.owned--
      return Actor.tell(h.ref, { op: "release", own: true }).pipe(Effect.orDie)
    }
    return Actor.ask<typeof Message.Encoded, void, E>(h.ref, { op: "release", own: false }).pipe(
      Effect.catch(mapActorError(errors))
    )
  })

/** The number of free permits (Python's `get_value()`). */
export const value = <E>(h: Permits, errors: Errors<E>): Effect.Effect<number, E> =>
  Effect.suspend(() =>
    h.words
      ? Effect.succeed(Atomics.load(h.words, VALUE) & MASK)
      : Actor.ask<typeof Message.Encoded, number, E>(h.ref, { op: "value" }).pipe(Effect.catch(mapActorError(errors)))
  )

const tooManyMessage = (h: Permits): string =>
  h.kind === "Lock" || h.kind === "RLock" ? "release unlocked lock" : "semaphore or lock released too many times"

// ---- the actor ----------------------------------------------------------------------------------

interface Waiter {
  readonly from: string
  readonly slot: number
  readonly request: Actor.Request
  timer: ReturnType<typeof setTimeout> | undefined
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
    if (!Number.isInteger(initial) || initial < 0 || initial > MASK) {
      return Effect.die(new RangeError(`${kind} initial value must be an integer in 0..${MASK}, got ${initial}`))
    }
    const sab = new SharedArrayBuffer(WORDS * 4)
    const words = new Int32Array(sab)
    Atomics.store(words, VALUE, initial)
    const queue: Array<Waiter> = []
    const owned = new Map<string, number>()

    const take = (): boolean => {
      for (;;) {
        const w = Atomics.load(words, VALUE)
        if ((w & MASK) === 0) return false
        if (Atomics.compareExchange(words, VALUE, w, w - 1) === w) return true
      }
    }
    /** Adds permits; fails (returns false) past the bound. */
    const give = (n: number, checkBound: boolean): boolean => {
      for (;;) {
        const w = Atomics.load(words, VALUE)
        if (checkBound && bound > 0 && (w & MASK) + n > bound) return false
        if (Atomics.compareExchange(words, VALUE, w, w + n) === w) return true
      }
    }
    const setContended = (on: boolean): void => {
      for (;;) {
        const w = Atomics.load(words, VALUE)
        const next = on ? w | CONTENDED : w & MASK
        if (w === next || Atomics.compareExchange(words, VALUE, w, next) === w) return
      }
    }
    const credit = (from: string, slot: number): void => {
      if (slot >= 0) Atomics.add(words, heldAt(slot), 1)
      else owned.set(from, (owned.get(from) ?? 0) + 1)
    }
    const uncredit = (from: string, slot: number): boolean => {
      if (slot >= 0) return decrementIfPositive(heldAt(slot))
      const n = owned.get(from) ?? 0
      if (n <= 0) return false
      if (n === 1) owned.delete(from)
      else owned.set(from, n - 1)
      return true
    }
    const decrementIfPositive = (at: number): boolean => {
      for (;;) {
        const n = Atomics.load(words, at)
        if (n <= 0) return false
        if (Atomics.compareExchange(words, at, n, n - 1) === n) return true
      }
    }
    /** Takes one permit away from whichever process holds one (a Lock released by another process). */
    const stealFromAHolder = (): void => {
      for (const [from] of owned) {
        uncredit(from, -1)
        return
      }
      for (let i = 0; i < NSLOTS; i++) {
        if (Atomics.load(words, stateAt(i)) === S_READY && decrementIfPositive(heldAt(i))) return
      }
    }
    const remove = (w: Waiter): void => {
      const i = queue.indexOf(w)
      if (i >= 0) queue.splice(i, 1)
      if (w.timer !== undefined) clearTimeout(w.timer)
      if (queue.length === 0) setContended(false)
    }
    const pump = (): void => {
      while (queue.length > 0 && take()) {
        const w = queue.shift()!
        if (w.timer !== undefined) clearTimeout(w.timer)
        credit(w.from, w.slot)
        w.request.reply(true)
      }
      if (queue.length === 0) setContended(false)
    }

    const behavior: Actor.Behavior<Message> = {
      receive: (m, request) => {
        switch (m.op) {
          case "acquire": {
            if (queue.length === 0 && take()) {
              credit(request.from, m.slot)
              return request.reply(true)
            }
            if (m.timeout === 0) return request.reply(false)
            const w: Waiter = { from: request.from, slot: m.slot, request, timer: undefined }
            queue.push(w)
            setContended(true)
            pump()
            if (request.done) return
            if (m.timeout > 0) {
              w.timer = setTimeout(() => {
                remove(w)
                request.reply(false)
              }, m.timeout)
            }
            request.onCancel(() => remove(w))
            return
          }
          case "release": {
            if (m.own) {
              if (!uncredit(request.from, -1)) {
                kernel.log(30, `${kind}: ${request.from || "main"} released a permit it no longer held`)
              }
              give(1, false)
              pump()
              return request.reply(undefined)
            }
            if (!give(1, true)) return request.fail(errors.tooMany(tooManyMessage(handle)))
            if (bound > 0) stealFromAHolder()
            pump()
            return request.reply(undefined)
          }
          case "wake":
            pump()
            return request.reply(undefined)
          case "value":
            return request.reply(Atomics.load(words, VALUE) & MASK)
        }
      },
      down: (dead) => {
        let n = 0
        for (let i = 0; i < NSLOTS; i++) {
          if (Atomics.load(words, stateAt(i)) !== S_READY) continue
          if (!kernel.isAtOrBelow(slotAddress(words, i), dead)) continue
          n += Atomics.exchange(words, heldAt(i), 0)
          Atomics.store(words, stateAt(i), S_FREE)
        }
        for (const [from, count] of owned) {
          if (kernel.isAtOrBelow(from, dead)) {
            n += count
            owned.delete(from)
          }
        }
        if (n > 0) {
          give(n, false)
          if (onOwnerDeath === "fail") {
            const failed = queue.splice(0, queue.length)
            for (const w of failed) {
              if (w.timer !== undefined) clearTimeout(w.timer)
              w.request.fail(errors.ownerDied(`a process holding the ${kind} (${dead || "main"}) died`))
            }
          }
        }
        pump()
      },
      abandoned: (m, granted, request) => {
        if (m.op !== "acquire" || granted !== true) return
        if (uncredit(request.from, m.slot)) {
          give(1, false)
          pump()
        }
      }
    }
    let handle: Permits
    return Actor.make(Message, behavior).pipe(
      Effect.tap(() =>
        Effect.addFinalizer(() =>
          Effect.sync(() => {
            decoded.delete(handle.key)
            locals.delete(handle.key)
            for (const w of queue.splice(0, queue.length)) {
              if (w.timer !== undefined) clearTimeout(w.timer)
              w.request.fail(errors.gone(`the ${kind} was closed`))
            }
          })
        )
      ),
      Effect.map((ref) => {
        handle = new Permits(kind, ref, initial, bound, sab)
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
