// Interruption cancels a blocking call and loses nothing: a timeout around it, or its fiber
// interrupted, while an item, a message or a notification arrives at the same moment. (Locks and
// semaphores: SyncModel.test.ts; manager proxies: Manager.test.ts.)
import { describe, expect, it } from "@effect/vitest"
import { Barrier, Condition, Event, Lock, Pipe, Process, Queue } from "@multiproc/primitives"
import { Effect, Fiber } from "effect"
import * as T from "./fixtures/interrupt-tasks.ts"

const N = 100
const range = (n: number) => Array.from({ length: n }, (_, i) => i)
const sorted = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)

/** Where the queue lives and where the racing loop runs. */
type Placement = "here" | "child uses ours (thread)" | "child uses ours (process)" | "we use a child's (thread)" | "we use a child's (process)"
const placements: ReadonlyArray<Placement> = [
  "here",
  "child uses ours (thread)",
  "child uses ours (process)",
  "we use a child's (thread)",
  "we use a child's (process)"
]
const backendOf = (p: Placement) => p.endsWith("(thread)") ? "thread" as const : "process" as const

/** A queue for the placement (in the Scope; a child's lives until the Scope ends) and a runner of a task there. */
const setUp = (placement: Placement, kind: T.Kind, maxsize = 0) =>
  Effect.gen(function*() {
    if (placement === "here" || placement.startsWith("child")) return yield* T.makeQueue(kind, maxsize)
    const out = yield* Queue.make<unknown>()
    const done = yield* Event.make()
    const p = yield* Process.make({ target: T.ownQueue, args: [kind, maxsize, out, done], backend: backendOf(placement) })
    yield* Process.start(p)
    yield* Effect.addFinalizer(() => Effect.andThen(Effect.ignore(Event.set(done)), Effect.ignore(Process.join(p))))
    return (yield* Queue.get(out)) as Queue.Queue<number>
  })

describe.each(placements)("an interrupted blocking queue call loses nothing (%s)", (placement) => {
  const inChild = placement.startsWith("child")
  it.live.each([
    ["Queue", "timeout"],
    ["Queue", "interrupt"],
    ["JoinableQueue", "interrupt"],
    ["SimpleQueue", "timeout"]
  ] as const)("%s.get given up (%s) as an item arrives: every item is got exactly once, the rest stays", ([kind, how]) =>
    Effect.scoped(Effect.gen(function*() {
      const q = yield* setUp(placement, kind)
      const got = inChild
        ? yield* Process.run({ target: T.raceGetsTask, args: [q, N, how], backend: backendOf(placement) })
        : yield* T.raceGets(q, N, how)
      const rest = yield* T.drain(q)
      expect(sorted([...got, ...rest])).toEqual(range(N))
      // most gets gave up (those that got nothing); the items they missed were still there
      expect(rest.length).toBeGreaterThan(0)
      if (kind !== "SimpleQueue") expect(yield* Queue.qsize(q as Queue.Queue<number>)).toBe(0)
    })), 30_000)

  it.live.each(["timeout", "interrupt"] as const)("a put into a full queue given up (%s) as room appears: the item is in if and only if the put returned", (how) =>
    Effect.scoped(Effect.gen(function*() {
      const q = (yield* setUp(placement, "Queue", 1)) as Queue.Queue<number>
      const { got, put } = inChild
        ? yield* Process.run({ target: T.racePutsTask, args: [q, N, how], backend: backendOf(placement) })
        : yield* T.racePuts(q, N, how)
      const rest = yield* T.drain(q)
      expect(sorted([...got, ...rest])).toEqual(sorted(put))
    })), 30_000)
})

describe.each(["thread", "process"] as const)("an interrupted Pipe.recv / poll loses no message (%s child)", (backend) => {
  it.live.each(["timeout", "interrupt"] as const)("receiving here, given up (%s) as messages arrive: each message is received once, in order", (how) =>
    Effect.scoped(Effect.gen(function*() {
      const [r, w] = yield* Pipe.make({ duplex: false })
      const sender = yield* Effect.forkChild(Process.run({ target: T.sendSlowlyTask, args: [w, N], backend }))
      const [got, rest] = yield* T.raceRecv(r, N, how)
      yield* Fiber.join(sender)
      expect([...got, ...rest]).toEqual(range(N))
    })), 30_000)

  // In a process child a receive is a request to the pipe's home here: a message sent to a receive
  // that gave up meanwhile must come before the one sent to the child's next receive (in Python's
  // pipe nothing overtakes), whichever kind of receive (recv, recvBytes) takes it.
  it.live.each([
    ["timeout", "recv"],
    ["interrupt", "recv"],
    ["timeout", "recv and recvBytes"],
    ["interrupt", "recv and recvBytes"]
  ] as const)("receiving in the child, given up (%s; %s) as messages arrive: each message is received once, in order", ([how, kinds]) =>
    Effect.scoped(Effect.gen(function*() {
      const [r, w] = yield* Pipe.make({ duplex: false })
      const receiver = yield* Effect.forkChild(Process.run({ target: T.raceRecvTask, args: [r, N, how, kinds !== "recv"], backend }))
      yield* T.sendSlowly(w, N)
      const [got, rest] = yield* Fiber.join(receiver)
      expect([...got, ...rest]).toEqual(range(N))
    })), 30_000)

  // Messages too big for the pipe's ring are kept aside by the home, which hands each one out on
  // request, also to a thread that shares the ring: one sent to a receive that gave up must still
  // come first.
  it.live.each(["timeout", "interrupt"] as const)("receiving in the child, given up (%s) as messages too big for the ring arrive: each message is received once, in order", (how) =>
    Effect.scoped(Effect.gen(function*() {
      const n = 40
      const [r, w] = yield* Pipe.make({ duplex: false })
      const receiver = yield* Effect.forkChild(Process.run({ target: T.raceRecvTask, args: [r, n, how], backend }))
      yield* T.sendSlowly(w, n, true)
      const [got, rest] = yield* Fiber.join(receiver)
      expect([...got, ...rest]).toEqual(range(n))
    })), 30_000)
})

describe("an interrupted Condition.wait", () => {
  it.live("re-acquires the lock before the interruption goes on (withLock then releases it), and leaves no waiter: notify(1) wakes a live one", () =>
    Effect.scoped(Effect.gen(function*() {
      const c = yield* Condition.make()
      const lock = c.lock as Lock.RLock
      const dead = yield* Effect.forkChild(Condition.withLock(c, Condition.wait(c)))
      yield* Effect.sleep(20)
      const live = yield* Effect.forkChild(Condition.withLock(c, Condition.wait(c, 5_000)))
      yield* Effect.sleep(20)
      yield* Fiber.interrupt(dead)
      // the interrupted waiter's withLock released what its wait re-acquired: the lock is free
      expect(yield* Lock.locked(lock)).toBe(false)
      expect(yield* Condition.withLock(c, Condition.notify(c, 1))).toBe(1)
      expect(yield* Fiber.join(live)).toBe(true)
      expect(yield* Lock.locked(lock)).toBe(false)
    })))

  it.live("a notification that crosses the interruption passes to the next waiter", () =>
    Effect.scoped(Effect.gen(function*() {
      const c = yield* Condition.make()
      for (let i = 0; i < 50; i++) {
        const first = yield* Effect.forkChild(Condition.withLock(c, Condition.wait(c)))
        yield* Effect.sleep(1)
        const second = yield* Effect.forkChild(Condition.withLock(c, Condition.wait(c, 5_000)))
        yield* Effect.sleep(1)
        // notify(1) and the interruption of the first waiter together
        const notifier = yield* Effect.forkChild(Condition.withLock(c, Condition.notify(c, 1)))
        yield* Fiber.interrupt(first)
        yield* Fiber.join(notifier)
        const firstExit = yield* Fiber.await(first)
        // whoever got the notification, a live waiter wakes: the second one unless the first returned with it
        if (firstExit._tag !== "Success") expect(yield* Fiber.join(second)).toBe(true)
        else {
          yield* Condition.withLock(c, Condition.notify(c, 1))
          expect(yield* Fiber.join(second)).toBe(true)
        }
      }
    })))
})

describe("an interrupted Event.wait / Barrier.wait", () => {
  it.live("Event: waits given up (timeout, interruption) leave the event working for a live waiter", () =>
    Effect.scoped(Effect.gen(function*() {
      const e = yield* Event.make()
      for (let i = 0; i < 20; i++) yield* T.giveUpAfter(Event.wait(e), i % 2, i % 2 === 0 ? "timeout" : "interrupt")
      const live = yield* Effect.forkChild(Event.wait(e, 5_000))
      yield* Effect.sleep(10)
      yield* Event.set(e)
      expect(yield* Fiber.join(live)).toBe(true)
    })))

  it.live("Barrier: an interrupted party breaks the barrier (why: left) and no longer counts as waiting", () =>
    Effect.scoped(Effect.gen(function*() {
      const b = yield* Barrier.make(3)
      const other = yield* Effect.forkChild(Effect.flip(Barrier.wait(b)))
      const quitter = yield* Effect.forkChild(Barrier.wait(b))
      for (let i = 0; i < 100 && (yield* Barrier.nWaiting(b)) < 2; i++) yield* Effect.sleep(5)
      yield* Fiber.interrupt(quitter)
      expect((yield* Fiber.join(other)).why).toBe("left")
      expect(yield* Barrier.broken(b)).toBe(true)
      expect(yield* Barrier.nWaiting(b)).toBe(0)
    })))
})
