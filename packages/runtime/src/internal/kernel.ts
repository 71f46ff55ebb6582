/**
 * The process-local kernel: who this process is, the link to its parent and to its children,
 * and the ports that actors listen on. Messages between any two processes of one tree are routed
 * hop by hop along it (a process address is its identity, `""` for the main process, `"1:2"` for
 * the second child of the first child), so a handle created in one process works in every other.
 *
 * Lean on purpose: no `effect` import, it runs in every worker before the task module loads.
 * @internal
 */
import type { MessagePort } from "node:worker_threads"
import { isPlainArray, isPlainLeaf } from "./codec.ts"
import { Link, portEndpoint, receiveData } from "./link.ts"
import { DOWN, LOG, levelName, levels, ROUTE } from "./protocol.ts"

// Builtins through `process.getBuiltinModule`, not `import`: no ES module facade to build (about
// 2 ms of a worker's boot for v8, worker_threads, module and url together, measured). A process
// with an IPC channel is a main thread (threads never have `process.send`): a forked child does
// not load worker_threads at all (another ~2 ms) unless it starts threads itself.
const threads = typeof process.send === "function" ? undefined : process.getBuiltinModule("node:worker_threads")
const isMainThread = threads?.isMainThread ?? true
const threadId = threads?.threadId ?? 0
const workerData: unknown = threads?.workerData
let receive: typeof import("node:worker_threads").receiveMessageOnPort | undefined
const receiveMessageOnPort = (port: MessagePort) =>
  (receive ??= process.getBuiltinModule("node:worker_threads").receiveMessageOnPort)(port)

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
const onUndeliverable = (dest: string, port: number, body: unknown, from: string): void => {
  if (port === KERNEL_PORT) {
    const m = body as Array<any>
    // A connect that cannot reach its peer: the initiator stays on the tree.
    if (m[0] === CONNECT && from !== self.address) {
      try {
        route(from, KERNEL_PORT, [NACK, m[1], dest], self.address)
      } catch {
        // the initiator is gone
      }
    } else if (m[0] === CONNECT) {
      const d = directs.get(dest)
      if (d && d.nonce === m[1]) closeDirect(d)
      noDirect.add(dest)
    }
    return
  }
  undeliverable(dest, port, body, from)
}

const isBelow = (dest: string): boolean =>
  self.address === "" ? dest !== "" : dest.length > self.address.length && dest.startsWith(self.address + ":")

/**
 * Writers that hold this process's messages back until the end of the tick (a queue's batch of
 * puts): each is run, once, before the next message this process sends, so what this process did
 * first is there first (a child's put, then its `event.set()`: the parent woken by the event finds
 * the item). {@link flushHeldBack} does the same for a signal that does not go through `send`.
 */
const heldBack = new Set<() => void>()

/** Registers `flush` to run before this process's next `send` (or {@link flushHeldBack}). */
export const holdBack = (flush: () => void): void => {
  heldBack.add(flush)
}

/** Runs every held-back writer now (each removed first: it may send itself). */
export const flushHeldBack = (): void => {
  // (called on every lock release and pipe send: the common case allocates no iterator)
  if (heldBack.size === 0) return
  for (const flush of heldBack) {
    heldBack.delete(flush)
    flush()
  }
}

/** Sends `body` to `port` of the process at `dest`, from this process. Throws `CodecError` if the
 * body cannot be encoded for the first hop. `later`: it waits for the end of the tick even as the
 * tick's first message on its link (which otherwise goes at once), so that a request sent after
 * it in the same tick shares its write (a lock's release, then the next acquire). */
export const send = (dest: string, port: number, body: unknown, later = false): void => {
  if (heldBack.size > 0) flushHeldBack()
  const d = directs.get(dest)
  if (d !== undefined && d.outOpen) {
    d.link.send([ROUTE, dest, port, body, self.address], isPlainBody(body), later)
    return
  }
  if (d === undefined && dest !== self.address) countTraffic(dest)
  route(dest, port, body, self.address, later)
}

/** Whether a routed message with this body is plain (`Link.send`): addresses and ports always are. */
const isPlainBody = (body: unknown): boolean =>
  isPlainLeaf(body) || body === null || body === undefined || isPlainArray(body, 2)

/** Routes one message one hop closer to its destination (or delivers it here). */
export const route = (dest: string, port: number, body: unknown, from: string, later = false): void => {
  if (dest === self.address) {
    const handler = ports.get(port)
    if (handler) handler(body, from)
    else onUndeliverable(dest, port, body, from)
    return
  }
  let link: Link | undefined
  if (isBelow(dest)) {
    const rest = self.address === "" ? dest : dest.slice(self.address.length + 1)
    link = children.get(Number(rest.split(":", 1)[0]))
  } else {
    link = parentLink
  }
  if (link === undefined || link.closed) return onUndeliverable(dest, port, body, from)
  if (from === self.address) return link.send([ROUTE, dest, port, body, from], isPlainBody(body), later)
  // A relayed message that cannot take the next hop (a shared buffer or a port towards another OS
  // process) is answered as undeliverable; it must not throw into the link that brought it.
  try {
    link.send([ROUTE, dest, port, body, from])
  } catch {
    onUndeliverable(dest, port, body, from)
  }
}

// ---- direct links between threads of one OS process -------------------------------------------
//
// Two processes that are not neighbours in the tree talk through the processes between them: a
// child asking a sibling's actor costs four thread wake-ups per round trip, two of them in the
// main thread. When two threads of one OS process exchange messages steadily, the one with the
// smaller address gives the other one end of a MessageChannel and they continue over it.
//
// Order between the two stays FIFO across the switch: each side keeps sending over the tree until
// it has sent a fence over the tree (the acceptor's ACK, the initiator's FENCE), and holds what
// arrives over the channel until the other side's fence arrived over the tree. A channel cannot
// cross to another OS process: a hop that cannot carry the port answers NACK and the pair stays
// on the tree for good.

const KERNEL_PORT = 0
const CONNECT = 1
const ACK = 2
const FENCE = 3
const NACK = 4
/** Messages to one destination before a direct link is tried. */
const DIRECT_AFTER = 2

interface Direct {
  readonly peer: string
  readonly port: MessagePort
  readonly link: Link
  readonly nonce: number
  /** Our messages to the peer go over the channel (our fence was sent). */
  outOpen: boolean
  /** What arrived over the channel may be delivered (the peer's fence arrived). */
  inOpen: boolean
  held: Array<unknown>
  portClosed: boolean
}

const directs = new Map<string, Direct>()
const noDirect = new Set<string>()
const traffic = new Map<string, number>()
let nonces = 0

/** Whether `dest` is this process's parent or one of its children (already one hop away). */
const isNeighbour = (dest: string): boolean => {
  if (self.address === "") return dest !== "" && !dest.includes(":")
  if (isBelow(dest)) return !dest.slice(self.address.length + 1).includes(":")
  return dest === self.identity.slice(0, -1).join(":")
}

const countTraffic = (dest: string): void => {
  if (noDirect.has(dest)) return
  const n = (traffic.get(dest) ?? 0) + 1
  traffic.set(dest, n)
  if (n < DIRECT_AFTER) return
  traffic.delete(dest)
  // The smaller address initiates, so two connects never cross.
  if (isNeighbour(dest) || !(self.address < dest) || typeof MessageChannel === "undefined") {
    noDirect.add(dest)
    return
  }
  const { port1, port2 } = new MessageChannel()
  const d = openDirect(dest, port1 as unknown as MessagePort, ++nonces)
  try {
    route(dest, KERNEL_PORT, [CONNECT, d.nonce, port2], self.address)
  } catch {
    // The first hop is another OS process.
    closeDirect(d)
    noDirect.add(dest)
  }
}

const openDirect = (peer: string, port: MessagePort, nonce: number): Direct => {
  const d: Direct = {
    peer,
    port,
    nonce,
    outOpen: false,
    inOpen: false,
    held: [],
    portClosed: false,
    link: new Link(portEndpoint(port), (m) => {
      if (d.inOpen) deliverDirect(m)
      else d.held.push(m)
    })
  }
  d.link.onDecodeError = (e) => log(levels.ERROR, `undecodable message from ${peer || "main"}: ${(e as Error)?.message ?? e}`)
  port.on("message", (data) => receiveData(d.link, data))
  // The peer is gone (or dropped the link): new messages take the tree (where they meet the DOWN).
  // No reading from the port here: this also runs while this thread itself is torn down.
  port.on("close", () => {
    d.outOpen = false
    d.portClosed = true
  })
  // The channel must not keep a process alive that has nothing else to do.
  port.unref()
  directs.set(peer, d)
  return d
}

const deliverDirect = (message: unknown): void => {
  const m = message as Array<any>
  if (m[0] === ROUTE) route(m[1], m[2], m[3], m[4])
}

const openInbound = (d: Direct): void => {
  d.inOpen = true
  const held = d.held
  d.held = []
  for (const m of held) deliverDirect(m)
}

const closeDirect = (d: Direct): void => {
  if (directs.get(d.peer) === d) directs.delete(d.peer)
  d.link.close()
  d.port.close()
}

const drainPort = (d: Direct): void => {
  if (d.portClosed) return
  let entry: { message: unknown } | undefined
  try {
    while ((entry = receiveMessageOnPort(d.port)) !== undefined) receiveData(d.link, entry.message)
  } catch {
    // closed already
  }
}

/** What a dead peer sent over its channel is delivered before the news of its death. */
const drainDirects = (dead: string): void => {
  for (const d of [...directs.values()]) {
    if (!isAtOrBelow(d.peer, dead)) continue
    drainPort(d)
    openInbound(d)
    closeDirect(d)
  }
}

/** Writes out every link's pending batch now (before this process exits on its own). */
export const flushAll = (): void => {
  for (const link of [parentLink, ...children.values(), ...[...directs.values()].map((d) => d.link)]) {
    if (link === undefined || link.closed) continue
    try {
      link.flush()
    } catch {
      // the channel is gone already
    }
  }
}

/** Writes out now what was sent towards `dest` (the first hop's pending batch), instead of at the
 * end of the tick: a sender in a long synchronous loop lets the receiver start meanwhile. */
export const flushTo = (dest: string): void => {
  if (dest === self.address) return
  const d = directs.get(dest)
  let link: Link | undefined
  if (d !== undefined && d.outOpen) link = d.link
  else if (isBelow(dest)) link = children.get(Number((self.address === "" ? dest : dest.slice(self.address.length + 1)).split(":", 1)[0]))
  else link = parentLink
  if (link === undefined || link.closed) return
  try {
    link.flush()
  } catch {
    // the channel is gone already
  }
}

/** The peers this process talks to over a direct link (for tests and diagnostics). */
export const directPeers = (): Array<string> => [...directs.values()].filter((d) => d.outOpen && d.inOpen).map((d) => d.peer)

ports.set(KERNEL_PORT, (body, from) => {
  const m = body as Array<any>
  switch (m[0]) {
    case CONNECT: {
      const old = directs.get(from)
      if (old) closeDirect(old)
      const d = openDirect(from, m[2] as MessagePort, m[1])
      route(from, KERNEL_PORT, [ACK, m[1]], self.address)
      d.outOpen = true
      return
    }
    case ACK: {
      const d = directs.get(from)
      if (!d || d.nonce !== m[1]) return
      openInbound(d)
      route(from, KERNEL_PORT, [FENCE], self.address)
      d.outOpen = true
      return
    }
    case FENCE: {
      const d = directs.get(from)
      if (d) openInbound(d)
      return
    }
    case NACK: {
      // From the hop that could not pass the connect on: `[NACK, nonce, peer]`.
      const peer = m[2] as string
      const d = directs.get(peer)
      if (d && d.nonce === m[1]) closeDirect(d)
      noDirect.add(peer)
      return
    }
  }
})

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

/**
 * The environment that enables Node's compile cache in a new worker as it starts
 * (`NODE_COMPILE_CACHE`, read natively before any JavaScript runs): the worker then need not load
 * `node:module` to enable it (~1 ms of its boot). The directory is `module.enableCompileCache()`'s
 * default; checked once to be writable (else the worker enables the cache itself, or goes without
 * it). Empty when the user disabled the cache (`NODE_DISABLE_COMPILE_CACHE`).
 */
export const compileCacheEnv = (): Record<string, string> => cacheEnv ??= findCacheEnv()
let cacheEnv: Record<string, string> | undefined
const findCacheEnv = (): Record<string, string> => {
  if (process.env.NODE_DISABLE_COMPILE_CACHE) return {}
  if (process.env.NODE_COMPILE_CACHE) return { MULTIPROC_COMPILE_CACHE: "inherited" }
  const fs = process.getBuiltinModule("node:fs")
  const dir = process.getBuiltinModule("node:path").join(process.getBuiltinModule("node:os").tmpdir(), "node-compile-cache")
  try {
    fs.mkdirSync(dir, { recursive: true })
    fs.accessSync(dir, fs.constants.W_OK)
  } catch {
    return {}
  }
  return { NODE_COMPILE_CACHE: dir, MULTIPROC_COMPILE_CACHE: "set" }
}

/** How many threads of this OS process are compiling the runtime eagerly (see worker-entry.mjs):
 * one shared word, handed down to every thread child, so the last one to finish switches V8 back
 * to lazy compilation. */
let eagerWord: SharedArrayBuffer | undefined = isMainThread ? undefined : (workerData as { eager?: SharedArrayBuffer } | null)?.eager
export const eagerCounter = (): SharedArrayBuffer => eagerWord ??= new SharedArrayBuffer(4)

/** A thread's eager compilation is over (`mine[1]` says whether it still counts): called by the
 * thread itself, or by its parent if it exited first. The last one switches V8 back to lazy. */
export const eagerDone = (count: SharedArrayBuffer, mine: Int32Array): void => {
  if (Atomics.exchange(mine, 1, 0) === 1 && Atomics.sub(new Int32Array(count), 0, 1) === 1) process.getBuiltinModule("node:v8").setFlagsFromString("--lazy")
}

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
  drainDirects(address)
  for (const dest of noDirect) if (isAtOrBelow(dest, address)) noDirect.delete(dest)
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
