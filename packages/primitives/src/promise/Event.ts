/**
 * Event for async/await code: a thin class over the Effect API (`Event`).
 *
 * Python equivalent: `multiprocessing.Event`.
 *
 * @since 0.1.0
 */
import * as Codec from "@multiproc/runtime/Codec"
import type * as Duration from "effect/Duration"
import { run } from "../internal/facade.ts"
import * as E from "../Event.ts"
import { makeIn } from "./Lock.ts"

/**
 * A flag shared by every process it is handed to.
 *
 * Python equivalent: `multiprocessing.Event()`.
 *
 * @example
 * ```ts
 * import { Event } from "@multiproc/primitives/promise"
 * const ready = new Event()
 * await ready.set()
 * await ready.wait(1000) // true
 * ```
 * @category models
 * @since 0.1.0
 */
export class Event {
  /** The Effect-API handle this object wraps. */
  readonly handle: E.Event
  constructor(handle?: E.Event) {
    this.handle = handle ?? makeIn(E.make())
  }
  /** Python's `set()`. */
  set(): Promise<void> {
    return run(E.set(this.handle))
  }
  /** Python's `clear()`. */
  clear(): Promise<void> {
    return run(E.clear(this.handle))
  }
  /** Python's `is_set()`. */
  isSet(): Promise<boolean> {
    return run(E.isSet(this.handle))
  }
  /** Python's `wait(timeout=None)`: the flag, `false` on timeout. */
  wait(timeout?: Duration.Input): Promise<boolean> {
    return run(E.wait(this.handle, timeout))
  }
  /** Python's repr: `<Event at main/7 set>` (`unknown` state in a process-backend child). */
  toString(): string {
    return String(this.handle)
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString()
  }
}

Codec.register<Event>({ tag: "multiproc/promise/Event", Class: Event, encode: (e) => e.handle, decode: (h: E.Event) => new Event(h) })
