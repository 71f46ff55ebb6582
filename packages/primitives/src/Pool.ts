/**
 * Pool: a fixed set of workers (threads or processes) that run tasks, supervised.
 *
 * Work is dispatched per chunk: a `map` chunk, or a run of `applyAsync` tasks queued together,
 * travels as one call and runs inside the worker, and each worker keeps a few calls in flight so
 * it never idles waiting for the next round trip. Long calls (over 2 ms) go one per worker at a
 * time, unless they are items known to take under 20 ms each with at least two per worker still
 * queued (one more waits on each worker then, see `pickSlot`), and `map` without a `chunksize`
 * sends items known to take over 2 ms each one by one
 * (chunks only save messages, which cost little next to such items, and a chunk of them could
 * keep one worker busy at the end while the others idle). A worker that dies fails exactly the
 * tasks it held (`PoolError` reason `WorkerCrashed`, with its exit code or signal) and is
 * replaced; a worker that cannot boot is retried a bounded number of times with back-off;
 * interrupting a caller drops its queued work and stops its running work (Effect tasks are
 * interrupted inside the worker, a busy synchronous task by replacing its worker). Nothing waits
 * forever.
 *
 * Python equivalent: `multiprocessing.Pool` (`multiprocessing.pool.Pool`).
 *
 * @since 0.1.0
 */
import * as Child from "@multiproc/runtime/Child"
import * as Codec from "@multiproc/runtime/Codec"
import { CodecError, decode, encode, isPlainArray } from "@multiproc/runtime/internal/codec"
import * as kernel from "@multiproc/runtime/internal/kernel"
import * as Task from "@multiproc/runtime/Task"
import * as Cause from "effect/Cause"
import * as Channel from "effect/Channel"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import * as os from "node:os"
import * as PW from "./internal/pool-worker.ts"
import { adoptUnsafe, resolveBackend } from "./Process.ts"
import { backendProblem, describe, timeoutProblem, unknownOption } from "./internal/args.ts"

const poolOptions = [
  "processes", "backend", "initializer", "initargs", "maxTasksPerChild", "taskTimeout", "onInterrupt", "interruptGrace",
  "maxBootAttempts", "bootBackoff", "pipeline", "maxBatch", "worker"
]

/**
 * Why a pool could not do what was asked.
 *
 * - `InvalidOptions`: bad settings (`processes` < 1, `maxTasksPerChild` not a positive integer, …).
 * - `Closed` / `Terminated`: the pool no longer takes tasks (Python: `ValueError("Pool not running")`).
 * - `NotClosed`: `join` on a running pool (Python: `ValueError`).
 * - `WorkerCrashed`: the worker running the task died (exit code or signal attached).
 * - `BootFailed`: workers could not start (their module threw at import, or the initializer
 *   failed) after the bounded retries.
 * - `TaskLoadFailed`: the task's module could not be loaded in the worker.
 * - `Timeout`: `AsyncResult.get(timeout)` ran out (Python: `multiprocessing.TimeoutError`).
 * - `TaskTimeout`: the task ran longer than the per-task timeout.
 * - `NotReady`: `successful()` before the result is ready (Python: `ValueError`).
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * const orZero = <A>(e: Effect.Effect<A, Pool.PoolError>) =>
 *   e.pipe(Effect.catchTag("PoolError", (err) => Effect.succeed(err.reason === "WorkerCrashed" ? 0 : -1)))
 * ```
 * @category errors
 * @since 0.1.0
 */
export class PoolError extends Schema.TaggedError<PoolError>()("PoolError", {
  reason: Schema.Literals([
    "InvalidOptions",
    "Closed",
    "Terminated",
    "NotClosed",
    "WorkerCrashed",
    "BootFailed",
    "TaskLoadFailed",
    "Timeout",
    "TaskTimeout",
    "NotReady"
  ]),
  message: Schema.String,
  pid: Schema.optional(Schema.Number),
  exitCode: Schema.optional(Schema.NullOr(Schema.Number)),
  signal: Schema.optional(Schema.NullOr(Schema.String)),
  cause: Schema.optional(Schema.Defect())
}) {}

Codec.registerError(PoolError)

/** Where the workers run: `thread` (worker_threads, the default) or `process` (child_process). */
export type Backend = Child.Backend

/**
 * What happens to a worker whose running task is abandoned (its caller was interrupted or the
 * task timed out): `auto` (the default) interrupts the task and replaces the worker if it does
 * not become free within `interruptGrace`; `terminate` always replaces the worker; `none` leaves
 * the task to finish.
 */
export type InterruptPolicy = "auto" | "terminate" | "none"

type AnyTask = Task.Task<any, any, any>

/** Options of {@link make}. */
export interface Options<I extends AnyTask = AnyTask> {
  /** Number of workers; defaults to `cpuCount()` (Python's `processes`). */
  readonly processes?: number | undefined
  readonly backend?: Backend | undefined
  /** A task run once in every new worker before it takes tasks (Python's `initializer`). */
  readonly initializer?: I | undefined
  readonly initargs?: Task.Args<I> | undefined
  /** Replace a worker after it ran this many tasks (Python's `maxtasksperchild`; a map chunk is one task). */
  readonly maxTasksPerChild?: number | undefined
  /** Fail a task that runs longer than this, counted from when it starts (not from submission). */
  readonly taskTimeout?: Duration.Input | undefined
  /** See {@link InterruptPolicy}. Default `auto`. */
  readonly onInterrupt?: InterruptPolicy | undefined
  /** How long `auto` waits for an interrupted worker to become free. Default 250 ms. */
  readonly interruptGrace?: Duration.Input | undefined
  /** Consecutive failed worker boots before the pool gives up (`BootFailed`; no worker starts after). Default 3. */
  readonly maxBootAttempts?: number | undefined
  /** Back-off before the first boot retry; doubles on each further one. Default 100 ms. */
  readonly bootBackoff?: Duration.Input | undefined
  /** Calls kept in flight per worker (pipelining). Default 2; 1 when `taskTimeout` is set. */
  readonly pipeline?: number | undefined
  /** Most queued `apply` tasks sent together in one call. Default 256. */
  readonly maxBatch?: number | undefined
  /** Extra worker settings (resource limits, exec arguments, environment, and the low-latency
   * polling of `Child.SpawnOptions`: here `pollForReply` defaults to `"measure"` and
   * `awakeAfterReply` to 0). */
  readonly worker?: Pick<Child.SpawnOptions, "resourceLimits" | "execArgv" | "env" | "killAfter" | "awakeAfterReply" | "pollForReply"> | undefined
}

/** A summary of recent samples (milliseconds). */
export interface Distribution {
  readonly count: number
  readonly min: number
  readonly mean: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
}

/** What {@link stats} reports. */
export interface Stats {
  /** Tasks (items) settled, successfully or not. */
  readonly tasksDone: number
  readonly tasksFailed: number
  /** Tasks waiting for a worker. */
  readonly queued: number
  /** Tasks sent to a worker and not yet settled. */
  readonly running: number
  readonly workers: number
  /** Workers started, including replacements. */
  readonly workersStarted: number
  readonly workersCrashed: number
  /** Per dispatched unit (a task, a chunk or a batch): time from send to answer. */
  readonly runTime: Distribution
  /** Per dispatched unit: time from submission to send. */
  readonly waitTime: Distribution
}

// ---------------------------------------------------------------------------------------------
// Internals

type Failure = Exit.Exit<never, unknown>

interface Job {
  readonly task: AnyTask
  readonly id: string
  readonly star: 0 | 1
  readonly items: ReadonlyArray<unknown>
  /** How many tasks this job counts as for `maxTasksPerChild`. */
  readonly weight: number
  /** A single `apply` task, which may be sent in one call with its neighbours. */
  mergeable: boolean
  readonly submitted: number
  /** 0 queued, 1 running, 2 settled or cancelled. */
  state: 0 | 1 | 2
  call: Call | undefined
  next: Job | undefined
  readonly onDone: (values: Array<unknown>, failures: Map<number, Failure> | undefined) => void
  readonly onFail: (failure: Failure) => void
}

interface Call {
  /** Order of sending; a worker runs its calls in this order. */
  readonly seq: number
  readonly slot: Slot
  readonly jobs: ReadonlyArray<Job>
  readonly sent: number
  /** Cancels the call in the worker (until it is answered). */
  cancel: (() => void) | undefined
  timer: ReturnType<typeof setTimeout> | undefined
  abandoned: boolean
  /** One plain item, sent flat: a primitive result comes back bare (see `PW.runChunk`). */
  readonly single: boolean
}

type SlotState = "booting" | "ready" | "blocked" | "retiring"

interface Slot {
  readonly n: number
  readonly scope: Scope.Closeable
  child: Child.Child | undefined
  state: SlotState
  readonly calls: Set<Call>
  /** Tasks dispatched to this worker (for `maxTasksPerChild`). */
  dispatched: number
  /** Why the pool is stopping this worker: its calls' crash is then not a crash. */
  stopping: "replace" | "terminate" | "retire" | undefined
  /** When the worker died: the call it was running (its calls run one at a time, in order). */
  crashVictim?: Call | undefined
  /** The boot, until it ends (interrupted if the slot is stopped before its worker exists). */
  boot?: Fiber.Fiber<Child.Child, unknown> | undefined
}

/** Calls longer than this (ms, on average) are sent one per worker at a time. */
const LONG_CALL_MS = 2
/** Items known to take less than this each may still be queued on a busy worker (see `pickSlot`). */
const PREFETCH_MS = 20

/** A FIFO of jobs with O(1) push, push-front and shift (no `Array.shift`). */
class JobQueue {
  head: Job | undefined = undefined
  tail: Job | undefined = undefined
  /** Queued (not cancelled) items. */
  items = 0
  push(job: Job): void {
    job.next = undefined
    if (this.tail) this.tail.next = job
    else this.head = job
    this.tail = job
    this.items += job.items.length
  }
  pushFront(job: Job): void {
    job.next = this.head
    this.head = job
    if (!this.tail) this.tail = job
    this.items += job.items.length
  }
  /** The first live job, dropping cancelled ones. */
  peek(): Job | undefined {
    while (this.head && this.head.state !== 0) this.drop()
    return this.head
  }
  shift(): Job | undefined {
    const job = this.peek()
    if (job) {
      this.drop()
      this.items -= job.items.length
    }
    return job
  }
  private drop(): void {
    const h = this.head!
    this.head = h.next
    h.next = undefined
    if (!this.head) this.tail = undefined
  }
}

class Samples {
  private readonly buf = new Float64Array(2048)
  private n = 0
  add(ms: number): void {
    this.buf[this.n++ % this.buf.length] = ms
  }
  summary(): Distribution {
    const k = Math.min(this.n, this.buf.length)
    if (k === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 }
    const s = Array.from(this.buf.subarray(0, k)).sort((a, b) => a - b)
    const at = (p: number) => s[Math.min(k - 1, Math.floor(p * k))]!
    return { count: this.n, min: s[0]!, mean: s.reduce((a, b) => a + b, 0) / k, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s[k - 1]! }
  }
}

const workerModule = new URL("./internal/pool-worker.ts", import.meta.url).href

const chunkTasks = new WeakMap<AnyTask, AnyTask>()
const scanned = new Set<string>()
/** The chunk runner, carrying the user task's error classes so they arrive typed. */
const chunkTaskFor = (task: AnyTask): AnyTask => {
  let t = chunkTasks.get(task)
  if (!t) {
    t = Object.create(PW.runChunk, { errors: { value: task.errors } }) as AnyTask
    chunkTasks.set(task, t)
    for (const C of task.errors) Codec.registerError(C)
    if (task.local && !scanned.has(task.module)) {
      scanned.add(task.module)
      import(task.module).then((ns: Record<string, unknown>) => {
        for (const v of Object.values(ns)) if (typeof v === "function" && v.prototype instanceof Error) Codec.registerError(v)
      }, () => {})
    }
  }
  return t
}

const millis = (d: Duration.Input | undefined, fallback: number): number =>
  d === undefined ? fallback : Duration.toMillis(Duration.fromInputUnsafe(d))

const isChildError = (u: unknown): u is Child.ChildError => (u as any)?._tag === "ChildError"
const isSerializationError = (u: unknown): boolean => (u as any)?._tag === "SerializationError"

const firstFailure = (cause: Cause.Cause<unknown>): { readonly kind: "fail" | "die" | "interrupt"; readonly value: unknown } => {
  for (const r of cause.reasons) if (Cause.isFailReason(r)) return { kind: "fail", value: r.error }
  for (const r of cause.reasons) if (Cause.isDieReason(r)) return { kind: "die", value: r.defect }
  return { kind: "interrupt", value: undefined }
}

let poolCounter = 0
let callSeq = 0

class PoolImpl {
  readonly name: string
  readonly processes: number
  readonly backend: Backend
  readonly scope: Scope.Closeable
  readonly initializer: AnyTask | undefined
  readonly initargs: ReadonlyArray<unknown>
  readonly maxTasksPerChild: number | undefined
  readonly taskTimeout: number | undefined
  readonly onInterrupt: InterruptPolicy
  readonly interruptGrace: number
  readonly maxBootAttempts: number
  readonly bootBackoff: number
  readonly depth: number
  readonly maxBatch: number
  readonly workerOptions: Options["worker"]
  state: "running" | "closed" | "terminated" = "running"
  readonly slots = new Set<Slot>()
  readonly queue = new JobQueue()
  broken: PoolError | undefined
  bootFailures = 0
  pendingBoots = 0
  slotCounter = 0
  dispatchScheduled = false
  dispatching = false
  running = 0
  tasksDone = 0
  tasksFailed = 0
  workersStarted = 0
  workersCrashed = 0
  readonly runTime = new Samples()
  /** Recent call duration (ms, moving average): long calls are not pipelined (see pickSlot). */
  private callMs = 0
  /** Per task: calls seen and a low estimate of the time per item (ms), for `map`'s chunk size. */
  private readonly itemMs = new Map<string, { n: number; ms: number }>()
  readonly waitTime = new Samples()
  private joinWaiters: Array<() => void> = []
  /** imaps open when the pool closes read the rest of their input then, as Python's task handler
   * has taken it already (see {@link watchClose}); the workers stay until it is submitted. */
  private readonly closeWatchers = new Set<() => void>()
  private feeding = 0
  /** Whether the workers keep the event loop alive (see {@link updateRef}). */
  private referenced = true

  constructor(options: Options, processes: number) {
    this.name = `Pool-${++poolCounter}`
    this.processes = processes
    this.backend = options.backend ?? "thread"
    this.scope = Scope.makeUnsafe("parallel")
    this.initializer = options.initializer
    this.initargs = options.initargs ?? []
    this.maxTasksPerChild = options.maxTasksPerChild ?? undefined
    this.taskTimeout = options.taskTimeout === undefined ? undefined : millis(options.taskTimeout, 0)
    this.onInterrupt = options.onInterrupt ?? "auto"
    this.interruptGrace = millis(options.interruptGrace, 250)
    this.maxBootAttempts = options.maxBootAttempts ?? 3
    this.bootBackoff = millis(options.bootBackoff, 100)
    this.depth = this.taskTimeout !== undefined ? 1 : Math.max(1, options.pipeline ?? 2)
    this.maxBatch = this.taskTimeout !== undefined ? 1 : Math.max(1, options.maxBatch ?? 256)
    this.workerOptions = options.worker
  }

  // ------------------------------------------------------------------------------ workers

  startWorkers(): void {
    for (let i = 0; i < this.processes; i++) this.spawnSlot(0)
  }

  private spawnSlot(delay: number): void {
    const slot: Slot = {
      n: ++this.slotCounter,
      scope: Scope.forkUnsafe(this.scope, "sequential"),
      child: undefined,
      state: "booting",
      calls: new Set(),
      dispatched: 0,
      stopping: undefined
    }
    this.slots.add(slot)
    this.pendingBoots++
    const preload = [workerModule]
    if (this.initializer && this.initializer.module !== workerModule) preload.push(this.initializer.module)
    const self = this
    const boot = Effect.gen(function*() {
      if (delay > 0) yield* Effect.sleep(Duration.millis(delay))
      // A retry still waiting out its back-off when the pool gave up, was terminated or needs no
      // more workers starts none (`onBootFailed` then only cleans up).
      if (self.broken !== undefined || slot.stopping !== undefined || !self.needsWorkers()) return yield* Effect.interrupt
      // Named as Python names its workers (`ForkPoolWorker-3`: the start method, then the
      // process's identity, which pool workers take from the same counter as other children).
      const identity = kernel.nextIdentity()
      const child = yield* Scope.provide(slot.scope)(Child.spawn({
        backend: self.backend,
        name: `${self.backend === "thread" ? "Thread" : "Process"}PoolWorker-${identity.join(":")}`,
        identity,
        daemon: true,
        mode: "service",
        // Calls are sent ahead (pipelining) but run one at a time, as in Python's workers: two
        // tasks of one worker never interleave (a lock owned per thread stays exclusive).
        concurrency: 1,
        preload,
        // Whether a call polls for its reply (the caller, and the worker for 50 µs after it) is
        // measured per worker (`ReplyPolling`): on an idle VM both polling saves two wake-ups of
        // 30-40 µs (one task in flight: 28-29 µs p50 with the caller alone polling, piscina
        // 14-17); a pool busy with work never polls, as its workers fill the cores (a worker that
        // polled after each reply took CPU from its siblings and the caller, and p90 grew to
        // 140-147 µs on the host of earlier sessions) and its calls are rarely alone to be timed.
        awakeAfterReply: 0,
        pollForReply: "measure",
        ...self.workerOptions
      }))
      slot.child = child
      // Python's `active_children()` lists a pool's workers from their start on.
      adoptUnsafe(child, true)
      self.workersStarted++
      yield* child.ready
      if (self.initializer) yield* child.call(self.initializer, self.initargs as any)
      return child
    })
    const fiber = Effect.runFork(boot)
    slot.boot = fiber
    fiber.addObserver((exit) => {
      slot.boot = undefined
      this.pendingBoots--
      if (Exit.isSuccess(exit)) this.onBooted(slot, exit.value)
      else this.onBootFailed(slot, exit.cause)
    })
  }

  private onBooted(slot: Slot, child: Child.Child): void {
    if (!this.slots.has(slot)) return
    this.bootFailures = 0
    Effect.runFork(child.exited).addObserver((exit) => {
      if (Exit.isSuccess(exit)) this.onSlotExit(slot, exit.value)
    })
    if (this.state === "terminated") return
    if (!child.isAlive()) return
    slot.state = "ready"
    this.updateRef(true)
    this.scheduleDispatch()
    this.retireIfDone(slot)
  }

  private onBootFailed(slot: Slot, cause: Cause.Cause<unknown>): void {
    this.slots.delete(slot)
    Effect.runFork(Scope.close(slot.scope, Exit.void))
    if (this.state === "terminated" || this.broken !== undefined || !this.needsWorkers()) {
      this.checkJoined()
      return
    }
    this.bootFailures++
    const f = firstFailure(cause)
    if (this.bootFailures >= this.maxBootAttempts) {
      const error = new PoolError({
        reason: "BootFailed",
        message: `pool workers failed to start ${this.bootFailures} times in a row: ${(f.value as any)?.message ?? String(f.value)}`,
        cause: f.value
      })
      this.broken = error
      this.failQueued(Exit.fail(error))
      if (this.slots.size === 0) this.failRunning(Exit.fail(error))
      this.checkJoined()
      return
    }
    this.spawnSlot(this.bootBackoff * 2 ** (this.bootFailures - 1))
  }

  /** Whether the pool still wants workers (running, or closed with work left). */
  private needsWorkers(): boolean {
    if (this.state === "running") return true
    if (this.state === "terminated") return false
    return this.queue.peek() !== undefined || this.running > 0 || this.feeding > 0
  }

  private onSlotExit(slot: Slot, code: number): void {
    const wasStopping = slot.stopping
    this.slots.delete(slot)
    Effect.runFork(Scope.close(slot.scope, Exit.void))
    if (wasStopping === undefined && code !== 0) this.workersCrashed++
    if (this.state !== "terminated" && this.broken === undefined && (this.state === "running" || this.needsWorkers())) {
      if (this.slots.size < this.processes) this.spawnSlot(0)
    }
    this.checkJoined()
  }

  private stopSlot(slot: Slot, why: "replace" | "terminate" | "retire"): void {
    if (slot.stopping === "terminate" || (slot.stopping === why)) return
    slot.stopping = why
    slot.state = "retiring"
    // A boot still waiting out its back-off, or spawning, ends now (a terminated pool's join
    // need not wait for it).
    if (slot.child === undefined && slot.boot !== undefined) Effect.runFork(Fiber.interrupt(slot.boot))
    if (why === "retire" && slot.child) {
      Effect.runFork(slot.child.close)
      return
    }
    Effect.runFork(Scope.close(slot.scope, Exit.void))
  }

  /** After close, or with `maxTasksPerChild` reached: lets an idle worker exit. */
  private retireIfDone(slot: Slot): void {
    if (slot.state !== "ready" || slot.calls.size > 0) return
    const quotaUsed = this.maxTasksPerChild !== undefined && slot.dispatched >= this.maxTasksPerChild
    const drained = this.state === "closed" && this.queue.peek() === undefined && this.feeding === 0
    if (quotaUsed || drained) this.stopSlot(slot, "retire")
  }

  // ------------------------------------------------------------------------------ dispatch

  scheduleDispatch(): void {
    if (this.dispatchScheduled) return
    this.dispatchScheduled = true
    queueMicrotask(this.dispatchTask)
  }

  private readonly dispatchTask = (): void => {
    this.dispatchScheduled = false
    this.dispatch()
  }

  /**
   * `map`'s chunk size when none is given: Python's `ceil(n / (4 × processes))`, which saves a
   * message per item for short items; one item per chunk once the task's items are known to take
   * long (≥ {@link LONG_CALL_MS} each, seen in more calls than there are workers): a message then
   * costs little next to an item, and the last chunks cannot leave one worker busy with several
   * items while the others are idle. Not with `maxTasksPerChild`, where a chunk counts as one
   * task (as in Python).
   */
  chunksizeFor(task: AnyTask, star: 0 | 1, n: number): number {
    const t = this.itemMs.get(jobIdOf(task, star))
    if (t !== undefined && t.n > this.processes && t.ms >= LONG_CALL_MS && this.maxTasksPerChild === undefined) return 1
    return defaultChunksize(this, n)
  }

  /** Workers ready for more calls, counted by the last {@link pickSlot}. */
  private ready = 0

  private pickSlot(head: Job): Slot | undefined {
    let best: Slot | undefined
    let ready = 0
    // A second call queued behind a running one saves a round trip (tens of µs): worth it for
    // short calls, but a long one queued there cannot move to a worker that becomes idle, and the
    // last calls of a map would then wait behind each other on one worker. Except while items of
    // a few ms each (a CPU-bound map's, typically) are queued for every worker twice over: then
    // no worker can become idle before the queue runs short, and the one queued on each saves
    // it the round trip to this thread between items, which on a machine whose cores are all
    // busy with workers waits for this thread to be scheduled (up to a tenth of such a map's
    // time, measured on 2 cores). It costs at most one such item at the end.
    const depth = this.callMs > LONG_CALL_MS && !this.prefetchable(head) ? 1 : this.depth
    for (const s of this.slots) {
      if (s.state !== "ready") continue
      if (this.maxTasksPerChild !== undefined && s.dispatched >= this.maxTasksPerChild) continue
      ready++
      if (s.calls.size >= depth) continue
      if (!best || s.calls.size < best.calls.size) best = s
    }
    this.ready = ready
    return best
  }

  /** Whether a long call may wait queued on a worker (see `pickSlot`). */
  private prefetchable(head: Job): boolean {
    if (this.queue.items < this.processes * 2) return false
    const t = this.itemMs.get(head.id)
    return t !== undefined && t.n > this.processes && t.ms < PREFETCH_MS
  }

  dispatch(): void {
    if (this.dispatching) return
    this.dispatching = true
    try {
      for (;;) {
        const head = this.queue.peek()
        if (!head) break
        const slot = this.pickSlot(head)
        if (!slot) break
        const ready = this.ready
        const first = this.queue.shift()!
        const jobs = [first]
        // With a per-task timeout, one task per call: the timer of a call is the task's own.
        if (first.mergeable && this.taskTimeout === undefined) {
          const quota = this.maxTasksPerChild === undefined ? Infinity : this.maxTasksPerChild - slot.dispatched
          const limit = Math.min(this.maxBatch, quota, Math.ceil((this.queue.items + 1) / (ready * this.depth)))
          while (jobs.length < limit) {
            const j = this.queue.peek()
            if (!j || !j.mergeable || j.id !== first.id) break
            jobs.push(this.queue.shift()!)
          }
        }
        this.send(slot, jobs)
      }
    } finally {
      this.dispatching = false
    }
    if (this.state === "closed") for (const s of this.slots) this.retireIfDone(s)
  }

  private send(slot: Slot, jobs: Array<Job>): void {
    const now = performance.now()
    const first = jobs[0]!
    let items: ReadonlyArray<unknown>
    if (jobs.length === 1) items = first.items
    else {
      const all: Array<unknown> = []
      for (let i = 0; i < jobs.length; i++) for (const it of jobs[i]!.items) all.push(it)
      items = all
    }
    const plain = isPlainArray(items, first.star)
    const single = plain && items.length === 1
    const call: Call = { seq: ++callSeq, slot, jobs, sent: now, cancel: undefined, timer: undefined, abandoned: false, single }
    slot.calls.add(call)
    // Indexed loops on the per-call path: V8 interprets it for a pool's first thousands of calls,
    // and `for of` allocates an iterator there.
    for (let i = 0; i < jobs.length; i++) {
      const j = jobs[i]!
      j.state = 1
      j.call = call
      slot.dispatched += j.weight
      this.running += j.items.length
      this.waitTime.add(now - j.submitted)
    }
    // The items are opened in the worker after it imported the task's module (see `PW.Items`).
    const child = slot.child!
    const no = taskNumberOf(first.task)
    let named = namedTasks.get(child)
    if (named === undefined) namedTasks.set(child, named = new Set())
    if (!named.has(no)) {
      named.add(no)
      kernel.send(child.address, PW.TASKS_PORT, [no, first.task.module, first.task.key])
    }
    let answered = false
    // A few plain items (numbers, booleans, short strings, null, undefined) need no codec in the
    // worker: they travel as they are, not wrapped in `PW.Items` to be opened after the task's
    // module is imported.
    // One plain item (an `apply`, or one task in flight) travels flat: `[no, star | SINGLE, ...its
    // arguments]` instead of nested in a list of argument lists, two arrays less to clone each way.
    let args: Array<unknown>
    if (single) {
      const item = items[0]
      if (first.star === 1) {
        const a = item as ReadonlyArray<unknown>
        args = [no, PW.SINGLE | 1]
        for (let i = 0; i < a.length; i++) args.push(a[i])
      } else args = [no, PW.SINGLE, item]
    } else args = [no, first.star, plain ? items : new PW.Items(items)]
    const cancel = child.callUnsafe(chunkTaskFor(first.task), args as any, (exit) => {
      answered = true
      call.cancel = undefined
      this.onCallDone(call, exit)
    })
    if (!answered) call.cancel = cancel
    if (this.taskTimeout !== undefined && !call.abandoned && slot.calls.has(call)) {
      call.timer = setTimeout(() => this.onCallTimeout(call), this.taskTimeout)
    }
  }

  private settleJob(job: Job, values: Array<unknown> | undefined, failures: Map<number, Failure> | undefined, failure: Failure | undefined): void {
    if (job.state === 2) return
    job.state = 2
    job.call = undefined
    const n = job.items.length
    this.running -= n
    this.tasksDone += n
    if (failure) {
      this.tasksFailed += n
      job.onFail(failure)
    } else {
      if (failures) this.tasksFailed += failures.size
      job.onDone(values!, failures)
    }
    this.updateRef()
  }

  /**
   * Pool workers are daemons, as in Python: an idle pool does not keep the program alive (a pool
   * that is never closed does not hang the exit), while queued or running work, or a `join`
   * waiting, does.
   */
  private isBusy(): boolean {
    return this.queue.items > 0 || this.running > 0 || this.joinWaiters.length > 0
  }

  private updateRef(force = false): void {
    const busy = this.isBusy()
    if (busy === this.referenced && !force) return
    if (!busy && !force) {
      // Unref when the pool is found idle a millisecond later: a caller that awaits one task
      // and submits the next keeps the workers referenced, instead of paying an unref and a ref
      // of every worker, or a timer, per task (one timer per millisecond of such traffic).
      if (!this.unrefScheduled) {
        this.unrefScheduled = true
        setTimeout(this.unrefIfIdle, 1).unref()
      }
      return
    }
    this.referenced = busy
    for (const slot of this.slots) {
      if (busy) slot.child?.ref()
      else slot.child?.unref()
    }
  }

  private unrefScheduled = false
  private readonly unrefIfIdle = (): void => {
    this.unrefScheduled = false
    this.updateRef(this.referenced && !this.isBusy())
  }

  private requeueFront(jobs: ReadonlyArray<Job>): void {
    for (let i = jobs.length - 1; i >= 0; i--) {
      const j = jobs[i]!
      if (j.state !== 1) continue
      j.state = 0
      j.call = undefined
      this.running -= j.items.length
      this.queue.pushFront(j)
    }
  }

  private onCallDone(call: Call, exit: Exit.Exit<unknown, unknown>): void {
    const slot = call.slot
    if (slot.crashVictim === undefined && Exit.isFailure(exit)) {
      const f = firstFailure(exit.cause)
      if (f.kind === "fail" && isChildError(f.value)) {
        // The oldest call still on the worker is the one it was running; the others waited.
        let victim = call
        for (const c of slot.calls) if (c.seq < victim.seq) victim = c
        slot.crashVictim = victim
      }
    }
    slot.calls.delete(call)
    if (call.timer) clearTimeout(call.timer)
    const took = performance.now() - call.sent
    this.runTime.add(took)
    this.callMs = this.callMs === 0 ? took : this.callMs * 0.75 + took * 0.25
    if (Exit.isSuccess(exit)) {
      let items = 0
      for (let i = 0; i < call.jobs.length; i++) items += call.jobs[i]!.items.length
      const id = call.jobs[0]!.id
      const per = took / Math.max(1, items)
      // The lowest recent value (allowed to double per call): a worker's first call of a task
      // also imports its module, and must not make a short task look long.
      const t = this.itemMs.get(id)
      if (t === undefined) this.itemMs.set(id, { n: 1, ms: per })
      else {
        t.n++
        t.ms = Math.min(per, t.ms * 2)
      }
    }
    if (!call.abandoned) {
      if (Exit.isSuccess(exit)) this.distribute(call, exit.value)
      else this.callFailed(call, exit.cause)
    }
    this.retireIfDone(slot)
    // Nothing queued: no dispatch to run (a caller with one task in flight saves a microtask).
    if (this.queue.items > 0 || this.state === "closed") this.scheduleDispatch()
    this.checkJoined()
  }

  private distribute(call: Call, out: unknown): void {
    let values: Array<unknown>
    let flat: Array<unknown> | undefined
    if (Array.isArray(out)) values = out
    else if (call.single && (out === null || typeof out !== "object")) values = [out]
    else {
      const packed = out as PW.Packed
      const [v, f] = decode(packed.b, { shared: packed.s ?? undefined }) as [Array<unknown>, Array<unknown>]
      values = v
      flat = f.length > 0 ? f : undefined
    }
    const errors = call.jobs[0]!.task.errors
    let offset = 0
    for (let j = 0; j < call.jobs.length; j++) {
      const job = call.jobs[j]!
      const n = job.items.length
      let failures: Map<number, Failure> | undefined
      if (flat) {
        for (let k = 0; k < flat.length; k += 3) {
          const i = flat[k] as number
          if (i >= offset && i < offset + n) {
            ;(failures ??= new Map()).set(i - offset, Child.exitOf(flat[k + 1] as number, flat[k + 2], errors) as Failure)
          }
        }
      }
      const slice = call.jobs.length === 1 ? values : values.slice(offset, offset + n)
      offset += n
      this.settleJob(job, slice, failures, undefined)
    }
  }

  private callFailed(call: Call, cause: Cause.Cause<unknown>): void {
    const slot = call.slot
    const f = firstFailure(cause)
    if (f.kind === "fail" && isChildError(f.value)) {
      if (slot.stopping === "replace") return this.requeueFront(call.jobs)
      if (this.state === "terminated" || slot.stopping === "terminate") {
        return this.failJobs(call.jobs, Exit.fail(this.terminatedError()))
      }
      // A call still waiting its turn on the worker never started: send it again.
      if (slot.crashVictim !== undefined && call !== slot.crashVictim) return this.requeueFront(call.jobs)
      // Several `apply` tasks went in one call: which one killed the worker is unknown, and the
      // results of those that finished died with it. Send each again in a call of its own, so
      // only the task that kills a worker fails (the others may have run once already).
      if (call.jobs.length > 1) {
        for (const j of call.jobs) j.mergeable = false
        return this.requeueFront(call.jobs)
      }
      const ce = f.value
      const error = new PoolError({
        reason: "WorkerCrashed",
        message: `worker ${slot.child?.name ?? slot.n} (pid ${ce.pid}) died while running the task (${ce.signal ? `signal ${ce.signal}` : `exitcode ${ce.exitCode}`})`,
        pid: ce.pid,
        exitCode: ce.exitCode,
        signal: ce.signal,
        cause: ce
      })
      return this.failJobs(call.jobs, Exit.fail(error))
    }
    if (f.kind === "fail" && isSerializationError(f.value)) {
      // An argument cannot cross: fail the jobs it belongs to, send the others again.
      if (call.jobs.length === 1) return this.failJobs(call.jobs, Exit.fail(f.value))
      const retry: Array<Job> = []
      for (const j of call.jobs) {
        try {
          Codec.encodeUnsafe(j.items)
          retry.push(j)
        } catch (e) {
          this.failJobs([j], Exit.fail(e))
        }
      }
      if (retry.length === call.jobs.length) return this.failJobs(call.jobs, Exit.fail(f.value))
      return this.requeueFront(retry)
    }
    if (f.kind === "die" && f.value instanceof Task.TaskResolutionError) {
      const e = f.value
      const error = new PoolError({ reason: "TaskLoadFailed", message: e.message, cause: e })
      return this.failJobs(call.jobs, Exit.fail(error))
    }
    if (f.kind === "interrupt") return this.requeueFront(call.jobs)
    this.failJobs(call.jobs, Exit.failCause(cause) as Failure)
  }

  private failJobs(jobs: ReadonlyArray<Job>, failure: Failure): void {
    for (const j of jobs) this.settleJob(j, undefined, undefined, failure)
  }

  private onCallTimeout(call: Call): void {
    if (call.abandoned || !call.slot.calls.has(call)) return
    const error = new PoolError({
      reason: "TaskTimeout",
      message: `task ran longer than ${this.taskTimeout} ms`,
      ...(call.slot.child ? { pid: call.slot.child.pid } : {})
    })
    this.failJobs(call.jobs, Exit.fail(error))
    this.abandon(call)
  }

  /** Stops a call whose jobs are all settled or cancelled, per the interrupt policy. */
  private abandon(call: Call): void {
    if (call.abandoned) return
    call.abandoned = true
    const slot = call.slot
    if (call.timer) clearTimeout(call.timer)
    const cancel = call.cancel
    if (cancel !== undefined) {
      call.cancel = undefined
      cancel()
      this.onCallDone(call, Exit.interrupt())
    }
    if (slot.stopping !== undefined || !slot.child) return
    switch (this.onInterrupt) {
      case "none":
        return
      case "terminate":
        return this.stopSlot(slot, "replace")
      case "auto": {
        slot.state = "blocked"
        const child = slot.child
        const probe = Effect.runFork(Effect.timeoutOption(child.call(PW.ping, []), Duration.millis(this.interruptGrace)))
        probe.addObserver((exit) => {
          if (slot.stopping !== undefined) return
          if (Exit.isSuccess(exit) && exit.value._tag === "Some") {
            if (slot.state === "blocked") slot.state = "ready"
            this.retireIfDone(slot)
            this.scheduleDispatch()
          } else {
            this.stopSlot(slot, "replace")
          }
        })
      }
    }
  }

  /** The caller no longer wants this job: drop it if queued, stop it if running. */
  cancel(job: Job): void {
    if (job.state === 2) return
    const call = job.call
    const wasQueued = job.state === 0
    job.state = 2
    job.call = undefined
    if (wasQueued) {
      this.queue.items -= job.items.length
      return
    }
    this.running -= job.items.length
    if (call && call.jobs.every((j) => j.state === 2)) this.abandon(call)
  }

  // ------------------------------------------------------------------------------ submission

  /** `afterClose`: an imap's chunk, which close() does not refuse (see {@link watchClose}). */
  submit(job: Job, afterClose = false): void {
    const refusal = afterClose && this.state === "closed" ? this.broken : this.refusal()
    if (refusal) return job.onFail(Exit.fail(refusal))
    this.queue.push(job)
    this.updateRef()
    this.scheduleDispatch()
  }

  refusal(): PoolError | undefined {
    if (this.state === "closed") return new PoolError({ reason: "Closed", message: "Pool not running (closed)" })
    if (this.state === "terminated") return this.terminatedError()
    return this.broken
  }

  terminatedError(): PoolError {
    return new PoolError({ reason: "Terminated", message: "Pool not running (terminated)" })
  }

  private failQueued(failure: Failure): void {
    for (let j = this.queue.shift(); j; j = this.queue.shift()) {
      j.state = 1
      this.running += j.items.length
      this.settleJob(j, undefined, undefined, failure)
    }
  }

  private failRunning(failure: Failure): void {
    for (const s of this.slots) {
      for (const c of s.calls) {
        this.failJobs(c.jobs, failure)
        c.abandoned = true
      }
    }
  }

  // ------------------------------------------------------------------------------ lifecycle

  close(): void {
    if (this.state !== "running") return
    this.state = "closed"
    for (const f of this.closeWatchers) f()
    this.closeWatchers.clear()
    for (const s of this.slots) this.retireIfDone(s)
    this.checkJoined()
  }

  /** Calls `f` when the pool closes; returns the function that stops watching. */
  watchClose(f: () => void): () => void {
    this.closeWatchers.add(f)
    return () => this.closeWatchers.delete(f)
  }

  /** An imap reads the rest of its input after close: until {@link feedDone}, workers stay. */
  feedStarted(): void {
    this.feeding++
  }

  feedDone(): void {
    this.feeding--
    if (this.state !== "closed" || this.feeding > 0) return
    for (const s of this.slots) this.retireIfDone(s)
    this.checkJoined()
  }

  terminate(): void {
    if (this.state === "terminated") return
    this.state = "terminated"
    const error = Exit.fail(this.terminatedError())
    this.failQueued(error)
    this.failRunning(error)
    for (const s of this.slots) this.stopSlot(s, "terminate")
    this.checkJoined()
  }

  isJoined(): boolean {
    return this.state !== "running" && this.slots.size === 0 && this.pendingBoots === 0 && this.running === 0 &&
      this.queue.peek() === undefined && this.feeding === 0
  }

  private checkJoined(): void {
    if (this.state === "closed" && this.broken && this.slots.size === 0) this.failRunning(Exit.fail(this.broken))
    if (!this.isJoined()) return
    const ws = this.joinWaiters
    this.joinWaiters = []
    for (const w of ws) w()
    this.updateRef()
  }

  whenJoined(f: () => void): () => void {
    if (this.isJoined()) {
      f()
      return () => {}
    }
    this.joinWaiters.push(f)
    this.updateRef()
    return () => {
      this.joinWaiters = this.joinWaiters.filter((x) => x !== f)
      this.updateRef()
    }
  }

  stats(): Stats {
    let workers = 0
    for (const s of this.slots) if (s.state !== "retiring") workers++
    return {
      tasksDone: this.tasksDone,
      tasksFailed: this.tasksFailed,
      queued: this.queue.items,
      running: this.running,
      workers,
      workersStarted: this.workersStarted,
      workersCrashed: this.workersCrashed,
      runTime: this.runTime.summary(),
      waitTime: this.waitTime.summary()
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Public API

const PoolTypeId: unique symbol = Symbol.for("@multiproc/primitives/Pool") as any

/**
 * A pool of workers.
 *
 * Python equivalent: a `multiprocessing.Pool` instance.
 *
 * @category models
 * @since 0.1.0
 */
export interface Pool {
  readonly [PoolTypeId]: typeof PoolTypeId
  readonly name: string
  /** The number of workers (Python's `_processes`). */
  readonly processes: number
  readonly backend: Backend
  /** `running`, `closed` or `terminated`. */
  readonly state: "running" | "closed" | "terminated"
  /** The OS pids of the live workers that have booted (the hosting process's pid on the thread
   * backend). A worker still starting is not here yet, but `Process.activeChildren()` lists it
   * with its pid from its spawn on, as Python's `Pool(n)` knows its workers' pids at once. */
  readonly pids: () => ReadonlyArray<number>
  /** Worker thread ids of the live workers that have booted (thread backend; 0 on the process
   * backend). */
  readonly threadIds: () => ReadonlyArray<number>
  /** Python's repr, `<Pool state=RUN pool_size=4>` (`CLOSE`, `TERMINATE`). */
  toString(): string
}

const inspectCustom = Symbol.for("nodejs.util.inspect.custom")
const pythonState = { running: "RUN", closed: "CLOSE", terminated: "TERMINATE" } as const
/** Python's repr: `<Pool state=RUN pool_size=4>`. */
const repr = (impl: PoolImpl): string => `<Pool state=${pythonState[impl.state]} pool_size=${impl.processes}>`

const impls = new WeakMap<Pool, PoolImpl>()
const implOf = (pool: Pool): PoolImpl => impls.get(pool)!

const wrap = (impl: PoolImpl): Pool => {
  const pool: Pool = {
    [PoolTypeId]: PoolTypeId,
    name: impl.name,
    processes: impl.processes,
    backend: impl.backend,
    get state() {
      return impl.state
    },
    pids: () => [...impl.slots].flatMap((s) => s.child && s.state !== "booting" && s.child.isAlive() ? [s.child.pid] : []),
    threadIds: () => [...impl.slots].flatMap((s) => s.child && s.state !== "booting" && s.child.isAlive() ? [s.child.threadId] : []),
    toString: () => repr(impl)
  }
  Object.defineProperty(pool, inspectCustom, { value: () => repr(impl) })
  impls.set(pool, impl)
  return pool
}

const invalid = (message: string) => new PoolError({ reason: "InvalidOptions", message })

const validate = (options: Options<any>): Effect.Effect<number, PoolError> =>
  Effect.suspend(() => {
    const unknown = unknownOption(options, poolOptions) ?? badTimeout(options.taskTimeout)?.message ?? backendProblem(options.backend)
    if (unknown !== undefined) return Effect.fail(invalid(unknown))
    const processes = options.processes ?? cpuCount()
    if (!Number.isInteger(processes) || processes < 1) {
      return Effect.fail(invalid(`Number of processes must be at least 1 (got ${describe(options.processes)})`))
    }
    // null is Python's maxtasksperchild=None: no limit (it was refused).
    const m = options.maxTasksPerChild
    if (m != null && (!Number.isInteger(m) || m < 1)) {
      return Effect.fail(invalid(`maxTasksPerChild must be a positive integer or undefined (got ${describe(m)})`))
    }
    if (options.initializer !== undefined && !Task.isTask(options.initializer)) {
      return Effect.fail(invalid("initializer must be a Task (define it with Task.make at a module's top level)"))
    }
    // Spread into the initializer in each worker: anything but an array failed every boot.
    if (options.initargs != null && !Array.isArray(options.initargs)) {
      return Effect.fail(invalid(`initargs must be an array, got ${describe(options.initargs)}`))
    }
    for (const [k, v] of [["maxBootAttempts", options.maxBootAttempts], ["pipeline", options.pipeline], ["maxBatch", options.maxBatch]] as const) {
      if (v !== undefined && (!Number.isInteger(v) || v < 1)) return Effect.fail(invalid(`${k} must be a positive integer (got ${v})`))
    }
    if (options.onInterrupt !== undefined && !["auto", "terminate", "none"].includes(options.onInterrupt)) {
      return Effect.fail(invalid(`onInterrupt must be "auto", "terminate" or "none" (got ${options.onInterrupt})`))
    }
    return Effect.succeed(processes)
  })

/**
 * Creates a pool owned by the current Scope. Closing the scope closes the pool and joins it
 * (queued work finishes); closing it on failure or interruption terminates it.
 *
 * Python equivalent: `Pool(processes, initializer, initargs, maxtasksperchild)` (`Pool.make(4)` is
 * `Pool(4)`; whose `with`
 * block terminates on exit; this one drains on success).
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * import * as Task from "@multiproc/runtime/Task"
 * import { Effect } from "effect"
 * export const square = Task.make(import.meta, (x: number) => x * x, { name: "square" })
 * const program = Effect.scoped(Effect.gen(function*() {
 *   const pool = yield* Pool.make({ processes: 2 })
 *   return yield* Pool.map(pool, square, [1, 2, 3]) // [1, 4, 9]
 * }))
 * ```
 * @category constructors
 * @since 0.1.0
 */
export const make = <I extends AnyTask = AnyTask>(given: Options<I> | number = {}): Effect.Effect<Pool, PoolError, Scope.Scope> => {
  // A number is Python's positional `processes` (`Pool(4)`); it was read as no options at all.
  const options = (typeof given === "number" ? { processes: given } : given) as Options<I>
  if (options === null || typeof options !== "object") {
    return Effect.fail(invalid(`options must be an object or a number of processes, got ${describe(given)}`))
  }
  return Effect.acquireRelease(
    Effect.map(Effect.all([validate(options), resolveBackend(options.backend)]), ([processes, backend]) => {
      const impl = new PoolImpl({ ...options, backend } as Options, processes)
      impl.startWorkers()
      return wrap(impl)
    }),
    (pool, exit) => {
      const impl = implOf(pool)
      return Effect.gen(function*() {
        if (Exit.isSuccess(exit)) impl.close()
        else impl.terminate()
        yield* awaitJoined(impl)
        yield* Scope.close(impl.scope, Exit.void)
      }).pipe(Effect.onInterrupt(() => Effect.sync(() => impl.terminate())))
    }
  )
}

const awaitJoined = (impl: PoolImpl): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    const cancel = impl.whenJoined(() => resume(Effect.void))
    return Effect.sync(cancel)
  })

// Python's TypeError "'int' object is not iterable" at the call: Array.from(5) would silently
// map nothing, and null threw a raw TypeError.
const badIterable = (iterable: unknown): PoolError | undefined =>
  iterable != null && typeof (iterable as Iterable<unknown>)[Symbol.iterator] === "function"
    ? undefined
    : invalid(`iterable must be iterable, got ${describe(iterable)}`)

/**
 * The arguments of `apply` / `applyAsync` after the task: its `args`, which may be left out when the
 * task can be called with none (Python's `args=()`: `pool.apply(getpid)`), then `options`.
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * import * as Task from "@multiproc/runtime/Task"
 * export const pid = Task.make(import.meta, () => process.pid, { name: "pid" })
 * declare const pool: Pool.Pool
 * const same: Pool.ArgsThen<typeof pid, never> = [] // so `Pool.apply(pool, pid)` type-checks
 * ```
 * @category applying
 * @since 0.1.0
 */
export type ArgsThen<T extends AnyTask, O> = [] extends Task.Args<T> ? [args?: Task.Args<T>, options?: O] : [args: Task.Args<T>, options?: O]

// A task's arguments are spread into the call: anything but an array threw a raw TypeError.
const badArgs = (args: unknown): PoolError | undefined =>
  Array.isArray(args) ? undefined : invalid(`args must be an array of the task's arguments, got ${describe(args)}`)

// Checked at submission: a callback that is not a function would only warn once the result came.
const badCallbacks = (options: Callbacks<any> | undefined): PoolError | undefined =>
  options === undefined ? undefined : badCallback("callback", options.callback) ?? badCallback("errorCallback", options.errorCallback)
const badCallback = (name: string, cb: unknown): PoolError | undefined =>
  cb == null || typeof cb === "function" ? undefined : invalid(`${name} must be a function, got ${describe(cb)}`)

// Checked at the call, whatever the input: an empty map ignored a bad chunksize, and mapAsync
// refused it only through its result. (Python's imap raises ValueError; its map_async with
// chunksize=0 returns a list of None.) `null` / `undefined` are Python's None: the default.
const badChunksize = (chunksize: unknown): PoolError | undefined =>
  chunksize == null || (Number.isInteger(chunksize) && (chunksize as number) >= 1)
    ? undefined
    : invalid(`chunksize must be a positive integer (got ${describe(chunksize)})`)

const badTimeout = (timeout: unknown): PoolError | undefined => {
  const bad = timeoutProblem(timeout)
  return bad === undefined ? undefined : invalid(bad)
}

const items = <A>(iterable: Iterable<A>): Effect.Effect<Array<A>, PoolError> =>
  Effect.suspend(() => {
    const bad = badIterable(iterable)
    if (bad) return Effect.fail(bad)
    try {
      return Effect.succeed(Array.isArray(iterable) ? iterable as Array<A> : Array.from(iterable))
    } catch (e) {
      return Effect.die(e)
    }
  })

const requireTask = (task: unknown): PoolError | undefined =>
  Task.isTask(task) ? undefined : invalid("the function must be a Task (define it with Task.make at a module's top level)")

const defaultChunksize = (impl: PoolImpl, n: number): number => Math.max(1, Math.ceil(n / (impl.processes * 4)))


/**
 * One pool shared by a whole program, as a service: `PoolService.layer(options)` starts it for the
 * layer's lifetime (closed and joined when the layer ends, terminated if it ends by failure or
 * interruption, as `make`'s Scope), and any part of the program reaches it with `yield* PoolService`.
 *
 * Python equivalent: a module-level `Pool` that the program's functions share.
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * import * as Task from "@multiproc/runtime/Task"
 * import { Effect } from "effect"
 * export const square = Task.make(import.meta, (x: number) => x * x, { name: "square" })
 * const squares = Effect.gen(function*() {
 *   const pool = yield* Pool.PoolService
 *   return yield* Pool.map(pool, square, [1, 2, 3])
 * })
 * const program = squares.pipe(Effect.provide(Pool.PoolService.layer({ processes: 2 }))) // [1, 4, 9]
 * ```
 * @category services
 * @since 0.1.0
 */
export class PoolService extends Context.Service<PoolService, Pool>()("@multiproc/primitives/Pool/PoolService") {
  /** A layer whose pool is made with `options` (see {@link make}) and lives as long as the layer. */
  static readonly layer = <I extends AnyTask = AnyTask>(options: Options<I> | number = {}): Layer.Layer<PoolService, PoolError> =>
    Layer.effect(PoolService, make(options))
}
/** A number per task: a worker is told a task's module and name once (see `PW.TASKS_PORT`). */
const taskNumbers = new WeakMap<AnyTask, number>()
let lastTaskNumber = -1
const taskNumberOf = (task: AnyTask): number => {
  let no = taskNumbers.get(task)
  if (no === undefined) taskNumbers.set(task, no = ++lastTaskNumber)
  return no
}
/** The task numbers each worker was told. */
const namedTasks = new WeakMap<Child.Child, Set<number>>()

const jobIds = new WeakMap<AnyTask, [string, string]>()
/** Which jobs can travel together (one string per task: compared and hashed per call). */
const jobIdOf = (task: AnyTask, star: 0 | 1): string => {
  let ids = jobIds.get(task)
  if (ids === undefined) jobIds.set(task, ids = [`0${task.module}#${task.key}`, `1${task.module}#${task.key}`])
  return ids[star]
}

const makeJob = (
  task: AnyTask,
  star: 0 | 1,
  jobItems: ReadonlyArray<unknown>,
  mergeable: boolean,
  onDone: Job["onDone"],
  onFail: Job["onFail"]
): Job => ({
  task,
  id: jobIdOf(task, star),
  star,
  items: jobItems,
  weight: mergeable ? jobItems.length : 1,
  mergeable,
  submitted: performance.now(),
  state: 0,
  call: undefined,
  next: undefined,
  onDone,
  onFail
})

/** Submits one `apply` task (a job that may travel with its neighbours); `onExit` gets its Exit
 * once. Returns the job, to cancel it. */
const submitOne = (impl: PoolImpl, task: AnyTask, args: ReadonlyArray<unknown>, onExit: (exit: Exit.Exit<any, any>) => void): Job => {
  const job = makeJob(task, 1, [args], true, (values, failures) => {
    const f = failures?.get(0)
    onExit(f ?? Exit.succeed(values[0]))
  }, onExit)
  impl.submit(job)
  return job
}

/** Runs chunks and resumes with all values in order, or the first failure (fail-fast). */
const runChunks = <A>(
  impl: PoolImpl,
  task: AnyTask,
  star: 0 | 1,
  all: ReadonlyArray<unknown>,
  chunksize: number | undefined
): Effect.Effect<Array<A>, any> =>
  Effect.callback<Array<A>, any>((resume) => {
    const refusal = requireTask(task) ?? impl.refusal() ?? badChunksize(chunksize)
    if (refusal) return resume(Effect.fail(refusal))
    const n = all.length
    if (n === 0) return resume(Effect.succeed([]))
    const size = chunksize ?? impl.chunksizeFor(task, star, n)
    const out = new Array<A>(n)
    const jobs: Array<Job> = []
    let remaining = 0
    let finished = false
    const failWith = (failure: Failure) => {
      if (finished) return
      finished = true
      for (const j of jobs) impl.cancel(j)
      resume(failure)
    }
    for (let start = 0; start < n; start += size) {
      const slice = all.slice(start, start + size)
      const offset = start
      remaining++
      jobs.push(makeJob(task, star, slice, false, (values, failures) => {
        if (finished) return
        if (failures) {
          let first = Infinity
          for (const k of failures.keys()) first = Math.min(first, k)
          return failWith(failures.get(first)!)
        }
        for (let i = 0; i < values.length; i++) out[offset + i] = values[i] as A
        if (--remaining === 0) {
          finished = true
          resume(Effect.succeed(out))
        }
      }, failWith))
    }
    for (const j of jobs) impl.submit(j)
    return Effect.sync(() => {
      finished = true
      for (const j of jobs) impl.cancel(j)
    })
  })

/** Options of {@link map} and {@link starmap}. */
export interface MapOptions {
  /** Items per dispatched chunk; defaults to Python's `ceil(len / (4 × processes))`, or to 1 once
   * the task's items are known to take 2 ms or more each (see the module's notes). */
  readonly chunksize?: number | undefined
}

/**
 * Applies a task to every item and returns the results in order. Fails fast: the first failure
 * cancels the rest. Empty input gives `[]`.
 *
 * Python equivalent: `Pool.map(func, iterable, chunksize)`.
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * import * as Task from "@multiproc/runtime/Task"
 * export const square = Task.make(import.meta, (x: number) => x * x, { name: "square" })
 * declare const pool: Pool.Pool
 * const squares = Pool.map(pool, square, [1, 2, 3]) // Effect of [1, 4, 9]
 * ```
 * @category mapping
 * @since 0.1.0
 */
export const map = <T extends Task.Task<[any], any, any>>(
  pool: Pool,
  task: T,
  iterable: Iterable<Task.Args<T>[0]>,
  options: MapOptions = {}
): Effect.Effect<Array<Task.Success<T>>, Task.Failure<T> | Codec.SerializationError | PoolError> =>
  Effect.flatMap(items(iterable), (all) => runChunks(implOf(pool), task, 0, all, options.chunksize))

/**
 * Like {@link map}, with each item an argument list.
 *
 * Python equivalent: `Pool.starmap(func, iterable, chunksize)`.
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * import * as Task from "@multiproc/runtime/Task"
 * export const add = Task.make(import.meta, (a: number, b: number) => a + b, { name: "add" })
 * declare const pool: Pool.Pool
 * const sums = Pool.starmap(pool, add, [[1, 2], [3, 4]]) // Effect of [3, 7]
 * ```
 * @category mapping
 * @since 0.1.0
 */
export const starmap = <T extends AnyTask>(
  pool: Pool,
  task: T,
  iterable: Iterable<Task.Args<T>>,
  options: MapOptions = {}
): Effect.Effect<Array<Task.Success<T>>, Task.Failure<T> | Codec.SerializationError | PoolError> =>
  Effect.flatMap(items(iterable), (all) => runChunks(implOf(pool), task, 1, all, options.chunksize))

// ---------------------------------------------------------------------------------------------
// AsyncResult

/** Callbacks of the `*Async` functions; a throwing callback is reported, never breaks the pool. */
export interface Callbacks<A> {
  /** Called once with the result (Python's `callback`). */
  readonly callback?: ((value: A) => void) | undefined
  /** Called once with the error (Python's `error_callback`). */
  readonly errorCallback?: ((error: unknown) => void) | undefined
}

const squashFailure = (cause: Cause.Cause<unknown>): unknown => {
  const f = firstFailure(cause)
  return f.kind === "interrupt" ? new Error("interrupted") : f.value
}

const safely = (f: () => void, what: string): void => {
  try {
    f()
  } catch (e) {
    try {
      process.emitWarning(`${what} threw: ${(e as Error)?.stack ?? String(e)}`, "PoolCallbackWarning")
    } catch {
      // nothing else to do
    }
  }
}

/**
 * The result of an `applyAsync` / `mapAsync` / `starmapAsync`, settled once.
 *
 * Python equivalent: `multiprocessing.pool.AsyncResult`.
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const r: Pool.AsyncResult<number>
 * const value = r.get("1 second") // fails with PoolError "Timeout" after a second
 * ```
 * @category models
 * @since 0.1.0
 */
export class AsyncResult<A, E = unknown> {
  private exit: Exit.Exit<A, E> | undefined = undefined
  private waiters: Array<(exit: Exit.Exit<A, E>) => void> = []
  private readonly callbacks: Callbacks<A>
  /** @internal */
  constructor(callbacks: Callbacks<A> = {}) {
    this.callbacks = callbacks
  }
  /** @internal */
  settle(exit: Exit.Exit<A, E>): void {
    if (this.exit) return
    this.exit = exit
    if (Exit.isSuccess(exit)) {
      const cb = this.callbacks.callback
      if (cb) safely(() => cb(exit.value), "Pool callback")
    } else {
      const cb = this.callbacks.errorCallback
      if (cb) safely(() => cb(squashFailure(exit.cause)), "Pool errorCallback")
    }
    const ws = this.waiters
    this.waiters = []
    for (let i = 0; i < ws.length; i++) ws[i]!(exit)
  }
  /** @internal Registers a listener; returns its removal. */
  listen(f: (exit: Exit.Exit<A, E>) => void): () => void {
    if (this.exit) {
      f(this.exit)
      return () => {}
    }
    this.waiters.push(f)
    return () => {
      const i = this.waiters.indexOf(f)
      if (i >= 0) this.waiters.splice(i, 1)
    }
  }
  /** The settled Exit, if any. */
  get result(): Exit.Exit<A, E> | undefined {
    return this.exit
  }
  /** The value, or the task's failure; with a timeout, `PoolError` "Timeout" after it (Python's `get`). */
  get(timeout?: Duration.Input): Effect.Effect<A, E | PoolError> {
    const wait = Effect.callback<A, E>((resume) => {
      const off = this.listen((exit) => resume(exit))
      return Effect.sync(off)
    })
    if (timeout == null) return wait
    const bad = badTimeout(timeout)
    if (bad) return Effect.fail(bad)
    const d = Duration.fromInputUnsafe(timeout)
    return Effect.timeoutOrElse(wait, {
      duration: d,
      orElse: () => Effect.fail(new PoolError({ reason: "Timeout", message: `result not ready after ${Duration.format(d)}` }))
    })
  }
  /** Waits until settled or the timeout passes; never fails (Python's `wait`). */
  wait(timeout?: Duration.Input): Effect.Effect<void, PoolError> {
    const bad = badTimeout(timeout)
    if (bad) return Effect.fail(bad)
    const wait = Effect.callback<void>((resume) => {
      const off = this.listen(() => resume(Effect.void))
      return Effect.sync(off)
    })
    return timeout == null ? wait : Effect.asVoid(Effect.timeoutOption(wait, Duration.fromInputUnsafe(timeout)))
  }
  /** Whether it has settled (Python's `ready()`). */
  ready(): boolean {
    return this.exit !== undefined
  }
  /** Whether it settled successfully; `PoolError` "NotReady" before (Python's `successful()`). */
  successful(): Effect.Effect<boolean, PoolError> {
    return this.exit === undefined
      ? Effect.fail(new PoolError({ reason: "NotReady", message: "result is not ready" }))
      : Effect.succeed(Exit.isSuccess(this.exit))
  }
}

/** Options of {@link applyAsync}. */
export interface ApplyOptions<A> extends Callbacks<A> {}

/**
 * Submits one task and returns its {@link AsyncResult} at once. Fails at once with `PoolError`
 * `Closed` / `Terminated` (or `BootFailed`) when the pool takes no more tasks, calling no callback.
 *
 * Python equivalent: `Pool.apply_async(func, args, callback=, error_callback=)` (which raises
 * `ValueError("Pool not running")` there).
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * import * as Task from "@multiproc/runtime/Task"
 * import { Effect } from "effect"
 * export const square = Task.make(import.meta, (x: number) => x * x, { name: "square" })
 * declare const pool: Pool.Pool
 * const program = Effect.gen(function*() {
 *   const r = yield* Pool.applyAsync(pool, square, [7])
 *   return yield* r.get() // 49
 * })
 * ```
 * @category applying
 * @since 0.1.0
 */
export const applyAsync = <T extends AnyTask>(
  pool: Pool,
  task: T,
  ...[args, options = {}]: ArgsThen<T, ApplyOptions<Task.Success<T>>>
): Effect.Effect<AsyncResult<Task.Success<T>, Task.Failure<T> | Codec.SerializationError | PoolError>, PoolError> =>
  Effect.suspend(() => {
    const refusal = implOf(pool).refusal() ?? badArgs(args ?? []) ?? badCallbacks(options)
    return refusal ? Effect.fail(refusal) : Effect.succeed(applyAsyncUnsafe(pool, task, ...[args, options] as ArgsThen<T, ApplyOptions<Task.Success<T>>>))
  })

/**
 * Synchronous {@link applyAsync} (used by the async/await facade): throws the `PoolError` with
 * which `applyAsync` fails. @internal
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * import * as Task from "@multiproc/runtime/Task"
 * export const sq = Task.make(import.meta, (x: number) => x * x, { name: "sq" })
 * declare const pool: Pool.Pool
 * const result = Pool.applyAsyncUnsafe(pool, sq, [3]) // an AsyncResult, without running an Effect
 * ```
 */
export const applyAsyncUnsafe = <T extends AnyTask>(
  pool: Pool,
  task: T,
  ...[given, options = {}]: ArgsThen<T, ApplyOptions<Task.Success<T>>>
): AsyncResult<Task.Success<T>, Task.Failure<T> | Codec.SerializationError | PoolError> => {
  const impl = implOf(pool)
  const args = given ?? []
  const refusal = impl.refusal() ?? badArgs(args) ?? badCallbacks(options)
  if (refusal) throw refusal
  const result = new AsyncResult<Task.Success<T>, any>(options)
  const bad = requireTask(task)
  if (bad) {
    result.settle(Exit.fail(bad))
    return result
  }
  submitOne(impl, task, args, (exit) => result.settle(exit as any))
  return result
}

/**
 * {@link apply} for the async/await facade, without an Effect or an `AsyncResult`: submits the
 * task and calls `onExit` once with its Exit (a program with one task in flight runs this per
 * call, often before V8 has compiled it). Throws the `PoolError` with which `applyAsync` fails;
 * a function that is no Task ends in a failed Exit, as with `applyAsync`. @internal
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * import * as Task from "@multiproc/runtime/Task"
 * export const sq = Task.make(import.meta, (x: number) => x * x, { name: "sq" })
 * declare const pool: Pool.Pool
 * Pool.applyUnsafe(pool, sq, [3], (exit) => console.log(exit)) // Exit.succeed(9)
 * ```
 */
export const applyUnsafe = <T extends AnyTask>(
  pool: Pool,
  task: T,
  given: Task.Args<T> | undefined,
  onExit: (exit: Exit.Exit<Task.Success<T>, Task.Failure<T> | Codec.SerializationError | PoolError>) => void
): void => {
  const impl = implOf(pool)
  const args = given ?? []
  const refusal = impl.refusal() ?? badArgs(args)
  if (refusal) throw refusal
  const bad = requireTask(task)
  if (bad) return onExit(Exit.fail(bad))
  submitOne(impl, task, args, onExit)
}

/**
 * Runs one task and waits for its result.
 *
 * Python equivalent: `Pool.apply(func, args)`.
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * import * as Task from "@multiproc/runtime/Task"
 * export const square = Task.make(import.meta, (x: number) => x * x, { name: "square" })
 * declare const pool: Pool.Pool
 * const nine = Pool.apply(pool, square, [3])
 * ```
 * @category applying
 * @since 0.1.0
 */
export const apply = <T extends AnyTask>(
  pool: Pool,
  task: T,
  ...[given]: ArgsThen<T, never>
): Effect.Effect<Task.Success<T>, Task.Failure<T> | Codec.SerializationError | PoolError> =>
  Effect.suspend(() => {
    const args = given ?? []
    const impl = implOf(pool)
    const bad = requireTask(task) ?? impl.refusal() ?? badArgs(args)
    if (bad) return Effect.fail(bad)
    return Effect.callback<Task.Success<T>, any>((resume) => {
      const job = submitOne(impl, task, args, resume)
      return Effect.sync(() => impl.cancel(job))
    })
  })

const asyncMap = <A>(
  pool: Pool,
  task: AnyTask,
  star: 0 | 1,
  iterable: Iterable<unknown>,
  options: MapOptions & Callbacks<Array<A>>
): AsyncResult<Array<A>, any> => {
  const refusal = implOf(pool).refusal() ?? badIterable(iterable) ?? badCallbacks(options) ?? badChunksize(options.chunksize)
  if (refusal) throw refusal
  const result = new AsyncResult<Array<A>, any>(options)
  let all: Array<unknown>
  try {
    all = Array.isArray(iterable) ? iterable : Array.from(iterable)
  } catch (e) {
    result.settle(Exit.die(e))
    return result
  }
  const fiber = Effect.runFork(runChunks<A>(implOf(pool), task, star, all, options.chunksize))
  fiber.addObserver((exit) => result.settle(exit))
  return result
}

/**
 * Like {@link map}, returning an {@link AsyncResult} of the whole list at once; fails at once, as
 * {@link applyAsync} does, when the pool takes no more tasks.
 *
 * Python equivalent: `Pool.map_async(func, iterable, chunksize, callback, error_callback)`.
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * import * as Task from "@multiproc/runtime/Task"
 * import { Effect } from "effect"
 * export const square = Task.make(import.meta, (x: number) => x * x, { name: "square" })
 * declare const pool: Pool.Pool
 * const program = Effect.flatMap(Pool.mapAsync(pool, square, [1, 2]), (r) => r.get())
 * ```
 * @category mapping
 * @since 0.1.0
 */
export const mapAsync = <T extends Task.Task<[any], any, any>>(
  pool: Pool,
  task: T,
  iterable: Iterable<Task.Args<T>[0]>,
  options: MapOptions & Callbacks<Array<Task.Success<T>>> = {}
): Effect.Effect<AsyncResult<Array<Task.Success<T>>, Task.Failure<T> | Codec.SerializationError | PoolError>, PoolError> =>
  Effect.try({ try: () => asyncMap(pool, task, 0, iterable, options), catch: (e) => e as PoolError })

/**
 * Like {@link starmap}, returning an {@link AsyncResult} of the whole list at once; fails at once
 * when the pool takes no more tasks.
 *
 * Python equivalent: `Pool.starmap_async(func, iterable, chunksize, callback, error_callback)`.
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * import * as Task from "@multiproc/runtime/Task"
 * import { Effect } from "effect"
 * export const add = Task.make(import.meta, (a: number, b: number) => a + b, { name: "add" })
 * declare const pool: Pool.Pool
 * const program = Effect.flatMap(Pool.starmapAsync(pool, add, [[1, 2]]), (r) => r.get())
 * ```
 * @category mapping
 * @since 0.1.0
 */
export const starmapAsync = <T extends AnyTask>(
  pool: Pool,
  task: T,
  iterable: Iterable<Task.Args<T>>,
  options: MapOptions & Callbacks<Array<Task.Success<T>>> = {}
): Effect.Effect<AsyncResult<Array<Task.Success<T>>, Task.Failure<T> | Codec.SerializationError | PoolError>, PoolError> =>
  Effect.try({ try: () => asyncMap(pool, task, 1, iterable, options), catch: (e) => e as PoolError })

/**
 * `map_async` / `starmap_async` for the promise facade: starts the work and returns its
 * `AsyncResult` at once, throwing the `PoolError` of a refused call. @internal
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * declare const pool: Pool.Pool
 * declare const sq: Parameters<typeof Pool.map>[1]
 * const result = Pool.mapAsyncUnsafe(pool, sq, 0, [1, 2, 3], {}) // 0: map (1: starmap); throws a PoolError
 * ```
 */
export const mapAsyncUnsafe = asyncMap

// ---------------------------------------------------------------------------------------------
// imap

/** Options of {@link imap} and {@link imapUnordered}. */
export interface ImapOptions {
  /** Items per dispatched chunk. Default 1 (as Python). */
  readonly chunksize?: number | undefined
  /** Most chunks submitted ahead of the consumer. Default `2 × processes × pipeline`, at least 4. */
  readonly readAhead?: number | undefined
}

interface Pending {
  readonly job: Job
  values: Array<unknown> | undefined
  failure: Failure | undefined
  settled: boolean
}

/** An open imap: its results so far, pulled chunk by chunk, and what abandoning it does. */
interface OpenImap<A> {
  readonly pull: Effect.Effect<ReadonlyArray<A>, any>
  readonly cleanup: Effect.Effect<void>
}

/** Opens an imap (checks, then state): at the stream's first pull, or at the facade's call. */
const openImap = <A>(
  pool: Pool,
  task: AnyTask,
  iterable: Iterable<unknown> | AsyncIterable<unknown>,
  options: ImapOptions,
  ordered: boolean
): OpenImap<A> | PoolError => {
  const impl = implOf(pool)
  const refusal = requireTask(task) ?? impl.refusal() ??
    (iterable != null && typeof (iterable as any)[Symbol.asyncIterator] === "function" ? undefined : badIterable(iterable)) ??
    badChunksize(options.chunksize)
  if (refusal) return refusal
  const size = options.chunksize ?? 1
  const readAhead = Math.max(1, options.readAhead ?? Math.max(4, 2 * impl.processes * impl.depth))
  const isAsync = typeof (iterable as any)[Symbol.asyncIterator] === "function"
  const syncIt = isAsync ? undefined : (iterable as Iterable<unknown>)[Symbol.iterator]()
  const asyncIt = isAsync ? (iterable as AsyncIterable<unknown>)[Symbol.asyncIterator]() : undefined
  let inputDone = false
  let inputError: { readonly error: unknown } | undefined
  const outstanding: Array<Pending> = []
  let head = 0
  let wake: (() => void) | undefined
  /** The feeder's own wake-up (see `readRest`): it waits beside the consumer. */
  let feederWake: (() => void) | undefined
  /** Chunks submitted and not settled yet. */
  let unsettled = 0
  const notify = () => {
    const w = wake
    wake = undefined
    w?.()
    const f = feederWake
    feederWake = undefined
    f?.()
  }
  const submitChunk = (chunk: Array<unknown>) => {
    const p: Pending = { job: undefined as any, values: undefined, failure: undefined, settled: false }
    unsettled++
    ;(p as any).job = makeJob(task, 0, chunk, false, (values, failures) => {
      unsettled--
      if (failures) {
        let first = Infinity
        for (const k of failures.keys()) first = Math.min(first, k)
        if (ordered) {
          // Values before the failing item still arrive, then the failure.
          p.values = values.slice(0, first)
        }
        p.failure = failures.get(first)!
      } else p.values = values
      p.settled = true
      notify()
    }, (failure) => {
      unsettled--
      p.failure = failure
      p.settled = true
      notify()
    })
    outstanding.push(p)
    impl.submit(p.job, true)
    notify()
  }
  const readChunk: Effect.Effect<void> = Effect.suspend(() => {
    const chunk: Array<unknown> = []
    if (inputDone) return Effect.void
    if (syncIt) {
      try {
        while (chunk.length < size) {
          const r = syncIt.next()
          if (r.done) {
            inputDone = true
            break
          }
          chunk.push(r.value)
        }
      } catch (e) {
        inputDone = true
        inputError = { error: e }
      }
      if (chunk.length > 0) submitChunk(chunk)
      return Effect.void
    }
    const loop: Effect.Effect<void> = Effect.suspend(() => {
      if (chunk.length >= size || inputDone) {
        if (chunk.length > 0) submitChunk(chunk)
        return Effect.void
      }
      return Effect.flatMap(
        Effect.exit(Effect.tryPromise({ try: () => asyncIt!.next(), catch: (e) => e })),
        (exit) => {
          if (Exit.isFailure(exit)) {
            inputDone = true
            inputError = { error: squashFailure(exit.cause) }
          } else if (exit.value.done) inputDone = true
          else chunk.push(exit.value.value)
          return loop
        }
      )
    })
    return loop
  })
  // An async input's chunk is read over several awaits: one reader at a time, so that the
  // chunks read after close (below) and those the consumer reads keep the input's order.
  const reading = isAsync ? Semaphore.makeUnsafe(1) : undefined
  const readNext = reading ? reading.withPermits(1)(readChunk) : readChunk
  const live = () => outstanding.length - head
  const refill: Effect.Effect<void> = Effect.suspend(() =>
    !inputDone && live() < readAhead ? Effect.andThen(readNext, refill) : Effect.void
  )
  // Python's imap hands the whole input to the pool's task handler at the call, so close()
  // lets all of it run. Here the input is read lazily: when the pool closes, the rest is read
  // and submitted, at most `backlog` chunks ahead of the workers (an endless input read as fast
  // as it yields filled the heap until a terminate, which then took minutes on a loaded host);
  // a terminate stops it.
  const backlog = Math.max(256, 4 * readAhead)
  const stopped = () => inputDone || impl.state === "terminated"
  const roomOrStopped = (): Effect.Effect<void> =>
    Effect.callback<void>((resume) => {
      const check = () => {
        if (stopped() || unsettled < backlog) resume(Effect.void)
        else feederWake = check
      }
      check()
      return Effect.sync(() => {
        feederWake = undefined
      })
    })
  const readRest: Effect.Effect<void> = Effect.suspend(() =>
    stopped()
      ? Effect.void
      : unsettled < backlog
      ? Effect.andThen(readNext, readRest)
      : Effect.andThen(roomOrStopped(), readRest)
  )
  let feeder: Fiber.Fiber<void> | undefined
  const unwatch = impl.watchClose(() => {
    if (inputDone) return
    impl.feedStarted()
    feeder = Effect.runFork(Effect.ensuring(readRest, Effect.sync(() => impl.feedDone())))
  })
  const waitFor = (ready: () => boolean): Effect.Effect<void> =>
    Effect.callback<void>((resume) => {
      if (ready()) return resume(Effect.void)
      const check = () => {
        if (ready()) resume(Effect.void)
        else wake = check
      }
      wake = check
      return Effect.sync(() => {
        wake = undefined
      })
    })
  const compact = () => {
    if (head > 64 && head * 2 > outstanding.length) {
      outstanding.splice(0, head)
      head = 0
    }
  }
  let failed: Failure | undefined
  const finish = (): Effect.Effect<never, any> => {
    if (failed) return failed as any
    if (inputError) return Effect.die(inputError.error)
    return Cause.done()
  }
  const emit = (p: Pending): Effect.Effect<ReadonlyArray<A>, any> => {
    if (p.failure) {
      failed = p.failure
      for (let i = head; i < outstanding.length; i++) impl.cancel(outstanding[i]!.job)
      head = outstanding.length
      inputDone = true
      if (p.values && p.values.length > 0) return Effect.succeed(p.values as Array<A>)
      return failed as any
    }
    return Effect.succeed(p.values as Array<A>)
  }
  const pull: Effect.Effect<ReadonlyArray<A>, any> = Effect.suspend(() => {
    if (failed) return finish()
    return Effect.andThen(refill, Effect.suspend(() => {
      if (live() === 0) return finish()
      if (ordered) {
        const p = outstanding[head]!
        return Effect.andThen(waitFor(() => p.settled), Effect.suspend(() => {
          head++
          compact()
          const out = emit(p)
          return Effect.flatMap(out, (values) => values.length > 0 ? Effect.succeed(values) : pull)
        }))
      }
      const find = () => {
        for (let i = head; i < outstanding.length; i++) if (outstanding[i]!.settled) return i
        return -1
      }
      return Effect.andThen(waitFor(() => find() >= 0), Effect.suspend(() => {
        const i = find()
        const p = outstanding[i]!
        outstanding[i] = outstanding[head]!
        outstanding[head] = p
        head++
        compact()
        return Effect.flatMap(emit(p), (values) => values.length > 0 ? Effect.succeed(values) : pull)
      }))
    }))
  })
  const cleanup = Effect.suspend(() => {
    unwatch()
    return feeder ? Fiber.interrupt(feeder) : Effect.void
  }).pipe(Effect.andThen(Effect.sync(() => {
    for (let i = head; i < outstanding.length; i++) impl.cancel(outstanding[i]!.job)
    try {
      syncIt?.return?.()
    } catch {
      // ignore
    }
    if (asyncIt?.return) asyncIt.return().catch(() => {})
  })))
  return { pull, cleanup }
}

const streamOf = <A>(open: () => OpenImap<A> | PoolError): Stream.Stream<A, any> =>
  Stream.fromChannel(Channel.fromTransform((_upstream: any, scope: Scope.Scope) =>
    Effect.suspend(() => {
      const opened = open()
      if (opened instanceof PoolError) return Effect.fail(opened)
      return Effect.as(Scope.addFinalizer(scope, opened.cleanup), opened.pull as any)
    })
  ) as any) as any

/**
 * {@link imap} (`ordered`) or {@link imapUnordered}, submitted at the call as Python's are: it
 * throws `PoolError` when the pool takes no more tasks, and a later `close()` lets all of its
 * input run. The async/await facade's `imap`. @internal
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * import * as Task from "@multiproc/runtime/Task"
 * export const square = Task.make(import.meta, (x: number) => x * x, { name: "square" })
 * declare const pool: Pool.Pool
 * const squares = Pool.imapUnsafe(pool, square, [1, 2, 3], {}, true) // a Stream of 1, 4, 9
 * ```
 */
export const imapUnsafe = <T extends Task.Task<[any], any, any>>(
  pool: Pool,
  task: T,
  iterable: Iterable<Task.Args<T>[0]> | AsyncIterable<Task.Args<T>[0]>,
  options: ImapOptions,
  ordered: boolean
): Stream.Stream<Task.Success<T>, Task.Failure<T> | Codec.SerializationError | PoolError> => {
  const opened = openImap<Task.Success<T>>(pool, task, iterable, options, ordered)
  if (opened instanceof PoolError) throw opened
  return streamOf(() => opened)
}

/**
 * Applies a task lazily: a Stream of results in input order, reading the input only a bounded
 * number of chunks ahead of the consumer. Abandoning the stream cancels the remaining work. An
 * error thrown by the input arrives after the results of the items before it.
 *
 * Python equivalent: `Pool.imap(func, iterable, chunksize)`.
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * import * as Task from "@multiproc/runtime/Task"
 * import { Stream } from "effect"
 * export const square = Task.make(import.meta, (x: number) => x * x, { name: "square" })
 * declare const pool: Pool.Pool
 * const firstTen = Pool.imap(pool, square, [1, 2, 3]).pipe(Stream.take(10), Stream.runCollect)
 * ```
 * @category mapping
 * @since 0.1.0
 */
export const imap = <T extends Task.Task<[any], any, any>>(
  pool: Pool,
  task: T,
  iterable: Iterable<Task.Args<T>[0]> | AsyncIterable<Task.Args<T>[0]>,
  options: ImapOptions = {}
): Stream.Stream<Task.Success<T>, Task.Failure<T> | Codec.SerializationError | PoolError> =>
  streamOf(() => openImap(pool, task, iterable, options, true))

/**
 * Like {@link imap}, with results in completion order.
 *
 * Python equivalent: `Pool.imap_unordered(func, iterable, chunksize)`.
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * import * as Task from "@multiproc/runtime/Task"
 * import { Stream } from "effect"
 * export const square = Task.make(import.meta, (x: number) => x * x, { name: "square" })
 * declare const pool: Pool.Pool
 * const all = Stream.runCollect(Pool.imapUnordered(pool, square, [1, 2, 3]))
 * ```
 * @category mapping
 * @since 0.1.0
 */
export const imapUnordered = <T extends Task.Task<[any], any, any>>(
  pool: Pool,
  task: T,
  iterable: Iterable<Task.Args<T>[0]> | AsyncIterable<Task.Args<T>[0]>,
  options: ImapOptions = {}
): Stream.Stream<Task.Success<T>, Task.Failure<T> | Codec.SerializationError | PoolError> =>
  streamOf(() => openImap(pool, task, iterable, options, false))

// ---------------------------------------------------------------------------------------------
// Lifecycle

/**
 * Stops taking tasks; queued tasks still run, then the workers exit.
 *
 * Python equivalent: `Pool.close()`.
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const pool: Pool.Pool
 * const done = Effect.andThen(Pool.close(pool), Pool.join(pool))
 * ```
 * @category lifecycle
 * @since 0.1.0
 */
export const close = (pool: Pool): Effect.Effect<void> => Effect.sync(() => implOf(pool).close())

/**
 * Stops the workers now; queued and running tasks fail with `PoolError` "Terminated".
 *
 * Python equivalent: `Pool.terminate()` (where outstanding results never complete).
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const pool: Pool.Pool
 * const stop = Effect.andThen(Pool.terminate(pool), Pool.join(pool))
 * ```
 * @category lifecycle
 * @since 0.1.0
 */
export const terminate = (pool: Pool): Effect.Effect<void> => Effect.sync(() => implOf(pool).terminate())

/**
 * Waits until every worker has exited; fails with `NotClosed` on a running pool.
 *
 * Python equivalent: `Pool.join()`.
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * import { Effect } from "effect"
 * declare const pool: Pool.Pool
 * const done = Effect.andThen(Pool.close(pool), Pool.join(pool))
 * ```
 * @category lifecycle
 * @since 0.1.0
 */
export const join = (pool: Pool): Effect.Effect<void, PoolError> =>
  Effect.suspend(() => {
    const impl = implOf(pool)
    if (impl.state === "running") return Effect.fail(new PoolError({ reason: "NotClosed", message: "Pool is still running; close() or terminate() it first" }))
    return awaitJoined(impl)
  })

/**
 * Counters and time distributions of the pool.
 *
 * Python equivalent: none (Python's Pool exposes no statistics).
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * declare const pool: Pool.Pool
 * const s = Pool.stats(pool) // Effect of { tasksDone, queued, running, runTime, waitTime, … }
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const stats = (pool: Pool): Effect.Effect<Stats> => Effect.sync(() => implOf(pool).stats())

/**
 * Synchronous {@link stats}. @internal
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * declare const pool: Pool.Pool
 * const { tasksDone, queued, running } = Pool.statsUnsafe(pool)
 * ```
 */
export const statsUnsafe = (pool: Pool): Stats => implOf(pool).stats()

/**
 * The number of CPUs this process may use (the default pool size).
 *
 * Python equivalent: `multiprocessing.cpu_count()`.
 *
 * @example
 * ```ts
 * import { Pool } from "@multiproc/primitives"
 * const n = Pool.cpuCount()
 * ```
 * @category accessors
 * @since 0.1.0
 */
export const cpuCount = (): number => os.availableParallelism()
