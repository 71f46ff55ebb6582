/**
 * Keeping this thread's event loop awake for a moment, so that an expected message is seen at
 * once instead of after an OS wake-up (10-20 µs on a busy VM, 30-40 µs to wake an idle virtual
 * core: most of a round trip between two threads). Awake means a `setImmediate` chain: the loop
 * keeps polling for I/O without blocking, and timers, I/O callbacks and microtasks run as usual.
 * It costs CPU only while nothing else runs, and ends at its deadline.
 *
 * Lean on purpose (no `effect`): workers load it at boot.
 * @internal
 */

let until = 0
let whileAwaitingUntil = 0
/** What callers await (one predicate per caller, e.g. per child with calls out). */
const awaiting = new Set<() => boolean>()
let running = false

const anyAwaiting = (): boolean => {
  for (const pending of awaiting) {
    if (pending()) return true
    awaiting.delete(pending)
  }
  return false
}

const tick = (): void => {
  const now = performance.now()
  if (now < until || (now < whileAwaitingUntil && anyAwaiting())) setImmediate(tick)
  else {
    running = false
    if (now >= whileAwaitingUntil) awaiting.clear()
  }
}

const start = (): void => {
  if (running) return
  running = true
  setImmediate(tick)
}

/** Stays awake for `ms` from now (a worker after a reply: the next call may follow at once). */
export const stayAwake = (ms: number): void => {
  until = Math.max(until, performance.now() + ms)
  start()
}

/** Stays awake for up to `ms` from now while `pending()` holds (a caller awaiting a reply). */
export const stayAwakeWhile = (ms: number, pending: () => boolean): void => {
  awaiting.add(pending)
  whileAwaitingUntil = Math.max(whileAwaitingUntil, performance.now() + ms)
  start()
}

/** How long a requester polls for a reply, and a server stays awake after answering a request
 * whose requester polls (the next request of a requester that awaits each reply follows at once). */
export const REPLY_POLL_MS = 0.05

/** `MULTIPROC_POLL`: `never` or `always` instead of measuring (for benchmarks, or to spend no
 * CPU on polling at all). */
const policy = (): "never" | "always" | "measure" => {
  const v = process.env.MULTIPROC_POLL
  return v === "never" || v === "always" ? v : "measure"
}

/** Round trips measured per way in a probe (the first of each run is left out: the server's
 * state then still follows the other way). */
const PROBE = 12
/** Requests sent the chosen way at most before the next probe; doubled (up to 8 times) while
 * probes keep choosing the same way. */
const KEEP = 1000
/** Nor longer than this many ms of its measured round trips (twice that while probes agree): a way
 * chosen in a bad moment (a probe while the worker still compiled, say, when polling took
 * 170-390 µs and sleeping 70-80) is kept for at most this long, not for thousands of requests. */
const KEEP_MS = 25
/** Polling is chosen when it takes less than this part of the time without. */
const FASTER = 0.8
/** Round trips of the kept way watched at a time (see `ReplyPolling.measured`). */
const WATCH = 8

/** A typed array sorts numerically in native code, with no comparator to call per step: over a
 * pool's first 2,700 calls, the medians took 0.35 ms of the main thread's time, against 3.8 ms
 * with a comparator (profiled; V8 interprets it at first). */
const median = (xs: Array<number>): number => Float64Array.from(xs).sort()[xs.length >> 1]!

/**
 * Whether requests on one path (a manager connection, say) poll for their replies, decided by
 * measuring. Polling on both sides (the requester while it waits, the server for a moment after
 * answering) saves the two OS wake-ups of a round trip, which on an idle VM cost more than the
 * work itself (a halted virtual CPU takes 30-40 µs to wake). But when the two threads share a core,
 * or the cores are busy, the poller only holds up the thread it waits for. Which holds changes as
 * the OS moves threads between cores, so a path measures its round trips both ways in turn
 * (`PROBE` each, one request in flight) and keeps the faster way (polling must be faster by a
 * fifth: it costs CPU) until the next probe: after `KEEP` requests (more while probes agree), or
 * sooner when the median of the kept way's last `WATCH` round trips would have lost the probe or
 * is twice what it was in it, or when the kept way's round trips add up to `KEEP_MS` (a wrong
 * choice then costs little). A request sent while the server was still awake after a polled one
 * (`REPLY_POLL_MS`) says nothing of sleeping and is not counted as one.
 */
export class ReplyPolling {
  private readonly mode = policy()
  private polling = false
  private left = 0
  /** Probing: [round trips without polling, with]; the way being measured; its run so far. */
  private readonly probes: [Array<number>, Array<number>] = [[], []]
  private way = 0
  private run = -1
  /** Keeping a way: how slow its round trips may get before the other way would have been chosen
   * (from the probe), and its latest round trips. */
  private bound = 0
  private readonly watched: Array<number> = []
  /** Probes in a row that chose the way the one before chose (up to 3; none before the first). */
  private same = -1
  /** The kept way's measured round trips so far, and how much of them it is kept for (ms). */
  private spent = 0
  private budget = 0
  /** When the reply to the last polled request came (its server stays awake a moment after). */
  private awakeUntil = -Infinity

  /** Whether the next request polls. */
  next(): boolean {
    if (this.mode !== "measure") return this.mode === "always"
    if (this.left > 0) {
      this.left--
      return this.polling
    }
    return this.way === 1
  }

  /** The round trip (ms) of a request sent alone (none other in flight from send to reply), and
   * when it was sent (`performance.now()`), if the server stays awake after a polled reply. */
  measured(polled: boolean, ms: number, sentAt?: number): void {
    if (this.mode !== "measure") return
    if (sentAt !== undefined) {
      if (polled) this.awakeUntil = sentAt + ms + REPLY_POLL_MS
      else if (sentAt < this.awakeUntil) return
    }
    if (this.left > 0) {
      if (polled !== this.polling) return
      this.spent += ms
      if (this.spent > this.budget) {
        this.left = 0
        return
      }
      this.watched.push(ms)
      if (this.watched.length < WATCH) return
      if (median(this.watched) > this.bound) this.left = 0
      this.watched.length = 0
      return
    }
    if (polled !== (this.way === 1)) return
    // The first of a run waited on a server still in the other way's state.
    if (this.run++ < 0) return
    const xs = this.probes[this.way]!
    xs.push(ms)
    if (xs.length < PROBE) return
    this.run = -1
    if (this.way === 0) {
      this.way = 1
      return
    }
    const asleep = median(this.probes[0])
    const awake = median(this.probes[1])
    const polling = awake < FASTER * asleep
    this.same = polling === this.polling ? Math.min(this.same + 1, 3) : 0
    this.polling = polling
    // Also when the kept way itself gets twice as slow: the threads moved (to one core, or apart).
    this.bound = this.polling ? Math.min(asleep, 2 * awake) : Math.min(awake / FASTER, 2 * asleep)
    this.probes[0].length = 0
    this.probes[1].length = 0
    this.watched.length = 0
    this.way = 0
    this.left = KEEP << this.same
    this.spent = 0
    this.budget = KEEP_MS << Math.min(this.same, 1)
  }
}

/**
 * The requests of one path (a manager connection, the asks to one actor): each one's polling is
 * decided by `ReplyPolling`, which is told how long the requests sent alone took (none other sent
 * on the path before the reply: a pipelined burst measures nothing).
 */
export class MeasuredPath {
  private readonly polling = new ReplyPolling()
  private out = 0
  private sent = 0

  /** Sends one request (`send` is told whether it polls); `onReply` runs once unless cancelled
   * first. Returns the canceller. */
  request(
    send: (awake: boolean, onReply: (ok: boolean, value: unknown) => void) => () => void,
    onReply: (ok: boolean, value: unknown) => void
  ): () => void {
    const awake = this.polling.next()
    const n = ++this.sent
    const t0 = this.out === 0 ? performance.now() : -1
    this.out++
    let open = true
    const cancel = send(awake, (ok, value) => {
      if (open) {
        open = false
        this.out--
        if (t0 >= 0 && this.sent === n) this.polling.measured(awake, performance.now() - t0, t0)
      }
      onReply(ok, value)
    })
    return () => {
      if (open) {
        open = false
        this.out--
      }
      cancel()
    }
  }
}
