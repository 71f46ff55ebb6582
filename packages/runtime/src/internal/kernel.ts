/**
 * The process-local kernel: who this process is, the link to its parent and to its children,
 * and the ports that actors listen on. Messages between any two processes of one tree are routed
 * hop by hop along it (a process address is its identity, `""` for the main process, `"1:2"` for
 * the second child of the first child), so a handle created in one process works in every other.
 *
 * Lean on purpose: no `effect` import, it runs in every worker before the task module loads.
 * @internal
 */
import { isMainThread, threadId } from "node:worker_threads"
import type { Link } from "./link.ts"
import { DOWN, LOG, levelName, levels, ROUTE } from "./protocol.ts"

export interface SelfInfo {
  identity: ReadonlyArray<number>
  address: string
  name: string
  daemon: boolean
  backend: "main" | "thread" | "process"
  pid: number
  threadId: number
  parentPid: number | undefined
  parentName: string | undefined
  logLevel: number
  authkey: string
}

export const addressOf = (identity: ReadonlyArray<number>): string => identity.join(":")

const randomKey = (): string => {
  const bytes = new Uint8Array(32)
  crypto.getRandomValues(bytes)
  return Buffer.from(bytes).toString("hex")
}

let authkey: string | undefined

export const self: SelfInfo = {
  identity: [],
  address: "",
  name: "MainProcess",
  daemon: false,
  backend: "main",
  pid: process.pid,
  threadId,
  parentPid: undefined,
  parentName: undefined,
  logLevel: levels.OFF,
  // Generated on first use: initialising crypto costs a worker ~4 ms at boot, and children
  // inherit their parent's key anyway.
  get authkey() {
    return authkey ??= randomKey()
  },
  set authkey(value: string) {
    authkey = value
  }
}

/** True in the process (or thread) the program was started as. */
export const isMain = (): boolean => self.backend === "main"

let parentLink: Link | undefined
let parentAlive = (): boolean => true

/** Called by the worker bootstrap once it knows who it is. */
export const initChild = (info: Omit<SelfInfo, "address">, link: Link, alive: () => boolean): void => {
  Object.assign(self, info, { address: addressOf(info.identity) })
  parentLink = link
  parentAlive = alive
}

export const parent = (): Link | undefined => parentLink
export const isParentAlive = (): boolean => parentLink === undefined ? false : !parentLink.closed && parentAlive()

let counter = 0
/** The identity of the next child this process creates (Python's `_identity`). */
export const nextIdentity = (): ReadonlyArray<number> => [...self.identity, ++counter]

// ---- children -------------------------------------------------------------------------------

const children = new Map<number, Link>()

/** Registers the link to a direct child, keyed by the last element of its identity. */
export const addChild = (identity: ReadonlyArray<number>, link: Link): void => {
  children.set(identity[identity.length - 1]!, link)
}

export const removeChild = (identity: ReadonlyArray<number>): void => {
  children.delete(identity[identity.length - 1]!)
}

// ---- ports and routing ----------------------------------------------------------------------

/** A mailbox in this process: `(body, fromAddress)`. */
export type PortHandler = (body: unknown, from: string) => void

const ports = new Map<number, PortHandler>()
let nextPort = 1

/** Opens a port; the returned number together with `self.address` addresses it from anywhere.
 * A `fixed` port (negative, so it never collides with allocated ones) makes a well-known address:
 * every process can compute it without being told. */
export const openPort = (handler: PortHandler, fixed?: number): number => {
  if (fixed !== undefined) {
    if (!Number.isInteger(fixed) || fixed >= 0) throw new RangeError(`a fixed port must be a negative integer, not ${fixed}`)
    if (ports.has(fixed)) throw new RangeError(`port ${fixed} is already open`)
    ports.set(fixed, handler)
    return fixed
  }
  const port = nextPort++
  ports.set(port, handler)
  return port
}

export const closePort = (port: number): void => {
  ports.delete(port)
}

/** Called when a message cannot be delivered; the actor layer answers requests with an error. */
let undeliverable: (dest: string, port: number, body: unknown, from: string) => void = () => {}
export const setOnUndeliverable = (f: typeof undeliverable): void => {
  undeliverable = f
}
const onUndeliverable = (dest: string, port: number, body: unknown, from: string): void => undeliverable(dest, port, body, from)

const isBelow = (dest: string): boolean =>
  self.address === "" ? dest !== "" : dest.length > self.address.length && dest.startsWith(self.address + ":")

/** Sends `body` to `port` of the process at `dest`, from this process. Throws `CodecError` if the
 * body cannot be encoded for the first hop. */
export const send = (dest: string, port: number, body: unknown): void => {
  route(dest, port, body, self.address)
}

/** Routes one message one hop closer to its destination (or delivers it here). */
export const route = (dest: string, port: number, body: unknown, from: string): void => {
  if (dest === self.address) {
    const handler = ports.get(port)
    if (handler) handler(body, from)
    else onUndeliverable(dest, port, body, from)
    return
  }
  if (isBelow(dest)) {
    const rest = self.address === "" ? dest : dest.slice(self.address.length + 1)
    const next = Number(rest.split(":", 1)[0])
    const link = children.get(next)
    if (link && !link.closed) link.send([ROUTE, dest, port, body, from])
    else onUndeliverable(dest, port, body, from)
    return
  }
  if (parentLink && !parentLink.closed) parentLink.send([ROUTE, dest, port, body, from])
  else onUndeliverable(dest, port, body, from)
}

// ---- logging --------------------------------------------------------------------------------

/** Where log records end up in the main process. Replaced by the Effect logger when installed. */
export let logSink = (level: number, message: string, name: string, pid: number): void => {
  process.stderr.write(`[${levelName(level)}/${name}] ${message}\n`)
  void pid
}
export const setLogSink = (sink: typeof logSink): void => {
  logSink = sink
}

export const setLogLevel = (level: number): void => {
  self.logLevel = level
}

/** Logs a record as `processName`; in a child the record goes to the main process. */
export const log = (level: number, message: string, name = self.name, pid = self.pid): void => {
  if (level < self.logLevel) return
  emitLog(level, message, name, pid)
}

/** Passes a record on without filtering (records from children were filtered there). */
export const emitLog = (level: number, message: string, name: string, pid: number): void => {
  if (parentLink && !parentLink.closed) {
    try {
      parentLink.send([LOG, level, message, name, pid])
      return
    } catch {
      // fall through to local output
    }
  }
  logSink(level, message, name, pid)
}

export const mainThread = isMainThread

// ---- exit handlers ----------------------------------------------------------------------------

const exitHandlers: Array<() => Promise<void> | void> = []

/** Runs before a child exits after its work is done (the facade joins its own children here). */
export const atExit = (f: () => Promise<void> | void): void => {
  exitHandlers.push(f)
}

export const runExitHandlers = async (): Promise<void> => {
  while (exitHandlers.length > 0) {
    const f = exitHandlers.pop()!
    try {
      await f()
    } catch {
      // An exit handler must not keep the process from exiting.
    }
  }
}

// ---- process death ---------------------------------------------------------------------------

const downListeners = new Set<(address: string) => void>()

/** Listens for deaths of processes anywhere in the tree. Returns the unsubscribe function. */
export const onDown = (f: (address: string) => void): () => void => {
  downListeners.add(f)
  return () => downListeners.delete(f)
}

/** Whether `address` is `dead` or below it. */
export const isAtOrBelow = (address: string, dead: string): boolean =>
  address === dead || (dead === "" ? true : address.startsWith(dead + ":"))

const deliverDown = (address: string): void => {
  for (const f of downListeners) {
    try {
      f(address)
    } catch {
      // a listener's failure must not stop the others
    }
  }
}

/** Announces that a child (or a process below one) has died: up to the root, then down. */
export const announceDown = (address: string, fromChild?: number): void => {
  deliverDown(address)
  broadcastDown(address, fromChild)
  if (parentLink && !parentLink.closed) {
    try {
      parentLink.send([DOWN, address, 1])
    } catch {
      // the parent is going away itself
    }
  }
}

/** Handles a DOWN notice from the parent (`up` = 0) or from a child (`up` = 1). */
export const receiveDown = (address: string, up: number, fromChild?: number): void => {
  if (up === 1) {
    announceDown(address, fromChild)
  } else {
    deliverDown(address)
    broadcastDown(address, undefined)
  }
}

const broadcastDown = (address: string, except: number | undefined): void => {
  for (const [index, link] of children) {
    if (index === except || link.closed) continue
    try {
      link.send([DOWN, address, 0])
    } catch {
      // the child is going away itself
    }
  }
}
