/**
 * The runtime's wire protocol between a process and its parent: message kinds and boot data.
 * Every message is an array whose first element is its kind.
 * @internal
 */

/** child → parent: `[READY, pid, threadId]` once the worker listens. */
export const READY = 0
/** parent → child: `[RUN, callId, taskIndex, args, shared?, awake?]`. Arguments travel as an
 * opaque part, decoded after the task's module (which may register codecs) is imported. `awake`
 * (1): the caller polls for the reply, so the worker stays awake for a moment after it. */
export const RUN = 1
/** child → parent: `[DONE, callId, status, value]`. */
export const DONE = 2
/** parent → child: `[INTERRUPT, callId]`. */
export const INTERRUPT = 3
/** child → parent (forwarded up to the root): `[LOG, level, message, processName, pid]`. */
export const LOG = 4
/** either way: `[ROUTE, destAddress, port, body, fromAddress]`, forwarded along the process tree. */
export const ROUTE = 5
/** parent → child: `[CLOSE]`, finish the current work and exit. */
export const CLOSE = 6
/** either way: `[DOWN, address]`, the process at `address` (and everything below it) is gone.
 * Travels up to the main process and from there down to every process. */
export const DOWN = 7
/** parent → child: `[TASK, taskIndex, module, key]`, names a task once per link; RUN refers to it. */
export const TASK = 8
/** parent → child: `[RUN_FLAT, callId, taskIndex, awake, ...args]`, a RUN whose arguments are all
 * plain (see `isPlainArray`), flat: one array less to clone each call. */
export const RUN_FLAT = 9

/** Status of a DONE message. */
export const OK = 0
export const FAIL = 1
export const DIE = 2
export const INTERRUPTED = 3
/** A plain (non-Effect) task threw. */
export const THROW = 4

/** What a child needs to know about itself before it runs anything. */
export interface BootData {
  readonly identity: ReadonlyArray<number>
  readonly name: string
  readonly daemon: boolean
  readonly backend: "thread" | "process"
  /** `once`: run one call, then exit (a Process). `service`: run calls until closed (a Pool worker). */
  readonly mode: "once" | "service"
  readonly logLevel: number
  readonly parentPid: number
  readonly parentName: string
  readonly authkey: string
  /** Modules to import before reporting ready (a pool's initializer module, for example). */
  readonly preload?: ReadonlyArray<string>
  /** How many calls may run at once in a service worker; further calls wait (default: no limit). */
  readonly concurrency?: number
  /** How long a service worker keeps its event loop polling after a reply, in ms (0: off). */
  readonly awakeMs?: number
  /** Thread backend: one Int32 the worker keeps above 0 while it imports modules (see spawn.ts). */
  readonly importing?: SharedArrayBuffer
}

/** Log levels, numbered as Python's logging does. */
export const levels = { SUBDEBUG: 5, DEBUG: 10, INFO: 20, SUBWARNING: 25, WARNING: 30, ERROR: 40, CRITICAL: 50, OFF: 100 } as const
export const levelName = (n: number): string => {
  for (const [k, v] of Object.entries(levels)) if (v === n) return k
  return `Level ${n}`
}
