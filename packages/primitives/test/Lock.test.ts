import { describe, expect, it } from "@effect/vitest"
import { Event, Lock, Process, Semaphore } from "@multiproc/primitives"
import { Lock as PLock, RLock as PRLock } from "@multiproc/primitives/promise"
import { Effect, Fiber } from "effect"
import * as P from "../src/internal/permits.ts"
import { inspect } from "node:util"
import { runProgram } from "./program.ts"
import * as T from "./fixtures/sync-tasks.ts"

/** Runs fixtures/sync-daemon-main.ts as a program. */
const runMain = (what: string, backend: string) => runProgram("sync-daemon-main.ts", [what, backend], 45_000)

const backends = ["thread", "process"] as const

/** Polls until a child holds the lock (a non-blocking acquire by us fails). */
const untilHeldElsewhere = (lock: Lock.Lock) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1000; i++) {
      if (!(yield* Lock.acquire(lock, { block: false }))) return
      yield* Lock.release(lock)
      yield* Effect.sleep(10)
    }
    throw new Error("the child never took the lock")
  })

describe("Lock (one process)", () => {
  it.live("acquire; non-blocking acquire while held gives false; negative timeout is zero", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make()
      expect(yield* Lock.locked(lock)).toBe(false)
      expect(yield* Lock.acquire(lock)).toBe(true)
      expect(yield* Lock.locked(lock)).toBe(true)
      expect(yield* Lock.acquire(lock, { block: false })).toBe(false)
      expect(yield* Lock.acquire(lock, { timeout: -1 })).toBe(false)
      yield* Lock.release(lock)
      expect(yield* Lock.acquire(lock, { block: false })).toBe(true)
      yield* Lock.release(lock)
    })))

  it.live("releasing an unlocked lock is an error", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make()
      const e = yield* Effect.flip(Lock.release(lock))
      expect(e._tag).toBe("LockError")
      expect(e.reason).toBe("NotLocked")
    })))

  it.live("acquire with a timeout gives false after about the timeout", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make()
      yield* Lock.acquire(lock)
      const t0 = Date.now()
      const got = yield* Effect.forkChild(Lock.acquire(lock, { timeout: 200 })).pipe(Effect.flatMap(Fiber.join))
      const took = Date.now() - t0
      expect(got).toBe(false)
      expect(took).toBeGreaterThanOrEqual(180)
      expect(took).toBeLessThan(3000)
      yield* Lock.release(lock)
    })))

  it.live("RLock: nested acquires and releases; one release too many is an error; other fibers wait", () =>
    Effect.scoped(Effect.gen(function*() {
      const rlock = yield* Lock.makeRLock()
      expect(yield* Lock.acquire(rlock)).toBe(true)
      expect(yield* Lock.acquire(rlock)).toBe(true)
      expect(yield* Lock.acquire(rlock, { block: false })).toBe(true)
      // another fiber is another owner
      const other = yield* Effect.forkChild(Lock.acquire(rlock, { block: false }))
      expect(yield* Fiber.join(other)).toBe(false)
      const foreign = yield* Effect.forkChild(Effect.flip(Lock.release(rlock)))
      expect((yield* Fiber.join(foreign)).reason).toBe("NotOwner")
      yield* Lock.release(rlock)
      yield* Lock.release(rlock)
      yield* Lock.release(rlock)
      const e = yield* Effect.flip(Lock.release(rlock))
      expect(e.reason).toBe("NotOwner")
      const later = yield* Effect.forkChild(Lock.acquire(rlock, { block: false }))
      expect(yield* Fiber.join(later)).toBe(true)
    })))

  it.live("withLock releases on failure", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make()
      const r = yield* Effect.flip(Lock.withLock(lock, Effect.fail("boom")))
      expect(r).toBe("boom")
      expect(yield* Lock.acquire(lock, { block: false })).toBe(true)
    })))

  it.live("a waiter interrupted while queued never owns the lock; FIFO hand-off", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make()
      yield* Lock.acquire(lock)
      const order: Array<number> = []
      const waiter = (i: number) => Effect.forkChild(Effect.andThen(Lock.acquire(lock), Effect.sync(() => order.push(i))).pipe(Effect.andThen(Lock.release(lock))))
      const a = yield* waiter(1)
      yield* Effect.sleep(20)
      const b = yield* waiter(2)
      yield* Effect.sleep(20)
      const c = yield* waiter(3)
      yield* Effect.sleep(20)
      yield* Fiber.interrupt(b)
      yield* Lock.release(lock)
      yield* Fiber.join(a)
      yield* Fiber.join(c)
      expect(order).toEqual([1, 3])
      expect(yield* Lock.acquire(lock, { block: false })).toBe(true)
    })))

  it.live("synchronous API: acquireUnsafe / releaseUnsafe / withLockSync agree with the Effect API", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make()
      expect(Lock.isShared(lock)).toBe(true)
      expect(Lock.acquireUnsafe(lock, { block: false })).toBe(true)
      expect(Lock.acquireUnsafe(lock, { block: false })).toBe(false)
      expect(yield* Lock.acquire(lock, { block: false })).toBe(false)
      expect(yield* Lock.isMine(lock)).toBe(true)
      Lock.releaseUnsafe(lock)
      expect(() => Lock.releaseUnsafe(lock)).toThrow(expect.objectContaining({ reason: "NotLocked" }))
      // a waiter queued through the Effect API gets it from a synchronous release, in order
      yield* Lock.acquire(lock)
      const order: Array<number> = []
      const waiter = (i: number) => Effect.forkChild(Lock.withLockSync(lock, () => order.push(i)))
      const a = yield* waiter(1)
      yield* Effect.sleep(20)
      const b = yield* waiter(2)
      yield* Effect.sleep(20)
      expect(order).toEqual([])
      Lock.releaseUnsafe(lock)
      yield* Fiber.join(a)
      yield* Fiber.join(b)
      expect(order).toEqual([1, 2])
      // withLockSync: one step when free; a throwing f releases the lock and dies
      expect(yield* Lock.withLockSync(lock, () => 42)).toBe(42)
      const exit = yield* Effect.exit(Lock.withLockSync(lock, () => {
        throw new Error("boom")
      }))
      expect(exit._tag).toBe("Failure")
      expect(Lock.acquireUnsafe(lock, { block: false })).toBe(true)
      Lock.releaseUnsafe(lock)
      // RLock: owned by the process (-1) in the synchronous API
      const rlock = yield* Lock.makeRLock()
      expect(Lock.acquireUnsafe(rlock, { block: false })).toBe(true)
      expect(Lock.acquireUnsafe(rlock, { block: false })).toBe(true)
      expect(yield* Lock.acquire(rlock, { block: false })).toBe(false) // another owner (this fiber)
      expect(() => Lock.releaseUnsafe(rlock, { owner: 7 })).toThrow(expect.objectContaining({ reason: "NotOwner" }))
      Lock.releaseUnsafe(rlock)
      Lock.releaseUnsafe(rlock)
      expect(() => Lock.releaseUnsafe(rlock)).toThrow(expect.objectContaining({ reason: "NotOwner" }))
      expect(yield* Lock.acquire(rlock, { block: false })).toBe(true)
    })))

  it.live("reprs as Python's (test_repr_lock, test_repr_rlock)", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make()
      expect(String(lock)).toBe("<Lock(owner=None)>")
      yield* Lock.acquire(lock)
      expect(String(lock)).toBe("<Lock(owner=MainProcess)>")
      expect(inspect(lock)).toBe(String(lock))
      const rlock = yield* Lock.makeRLock()
      expect(String(rlock)).toBe("<RLock(None, 0)>")
      // held by a fiber: the fiber is named after the process, as Python names the thread
      const fiber = yield* Effect.forkChild(Effect.andThen(Effect.all([Lock.acquire(rlock), Lock.acquire(rlock)]), Effect.never))
      yield* Effect.sleep(20)
      expect(String(rlock)).toBe(`<RLock(MainProcess|Fiber-${fiber.id}, 2)>`)
      yield* Fiber.interrupt(fiber)
      const facade = new PRLock()
      for (let i = 0; i < 3; i++) yield* Effect.promise(() => facade.acquire())
      expect(String(facade)).toBe("<RLock(MainProcess, 3)>")
      expect(inspect(facade)).toBe("<RLock(MainProcess, 3)>")
      expect(String(new PLock())).toBe("<Lock(owner=None)>")
    })))

  it("the async/await facade: acquire/release, withLock, await using, RLock nesting", async () => {
    const lock = new PLock()
    expect(await lock.acquire()).toBe(true)
    expect(await lock.acquire(false)).toBe(false)
    await lock.release()
    await expect(lock.release()).rejects.toMatchObject({ reason: "NotLocked" })
    expect(await lock.withLock(() => 7)).toBe(7)
    {
      await using _held = await lock.hold()
      expect(await lock.acquire(false)).toBe(false)
    }
    {
      using _held = await lock.hold()
    }
    expect(await lock.acquire(false)).toBe(true)
    await lock.release()
    // synchronous answers where Python's are non-blocking
    expect(lock.tryAcquire()).toBe(true)
    expect(lock.tryAcquire()).toBe(false)
    expect(await lock.acquire(false)).toBe(false)
    lock.releaseSync()
    expect(() => lock.releaseSync()).toThrow(expect.objectContaining({ reason: "NotLocked" }))
    // CPython 3.14: test_lock, test_rlock (locked())
    expect(await lock.locked()).toBe(false)
    await lock.acquire()
    expect(await lock.locked()).toBe(true)
    await lock.release()
    const r = new PRLock()
    await r.acquire()
    await r.acquire()
    await r.release()
    expect(await r.locked()).toBe(true)
    await r.release()
    expect(await r.locked()).toBe(false)
    await expect(r.release()).rejects.toMatchObject({ reason: "NotOwner" })
  })
})

describe.each(backends)("Lock across processes (%s backend)", (backend) => {
  it.live("reprs: a lock held by a child is SomeOtherProcess here, and the child's name there", () =>
    Effect.scoped(Effect.gen(function*() {
      const sem = yield* Semaphore.make(3)
      for (const lock of [yield* Lock.make(), yield* Lock.makeRLock()]) {
        const [held, done] = [yield* Event.make(), yield* Event.make()]
        const p = yield* Process.make({ target: T.holdAndReport, args: [lock, held, done, sem], name: "P2", backend })
        yield* Process.start(p)
        yield* Event.wait(held)
        expect(String(lock)).toBe(lock.kind === "Lock" ? "<Lock(owner=SomeOtherProcess)>" : "<RLock(SomeOtherProcess, nonzero)>")
        // CPython: test_lock_locked_2processes
        expect(yield* Lock.locked(lock)).toBe(true)
        yield* Event.set(done)
        yield* Process.join(p)
        const seen = yield* Process.result(p)
        expect(seen.locked).toBe(true)
        expect(yield* Lock.locked(lock)).toBe(false)
        expect(seen.lock).toMatch(lock.kind === "Lock" ? /^<Lock\(owner=P2\)>$/ : /^<RLock\(P2\|Fiber-\d+, 1\)>$/)
        // a process-backend child does not share the memory: what it cannot know is `unknown`
        expect(seen.sem).toBe(backend === "thread" ? "<Semaphore(value=3)>" : "<Semaphore(value=unknown)>")
        expect(seen.event).toMatch(backend === "thread" ? /^<Event at \S+ unset>$/ : /^<Event at \S+ unknown>$/)
        expect(String(lock)).toBe(lock.kind === "Lock" ? "<Lock(owner=None)>" : "<RLock(None, 0)>")
      }
    })))

  it.live("a child's non-blocking acquire sees the parent's lock; a timed one gives false after the timeout", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make()
      yield* Lock.acquire(lock)
      expect(yield* Process.run({ target: T.tryLock, args: [lock], backend })).toBe(false)
      const r = yield* Process.run({ target: T.acquireWithin, args: [lock, 300], backend })
      expect(r.got).toBe(false)
      expect(r.took).toBeGreaterThanOrEqual(250)
      expect(r.took).toBeLessThan(5000)
      yield* Lock.release(lock)
      expect(yield* Process.run({ target: T.tryLock, args: [lock], backend })).toBe(true)
    })))

  it.live("a child may release the parent's Lock; releasing it again is NotLocked; RLock is owner-only", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make()
      yield* Lock.acquire(lock)
      expect(yield* Process.run({ target: T.releaseForeign, args: [lock], backend })).toBe("ok")
      expect(yield* Process.run({ target: T.releaseForeign, args: [lock], backend })).toBe("NotLocked")
      expect(yield* Lock.acquire(lock, { block: false })).toBe(true)
      const rlock = yield* Lock.makeRLock()
      yield* Lock.acquire(rlock)
      expect(yield* Process.run({ target: T.releaseForeign, args: [rlock], backend })).toBe("NotOwner")
    })))

  it.live("synchronous acquire in a child: answers where the memory is shared, NotShared elsewhere", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make()
      yield* Lock.acquire(lock)
      const expected = backend === "thread" ? false : "NotShared"
      expect(yield* Process.run({ target: T.tryLockUnsafe, args: [lock], backend })).toBe(expected)
      yield* Lock.release(lock)
      expect(yield* Process.run({ target: T.tryLockUnsafe, args: [lock], backend })).toBe(backend === "thread" ? true : "NotShared")
    })))

  it.live("a waiter that dies while queued never gets the lock; the one behind it does", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make()
      yield* Lock.acquire(lock)
      const dying = yield* Process.make({ target: T.waitForeverStamp, args: [lock], backend })
      yield* Process.start(dying)
      const queued = (n: number) =>
        Effect.gen(function*() {
          for (let k = 0; k < 2000 && (P.queued(lock) ?? 0) < n; k++) yield* Effect.sleep(10)
          expect(P.queued(lock)).toBe(n)
        })
      yield* queued(1)
      const next = yield* Process.make({ target: T.acquireStamp, args: [lock, 0], backend })
      yield* Process.start(next)
      yield* queued(2)
      yield* Process.kill(dying)
      yield* Process.join(dying)
      yield* Effect.sleep(100)
      yield* Lock.release(lock)
      expect(typeof (yield* Process.result(next))).toBe("number")
      expect(yield* Lock.acquire(lock, { timeout: 10_000 })).toBe(true)
    })))

  it.live("a lock held by a process that dies goes to the next waiter", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make()
      const p = yield* Process.make({ target: T.acquireAndHang, args: [lock], backend })
      yield* Process.start(p)
      yield* untilHeldElsewhere(lock)
      const waiter = yield* Effect.forkChild(Lock.acquire(lock, { timeout: 20_000 }))
      yield* Effect.sleep(50)
      yield* Process.kill(p)
      expect(yield* Fiber.join(waiter)).toBe(true)
      // and one that exits on its own
      yield* Lock.release(lock)
      const q = yield* Process.make({ target: T.acquireAndExit, args: [lock], backend })
      yield* Process.start(q)
      expect(yield* Process.join(q)).toBe(3)
      expect(yield* Lock.acquire(lock, { timeout: 20_000 })).toBe(true)
    })))

  it.live("with onOwnerDeath: fail, waiters get a typed OwnerDied error", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make({ onOwnerDeath: "fail" })
      const p = yield* Process.make({ target: T.acquireAndHang, args: [lock], backend })
      yield* Process.start(p)
      yield* untilHeldElsewhere(lock)
      const waiter = yield* Effect.forkChild(Effect.flip(Lock.acquire(lock)))
      yield* Effect.sleep(50)
      yield* Process.kill(p)
      const e = yield* Fiber.join(waiter)
      expect(e.reason).toBe("OwnerDied")
      expect(yield* Lock.acquire(lock, { block: false })).toBe(true)
    })))

  it.live("FIFO under contention: 3 processes × 300 sections, nobody starves, nothing lost", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make()
      const counts = yield* Effect.all(
        [1, 2, 3].map((i) => Process.run({ target: T.stampLoop, args: [lock, i, 300], backend })),
        { concurrency: "unbounded" }
      )
      expect(counts).toEqual([300, 300, 300])
      expect(yield* Lock.acquire(lock, { block: false })).toBe(true)
    })))

  it.live("hand-off is FIFO across processes", () =>
    Effect.scoped(Effect.gen(function*() {
      const lock = yield* Lock.make()
      yield* Lock.acquire(lock)
      const ps = []
      for (let i = 0; i < 3; i++) {
        const p = yield* Process.make({ target: T.acquireStamp, args: [lock, 50], backend })
        yield* Process.start(p)
        ps.push(p)
        // let it boot and queue: its ticket is taken (local or, for another OS process, by the actor)
        for (let k = 0; k < 2000 && (P.queued(lock) ?? 0) < i + 1; k++) yield* Effect.sleep(10)
        expect(P.queued(lock)).toBe(i + 1)
      }
      yield* Lock.release(lock)
      const stamps = []
      for (const p of ps) stamps.push(yield* Process.result(p))
      expect([...stamps].sort((a, b) => a - b)).toEqual(stamps)
    })))

  it.live("Semaphore permits held by a dead process come back", () =>
    Effect.scoped(Effect.gen(function*() {
      const sem = yield* Semaphore.make(3)
      const p = yield* Process.make({ target: T.takePermitsAndHang, args: [sem, 2], backend })
      yield* Process.start(p)
      for (let i = 0; i < 1000 && (yield* Semaphore.getValue(sem)) !== 1; i++) yield* Effect.sleep(10)
      expect(yield* Semaphore.getValue(sem)).toBe(1)
      yield* Process.kill(p)
      for (let i = 0; i < 1000 && (yield* Semaphore.getValue(sem)) !== 3; i++) yield* Effect.sleep(10)
      expect(yield* Semaphore.getValue(sem)).toBe(3)
    })))
})

describe("Lock: waiting keeps the program alive", () => {
  it.each(["thread", "process"])("a main program waiting for a lock and a semaphore a daemonic child made and holds stays alive (%s)", async (backend) => {
    const r = await runMain("lock", backend)
    expect(r.stderr).toBe("")
    expect(r.stdout.trim()).toBe("lock true true 0")
  }, 60_000)
})
