import { describe, expect, it } from "@effect/vitest"
import { Manager, Process } from "@multiproc/primitives"
import { promisify } from "@multiproc/primitives/promise"
import { Actor, Child, Codec } from "@multiproc/runtime"
import { Effect, Exit, Fiber, Result } from "effect"
import * as fc from "fast-check"
import * as net from "node:net"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { stats } from "../src/internal/manager-server.ts"
import * as Lean from "./fixtures/lean.ts"
import * as T from "./fixtures/manager-tasks.ts"

Codec.registerError(T.QuotaExceeded)

const counterType = {
  Counter: { factory: T.makeCounter, exposed: ["increment", "value", "upTo", "slow", "child"], methodToTypeid: { child: "Counter" } }
}

describe("Manager: pipelined calls (batched in one request, answered in one reply)", () => {
  it.live("a burst keeps order, gives each call its own result or error, and mixes with other requests", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make()
      const d = yield* Manager.dict<string, number>(m)
      const l = yield* Manager.list<number>(m)
      const n = 500
      const out = yield* Effect.forEach(Array.from({ length: n }, (_, i) => i), (i): Effect.Effect<string | undefined, unknown> =>
        i % 100 === 7
          ? Effect.flip(d.getItem(`missing${i}`)).pipe(Effect.map((e) => e.remoteType))
          : Effect.as(Effect.andThen(d.set("last", i), l.append(i)), "ok"), { concurrency: "unbounded" })
      expect(out.filter((x) => x === "KeyError").length).toBe(5)
      expect(out.filter((x) => x === "ok").length).toBe(n - 5)
      // Last writer wins in submission order; appends kept their order too.
      expect(yield* d.get("last")).toBe(n - 1)
      expect(yield* l.getvalue()).toEqual(Array.from({ length: n }, (_, i) => i).filter((i) => i % 100 !== 7))
      // Values come back per call; a non-batchable request (a lock) in the middle keeps its place.
      const lock = yield* Manager.lock(m)
      const mixed = yield* Effect.all([d.set("x", 1), d.get("x"), lock.acquire(), d.len(), lock.release(), d.pop("x")], { concurrency: "unbounded" })
      expect(mixed).toEqual([undefined, 1, true, 2, undefined, 1])
    })))

  it.live("a long burst goes in chunks of at most 256 calls and keeps every result in order", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make()
      const d = yield* Manager.dict<number, number>(m)
      const l = yield* Manager.list<number>(m)
      const n = 3000
      // Sets, appends and failing reads interleaved: groups of one method alternate inside a chunk.
      const out = yield* Effect.forEach(Array.from({ length: n }, (_, i) => i), (i): Effect.Effect<unknown, unknown> =>
        i % 3 === 0 ? d.set(i, i * 2) : i % 3 === 1 ? l.append(i) : Effect.flip(d.getItem(-i)).pipe(Effect.map((e) => e.remoteType)), { concurrency: "unbounded" })
      expect(out.filter((x) => x === "KeyError").length).toBe(n / 3)
      expect(yield* d.len()).toBe(n / 3)
      expect(yield* d.get(2997)).toBe(5994)
      expect(yield* l.getvalue()).toEqual(Array.from({ length: n / 3 }, (_, i) => 3 * i + 1))
      // Chunks of at most 256 calls (the first call of the burst went alone).
      const { batches } = yield* m.child!.call(stats, [])
      expect(batches).toBeGreaterThanOrEqual(Math.ceil((n - 1) / 256))
    })))

  it.live("a call interrupted while still queued is never sent; a facade call queued by a fiber that has ended is", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make()
      const d = yield* Manager.dict<string, number>(m)
      // One call in flight, so the next ones wait for the end of the tick to go as one batch.
      const first = yield* Effect.forkChild(d.set("first", 1), { startImmediately: true })
      const dropped = yield* Effect.forkChild(d.set("dropped", 2), { startImmediately: true })
      let kept: Promise<unknown> | undefined
      // The facade's call has no fiber of its own: the fiber it was made in ends at once.
      yield* Effect.forkChild(Effect.sync(() => { kept = promisify(d).set("kept", 3) }), { startImmediately: true })
      yield* Fiber.interrupt(dropped)
      yield* Fiber.join(first)
      yield* Effect.timeout(Effect.promise(() => kept!), "5 seconds")
      expect(yield* d.getvalue()).toEqual(new Map([["first", 1], ["kept", 3]]))
    })))

  it.live("a child process reaches the manager over its own authenticated session, not through its parent", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make()
      const d = yield* Manager.dict<number, number>(m)
      const before = yield* m.child!.call(stats, [])
      // A thread child stays on the routed path (a direct channel between threads).
      yield* Process.run({ target: T.dictSets, args: [d, 50, false] })
      expect((yield* m.child!.call(stats, [])).sessions).toBe(before.sessions)
      // Each child process: one session, whatever it does; awaited and pipelined sets both arrive.
      yield* Process.run({ target: T.dictSets, args: [d, 200, false], backend: "process" })
      expect((yield* m.child!.call(stats, [])).sessions).toBe(before.sessions + 1)
      const batchesBefore = (yield* m.child!.call(stats, [])).batches
      yield* Process.run({ target: T.dictSets, args: [d, 1000, true], backend: "process" })
      const after = yield* m.child!.call(stats, [])
      expect(after.sessions).toBe(before.sessions + 2)
      expect(after.batches).toBeGreaterThan(batchesBefore)
      expect(yield* d.len()).toBe(1000)
      expect(yield* d.get(999)).toBe(999)
    })))

  it.live.each(["thread", "process"] as const)("a child's interrupted calls lose nothing: a reply that crossed the interruption is handed back (%s)", (backend) =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make()
      const q = yield* Manager.queue<number>(m)
      const lock = yield* Manager.lock(m)
      const n = 300
      const child = yield* Effect.forkChild(Process.run({ target: T.interruptedCalls, args: [q, lock, 600], backend }))
      // Items and lock holds arrive at random moments while the child keeps timing out.
      for (let i = 0; i < n; i++) {
        yield* q.put(i)
        if (yield* lock.acquire({ block: false })) yield* lock.release()
        yield* Effect.sleep(`${i % 3} millis`)
      }
      const { got, free } = yield* Fiber.join(child)
      expect(free).toBe(true)
      const rest: Array<number> = []
      while (!(yield* q.empty())) rest.push(yield* q.get())
      expect([...got, ...rest].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i))
    })), 60_000)

  it.live("an argument that cannot cross fails only its own call of a burst", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make()
      const d = yield* Manager.dict<string, unknown>(m)
      const out = yield* Effect.forEach(Array.from({ length: 600 }, (_, i) => i), (i) =>
        Effect.result(d.set(`k${i}`, i === 300 ? () => i : i)), { concurrency: "unbounded" })
      const failed = out.flatMap((r, i) => Result.isFailure(r) ? [[i, r.failure.reason]] : [])
      expect(failed).toEqual([[300, "BadRequest"]])
      expect(yield* d.len()).toBe(599)
      expect(yield* d.get("k599")).toBe(599)
    })))

  it.live("a malformed batch is refused as a bad request and serves nothing", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make()
      const d = yield* Manager.dict<string, number>(m)
      for (const calls of [[d.id, "__setitem__", 2, 2, "a", 1], [d.id, "__setitem__", -1, 1], ["x", "__setitem__", 2, 1, "a", 1], [d.id, "__setitem__", 2]]) {
        const e = yield* Effect.flip(Actor.ask(d.actor, { op: "batch", calls }))
        expect((e as unknown as Manager.ManagerError).reason).toBe("BadRequest")
      }
      expect(yield* d.len()).toBe(0)
    })))
})

describe("Manager: start method", () => {
  it.live("the server runs on the start method's backend unless one is given (Python: the context's)", () =>
    Effect.scoped(Effect.gen(function*() {
      const byDefault = yield* Manager.make()
      expect(byDefault.child?.backend).toBe("thread")
      const processes = yield* Manager.make().pipe(Effect.provideService(Process.StartMethod, "process"))
      expect(processes.child?.backend).toBe("process")
      const d = yield* Manager.dict<string, number>(processes)
      yield* d.set("a", 1)
      expect(yield* d.get("a")).toBe(1)
      const given = yield* Manager.make({ backend: "thread" }).pipe(Effect.provideService(Process.StartMethod, "process"))
      expect(given.child?.backend).toBe("thread")
    })))
})

describe("Manager: dict and list (CPython test_dict / test_list)", () => {
  it.live("dict operations", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make()
      const d = yield* Manager.dict<string | number, unknown>(m, { a: 1 })
      yield* d.set("b", 2)
      yield* d.set(3, "three")
      expect(yield* d.len()).toBe(3)
      expect(yield* d.get("a")).toBe(1)
      expect(yield* d.get("zz")).toBeUndefined()
      expect(yield* d.get("zz", "dflt")).toBe("dflt")
      expect(yield* d.has("b")).toBe(true)
      expect(yield* d.keys()).toEqual(["a", "b", 3])
      expect(yield* d.values()).toEqual([1, 2, "three"])
      expect(yield* d.items()).toEqual([["a", 1], ["b", 2], [3, "three"]])
      const missing = yield* Effect.flip(d.getItem("nope"))
      expect([missing.reason, missing.remoteType, missing.message]).toEqual(["RemoteError", "KeyError", "'nope'"])
      expect((yield* Effect.flip(d.delete("nope"))).remoteType).toBe("KeyError")
      expect(yield* d.pop("b")).toBe(2)
      expect(yield* d.pop("b", 42)).toBe(42)
      expect((yield* Effect.flip(d.pop("b"))).remoteType).toBe("KeyError")
      expect(yield* d.setdefault("c", [1])).toEqual([1])
      expect(yield* d.setdefault("c", [2])).toEqual([1])
      expect(yield* d.popitem()).toEqual(["c", [1]])
      yield* d.update(new Map<string | number, unknown>([["x", 1], ["y", 2]]))
      yield* d.update([["z", 3]])
      const copy = yield* d.copy()
      expect(copy).toEqual(new Map<unknown, unknown>([["a", 1], [3, "three"], ["x", 1], ["y", 2], ["z", 3]]))
      expect((yield* Effect.flip(d.set({} as any, 1))).remoteType).toBe("TypeError")
      // test_dict_iter: iterating a dict proxy gives its keys.
      const keys = yield* d.iter()
      expect(yield* Manager.collect(keys)).toEqual(["a", 3, "x", "y", "z"])
      expect(yield* keys.next()).toEqual({ done: true, value: undefined })
      yield* d.set("late", 0)
      expect(yield* keys.next()).toEqual({ done: true, value: undefined }) // exhausted stays so
      yield* d.delete("late")
      // ... and, as Python's, an iterator of a dict that changed size fails with RuntimeError
      // (a cleared dict, a key added), again on every later next; a value changed is no change.
      const cleared = yield* d.iter()
      yield* d.set("x", 10)
      expect(yield* cleared.next()).toEqual({ done: false, value: "a" })
      yield* d.delete("a")
      const changed = yield* Effect.flip(cleared.next())
      expect([changed.remoteType, changed.message]).toEqual(["RuntimeError", "dictionary changed size during iteration"])
      yield* d.set("a", 1)
      expect((yield* Effect.flip(cleared.next())).remoteType).toBe("RuntimeError")
      const grown = yield* d.iter()
      yield* d.set("w", 0)
      expect((yield* Effect.flip(grown.next())).remoteType).toBe("RuntimeError")
      const emptied = yield* d.iter()
      yield* d.clear()
      expect((yield* Effect.flip(emptied.next())).remoteType).toBe("RuntimeError")
      yield* d.update([["a", 1]])
      yield* d.delete("a")
      yield* d.clear()
      expect(yield* d.len()).toBe(0)
      expect((yield* Effect.flip(d.popitem())).remoteType).toBe("KeyError")
    })))

  it.live("list operations", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make()
      const l = yield* Manager.list<number>(m, [5, 6, 7])
      expect(yield* l.getvalue()).toEqual([5, 6, 7])
      yield* l.append(8)
      yield* l.extend([9, 10])
      yield* l.insert(0, 4)
      yield* l.insert(-1, 99)
      expect(yield* l.getvalue()).toEqual([4, 5, 6, 7, 8, 9, 99, 10])
      expect(yield* l.get(-1)).toBe(10)
      expect((yield* Effect.flip(l.get(100))).remoteType).toBe("IndexError")
      expect(yield* l.slice(1, 3)).toEqual([5, 6])
      expect(yield* l.slice(null, null, -2)).toEqual([10, 9, 7, 5])
      yield* l.setSlice(1, 3, [50, 60, 65])
      expect(yield* l.getvalue()).toEqual([4, 50, 60, 65, 7, 8, 9, 99, 10])
      yield* l.deleteSlice(0, 2)
      expect(yield* l.index(7)).toBe(2)
      expect((yield* Effect.flip(l.index(1234))).remoteType).toBe("ValueError")
      yield* l.remove(99)
      expect((yield* Effect.flip(l.remove(99))).remoteType).toBe("ValueError")
      expect(yield* l.count(8)).toBe(1)
      expect(yield* l.contains(9)).toBe(true)
      yield* l.reverse()
      expect(yield* l.getvalue()).toEqual([10, 9, 8, 7, 65, 60])
      yield* l.sort()
      expect(yield* l.getvalue()).toEqual([7, 8, 9, 10, 60, 65])
      yield* l.sort({ reverse: true })
      expect(yield* l.pop()).toBe(7)
      expect(yield* l.pop(0)).toBe(65)
      yield* l.set(0, 1)
      yield* l.imul(2)
      expect(yield* l.getvalue()).toEqual([1, 10, 9, 8, 1, 10, 9, 8])
      expect(yield* l.len()).toBe(8)
      // test_list_iter: an iterator proxy, item by item; it sees items appended meanwhile.
      const it = yield* l.iter()
      expect(it).toBeInstanceOf(Manager.IteratorProxy)
      expect(yield* it.next()).toEqual({ done: false, value: 1 })
      yield* l.append(7)
      expect(yield* Manager.collect(it)).toEqual([10, 9, 8, 1, 10, 9, 8, 7])
      expect(yield* it.next()).toEqual({ done: true, value: undefined })
      yield* l.clear()
      expect((yield* Effect.flip(l.pop())).remoteType).toBe("IndexError")
    })))

  it.live("a child's writes are seen by the parent (dict and list)", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make()
      const d = yield* Manager.dict<string, unknown>(m)
      const l = yield* Manager.list<unknown>(m)
      expect(yield* Process.run({ target: T.dictWrites, args: [d, "k", 10], backend: "process" })).toBe(10)
      yield* Process.run({ target: T.listAppend, args: [l, [1, "two", [3]]] })
      expect((yield* d.getvalue()).get("k9")).toBe(9)
      expect(yield* l.getvalue()).toEqual([1, "two", [3]])
    })))

  it.live("nested proxies propagate writes both ways", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make()
      const outer = yield* Manager.dict<string, Manager.ListProxy<number>>(m)
      const inner = yield* Manager.list<number>(m, [1])
      yield* outer.set("inner", inner)
      // The child writes through the nested proxy it read out of the outer one.
      const seenByChild = yield* Process.run({ target: T.nestedWrite, args: [outer], backend: "process" })
      expect(seenByChild).toEqual([1, 99])
      expect(yield* inner.getvalue()).toEqual([1, 99])
      // A write here through the proxy read back from the dict is seen through the original.
      const again = yield* outer.getItem("inner")
      expect(again).toBeInstanceOf(Manager.ListProxy)
      yield* again.append(100)
      expect(yield* inner.getvalue()).toEqual([1, 99, 100])
      // A list of dicts (CPython test_nested_queue-style).
      const ds = yield* Manager.list<Manager.DictProxy<string, number>>(m)
      yield* ds.append(yield* Manager.dict<string, number>(m))
      const first = yield* ds.get(0)
      yield* first.set("x", 1)
      expect((yield* (yield* ds.get(0)).getvalue()).get("x")).toBe(1)
    })))

  it.live("Namespace: printing, shared attributes, private attributes stay local", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make()
      const ns = yield* Manager.namespace(m)
      yield* ns.set("name", "Bob")
      yield* ns.set("job", "Builder")
      yield* ns.set("_hidden", "local")
      // Python sorts the `name=value` strings: "a0=..." before "a=..." ('0' < '=').
      expect(yield* ns.repr()).toBe("Namespace(job='Builder', name='Bob')")
      yield* ns.set("a", 1)
      yield* ns.set("a0", true)
      expect(yield* ns.repr()).toBe("Namespace(a0=True, a=1, job='Builder', name='Bob')")
      yield* ns.delete("a")
      yield* ns.delete("a0")
      expect(yield* ns.get("_hidden")).toBe("local")
      expect(yield* ns.getvalue()).toEqual({ name: "Bob", job: "Builder" })
      const missing = yield* Effect.flip(ns.get("nope"))
      expect(missing.remoteType).toBe("AttributeError")
      yield* ns.delete("job")
      expect(yield* ns.repr()).toBe("Namespace(name='Bob')")
      // A copy of the proxy (as another process receives it) has no private attributes.
      const copy = Codec.decodeUnsafe(Codec.encodeUnsafe(ns)) as Manager.NamespaceProxy
      expect((yield* Effect.flip(copy.get("_hidden"))).remoteType).toBe("AttributeError")
      expect(yield* copy.get("name")).toBe("Bob")
    })))
})

describe.each(["thread", "process"] as const)("Manager: every type used from a child (%s)", (backend) => {
  it.live("all types", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make({ backend })
      const objs = {
        d: yield* Manager.dict<string, number>(m),
        l: yield* Manager.list<number>(m),
        ns: yield* Manager.namespace(m),
        v: yield* Manager.value(m, "i", 1),
        a: yield* Manager.array(m, "d", 3),
        lock: yield* Manager.lock(m),
        rlock: yield* Manager.rlock(m),
        sem: yield* Manager.semaphore(m, 2),
        bsem: yield* Manager.boundedSemaphore(m, 1),
        cond: yield* Manager.condition(m),
        ev: yield* Manager.event(m),
        bar: yield* Manager.barrier(m, 2),
        q: yield* Manager.queue<string>(m),
        jq: yield* Manager.joinableQueue<string>(m)
      }
      yield* objs.jq.put("work")
      const child = yield* Effect.forkChild(Process.run({ target: T.useAll, args: [objs], backend }))
      const myIndex = yield* objs.bar.wait("20 seconds")
      const fromChild = yield* objs.q.get({ timeout: "20 seconds" })
      yield* objs.jq.join()
      const result = (yield* Fiber.join(child)) as { locked: boolean; index: number; got: string }
      expect(result.locked).toBe(true)
      expect([myIndex, result.index].sort()).toEqual([0, 1])
      expect(result.got).toBe("work")
      expect(fromChild).toBe("from child")
      expect((yield* objs.d.getvalue()).get("child")).toBe(1)
      expect(yield* objs.l.getvalue()).toEqual([7])
      expect(yield* objs.ns.get("fromChild")).toBe("yes")
      expect(yield* objs.v.get()).toBe(41)
      expect(yield* objs.a.getvalue()).toEqual([5, 0, 0])
      expect(yield* objs.ev.isSet()).toBe(true)
      expect(yield* objs.ev.wait("1 second")).toBe(true)
      expect(yield* objs.sem.getValue()).toBe(1)
      expect((yield* Effect.flip(objs.bsem.release())).remoteType).toBe("ValueError")
      expect(yield* objs.lock.locked()).toBe(false)
      expect(yield* objs.q.empty()).toBe(true)
      expect((yield* Effect.flip(objs.q.getNowait())).remoteType).toBe("Empty")
    })), 60_000)
})

describe("Manager: synchronisation semantics", () => {
  it.live.each(["Lock", "RLock"] as const)("Condition(lock) is built on the given %s: held, the condition cannot be acquired by another (SyncManager.Condition(lock))", (kind) =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make()
      const lock = yield* (kind === "Lock" ? Manager.lock(m) : Manager.rlock(m))
      const cond = yield* Manager.condition(m, lock)
      yield* lock.acquire()
      expect(yield* Process.run({ target: T.applyOp, args: [cond as any, "acquire", [false, null]], backend: "process" })).toEqual({ ok: true, value: false })
      // A Lock is not recursive, even for its holder (Python: False); an RLock is.
      expect(yield* cond.acquire({ block: false })).toBe(kind === "RLock")
      if (kind === "RLock") yield* cond.release()
      yield* lock.release()
      expect(yield* lock.locked()).toBe(false)
      // Acquired through the condition: the lock is what is held.
      expect(yield* cond.acquire()).toBe(true)
      expect(yield* lock.locked()).toBe(true)
      expect(yield* Process.run({ target: T.applyOp, args: [lock as any, "acquire", [false, null]], backend: "process" })).toEqual({ ok: true, value: false })
      // wait() releases the given lock while it waits, and takes it back.
      const waiter = yield* Effect.forkChild(cond.wait())
      yield* Effect.sleep("100 millis")
      expect(yield* lock.locked()).toBe(false)
      yield* cond.withLock(cond.notify())
      expect(yield* Fiber.join(waiter)).toBe(true)
      expect(yield* lock.locked()).toBe(true)
      yield* cond.release()
      expect(yield* lock.locked()).toBe(false)
      const notALock = yield* Effect.flip(Manager.condition(m, (yield* Manager.event(m)) as unknown as Manager.LockProxy))
      expect([notALock.reason, notALock.remoteType]).toEqual(["RemoteError", "TypeError"])
    })))

  it.live("a served Barrier runs its action (a Task) in the manager's process once per pass; a failing action breaks it", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make({ backend: "process", types: { Passes: { factory: T.getPasses, exposed: ["count"] } } })
      const counter = yield* Manager.create<{ count(): { passes: number; pid: number } }>(m, "Passes")
      const b = yield* Manager.barrier(m, 2, undefined, T.countPass)
      for (let pass = 1; pass <= 2; pass++) {
        const [child, mine] = yield* Effect.all([
          Process.run({ target: T.barrierWait, args: [b] }),
          b.wait("20 seconds")
        ], { concurrency: 2 })
        expect([(child as { index: number }).index, mine].sort()).toEqual([0, 1])
        const seen = yield* counter.call("count")
        expect(seen.passes).toBe(pass)
        expect(seen.pid).not.toBe(process.pid)
      }
      // Python: the party that ran the failing action gets its error, the others BrokenBarrierError.
      const failing = yield* Manager.barrier(m, 2, undefined, T.failPass)
      const [child, mine] = yield* Effect.all([
        Process.run({ target: T.barrierWait, args: [failing] }),
        Effect.flip(failing.wait("20 seconds"))
      ], { concurrency: 2 })
      const outcomes = [(child as { error: string }).error, mine.remoteType].sort()
      expect(outcomes).toEqual(["BrokenBarrierError", "RangeError"])
      expect(yield* failing.broken()).toBe(true)
      // A party already released by the last one does not time out while the action runs
      // (Python runs it under the barrier's lock).
      const slow = yield* Manager.barrier(m, 2, undefined, T.slowPass)
      const early = yield* Effect.forkChild(slow.wait("100 millis"))
      yield* Effect.sleep("30 millis")
      const last = yield* slow.wait("5 seconds")
      expect([yield* Fiber.join(early), last].sort()).toEqual([0, 1])
      const notTask = yield* Effect.flip(Manager.barrier(m, 2, undefined, (() => 1) as any))
      expect(notTask.reason).toBe("InvalidOptions")
    })))

  it.live("lock timeouts, RLock ownership, a lock held by a dead process is released", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make()
      const lock = yield* Manager.lock(m)
      expect(yield* lock.acquire()).toBe(true)
      expect(yield* lock.acquire({ block: false })).toBe(false)
      const t0 = Date.now()
      expect(yield* lock.acquire({ timeout: "200 millis" })).toBe(false)
      expect(Date.now() - t0).toBeGreaterThanOrEqual(150)
      yield* lock.release()
      expect((yield* Effect.flip(lock.release())).remoteType).toBe("RuntimeError")
      // A child takes the lock and dies holding it: the manager releases it (Python would hang).
      const exit = yield* Effect.exit(Process.run({ target: T.holdLockAndDie, args: [lock], backend: "process" }))
      expect(Exit.isFailure(exit)).toBe(true)
      expect(yield* lock.acquire({ timeout: "10 seconds" })).toBe(true)
      const v = yield* Manager.value(m, "b", 200)
      expect(yield* v.get()).toBe(-56)
      expect((yield* Effect.flip(v.set(1.5))).remoteType).toBe("TypeError")
    })))

  it.live("an interrupted acquire does not leave the lock taken", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make()
      const lock = yield* Manager.lock(m)
      yield* lock.acquire()
      const waiting = yield* Effect.forkChild(lock.acquire())
      yield* Effect.sleep("100 millis")
      yield* Fiber.interrupt(waiting)
      yield* lock.release()
      expect(yield* lock.locked()).toBe(false)
    })))
})

// A full collection in this (the test's) process; vitest does not start workers with --expose-gc.
v8.setFlagsFromString("--expose-gc")
const gc = vm.runInNewContext("gc") as () => void

/** Collects until `ref` is gone, then lets this process's reference operations reach the server. */
const collect = (ref: WeakRef<object>) =>
  Effect.gen(function*() {
    let gone = false
    for (let i = 0; i < 100 && !gone; i++) {
      // `deref` keeps its target alive to the end of the current job: collect in another one.
      yield* Effect.sleep("10 millis")
      gc()
      yield* Effect.sleep("10 millis")
      gone = ref.deref() === undefined
    }
    expect(gone).toBe(true)
    yield* Effect.sleep("50 millis")
  })

/** The number of objects the manager serves, once it has settled at or below `atMost` (after
 * collections here and in the manager's process), or after 5 seconds. */
const objectsSettled = (m: Manager.Manager, atMost: number) =>
  Effect.gen(function*() {
    let n = Infinity
    for (let i = 0; i < 50; i++) {
      gc()
      yield* m.child!.call(T.collectGarbage, [])
      n = (yield* m.child!.call(stats, [])).objects
      if (n <= atMost) break
      yield* Effect.sleep("100 millis")
    }
    return n
  })

describe("Manager: a referent is freed when its last proxy anywhere is collected (Python's BaseProxy refcounting)", () => {
  it.live("temporary proxies collected here leave the server's object count back at its baseline", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make({ types: counterType })
      const keep = yield* Manager.dict(m)
      const c = yield* Manager.create<T.Counter>(m, "Counter", 1)
      const base = (yield* m.child!.call(stats, [])).objects
      for (let i = 0; i < 200; i++) yield* Effect.asVoid(Manager.list(m, [i, i + 1]))
      // Iterators of served generators are referents too.
      for (let i = 0; i < 20; i++) {
        expect(yield* Manager.collect((yield* c.call("upTo", 4)) as unknown as Manager.IteratorProxy<number>)).toEqual([1, 2, 3])
      }
      expect((yield* m.child!.call(stats, [])).objects).toBeGreaterThan(base)
      expect(yield* objectsSettled(m, base)).toBe(base)
      // What is still referenced here is still served.
      yield* keep.set("ok", 1)
      expect(yield* keep.get("ok")).toBe(1)
    })))

  it.live("a call keeps its proxy's object until answered, and an AsyncResult keeps its Pool (as Python's result references its pool)", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make()
      const base = (yield* m.child!.call(stats, [])).objects
      const gcs = yield* Effect.forkChild(Effect.forever(Effect.andThen(Effect.sleep("20 millis"), Effect.sync(gc))))
      // The dict proxy is reachable only from the call's Effect while the sleep runs.
      const set = yield* Effect.exit(Effect.flatMap(Manager.dict<string, number>(m), (d) => Effect.andThen(Effect.sleep("300 millis"), d.set("k", 1))))
      expect(set._tag).toBe("Success")
      // The pool proxy is collected once applyAsync has answered; the result keeps the pool served.
      let result: WeakRef<object> | undefined
      const slept = yield* Effect.gen(function*() {
        const r = yield* Effect.flatMap(Manager.pool(m, { processes: 1 }), (p) => p.applyAsync(Lean.sleep, [50]))
        result = new WeakRef(r)
        yield* Effect.sleep("300 millis")
        yield* m.child!.call(T.collectGarbage, [])
        expect((yield* m.child!.call(stats, [])).objects).toBe(base + 2)
        return yield* r.get("10 seconds")
      })
      expect(slept).toBe("slept")
      yield* Fiber.interrupt(gcs)
      yield* collect(result!)
      expect(yield* objectsSettled(m, base)).toBe(base)
    })))

  it.live("a nested referent outlives its proxies while its container lives, and goes with it (test_dict_proxy_nested)", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make()
      const base = (yield* m.child!.call(stats, [])).objects
      const q = yield* Manager.queue<Manager.DictProxy<string, number>>(m)
      const outerRef = yield* Effect.gen(function*() {
        const outer = yield* Manager.list<unknown>(m)
        const innerRef = yield* Effect.gen(function*() {
          const supplies = yield* Manager.dict<string, number>(m, { water: 10 })
          const pets = yield* Manager.dict<string, number>(m, { ferrets: 2 })
          yield* outer.append(supplies)
          // In a served queue too: the item keeps its referent.
          yield* q.put(pets)
          return [new WeakRef(supplies), new WeakRef(pets)] as const
        })
        yield* collect(innerRef[0])
        yield* collect(innerRef[1])
        yield* m.child!.call(T.collectGarbage, [])
        expect((yield* m.child!.call(stats, [])).objects).toBe(base + 4)
        const supplies = (yield* outer.get(0)) as Manager.DictProxy<string, number>
        expect(yield* supplies.getItem("water")).toBe(10)
        expect(yield* (yield* q.get()).get("ferrets")).toBe(2)
        return new WeakRef(outer)
      })
      // The container gone (here, then its nested proxies in the manager's process): all freed.
      yield* collect(outerRef)
      expect(yield* objectsSettled(m, base + 1)).toBe(base + 1)
    })))

  it.live.each(["thread", "process"] as const)("a proxy serialised into a message keeps its referent until the receiver decodes it, even once the sender dropped it (%s)", (backend) =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make()
      const base = (yield* m.child!.call(stats, [])).objects
      const [message, ref] = yield* Effect.gen(function*() {
        const l = yield* Manager.list<number>(m, [1, 2, 3])
        return [Codec.encodeUnsafe(l), new WeakRef(l)] as const
      })
      // The sender's proxy is collected and its drop has reached the server: the pin holds it.
      yield* collect(ref)
      expect((yield* m.child!.call(stats, [])).objects).toBe(base + 1)
      expect(yield* Process.run({ target: T.decodeAndRead, args: [message], backend })).toEqual([1, 2, 3])
      // The receiver held it while it used it; it is gone (its process ended) and so is the list.
      expect(yield* objectsSettled(m, base)).toBe(base)
    })))
})

describe("Manager: custom registered types", () => {
  it.live("exposed methods, typed remote errors, generators as iterators, method_to_typeid, initializer", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make({
        types: { ...counterType, Range: { factory: T.makeRange }, Probe: { factory: T.makeProbe } },
        initializer: T.initializer,
        initargs: ["hello", 42]
      })
      const c = yield* Manager.create<T.Counter>(m, "Counter", 5)
      expect(yield* c.call("increment", 2)).toBe(7)
      expect(yield* c.call("value")).toBe(7)
      const notExposed = yield* Effect.flip(c.call("secret"))
      expect(notExposed.reason).toBe("NotExposed")
      expect(notExposed.message).toContain("secret")
      const thrown = yield* Effect.flip(c.call("increment", 5000))
      expect(thrown.reason).toBe("RemoteError")
      expect(thrown.remoteType).toBe("QuotaExceeded")
      expect(thrown.message).toBe("quota of 1000 exceeded")
      expect(thrown.cause).toBeInstanceOf(T.QuotaExceeded)
      expect((thrown.cause as T.QuotaExceeded).limit).toBe(1000)
      const it = yield* c.call("upTo", 5010)
      expect(it).toBeInstanceOf(Manager.IteratorProxy)
      expect((yield* Manager.collect(it as unknown as Manager.IteratorProxy<number>)).length).toBe(3)
      expect(yield* c.call("slow", 50)).toBe(5007)
      const child = yield* c.call("child")
      expect(Manager.isProxy(child)).toBe(true)
      expect(yield* (child as unknown as Manager.BaseProxy<T.Counter>).call("value")).toBe(50070)
      // A factory that is itself a generator function gives an iterator-like served object.
      // Its proxy is an IteratorProxy (Python: `register('baz', baz, proxytype=IteratorProxy)`).
      const range = yield* Manager.create(m, "Range", 4)
      expect(range).toBeInstanceOf(Manager.IteratorProxy)
      expect(yield* range.call("next")).toEqual({ done: false, value: 0 })
      expect(yield* Manager.collect(range as Manager.IteratorProxy<number>)).toEqual([1, 4, 9])
      const unknown = yield* Effect.flip(Manager.create(m, "Nope"))
      expect(unknown.reason).toBe("UnknownType")
      const probe = yield* Manager.create(m, "Probe")
      expect(yield* probe.call("initialized")).toEqual(["hello", 42])
      expect(yield* probe.call("pid")).toBe(process.pid) // thread backend: same OS process
      // The custom proxy works from a child process too.
      const fromChild = yield* Process.run({ target: T.applyOp, args: [c as any, "value", []], backend: "process" })
      expect(fromChild).toEqual({ ok: true, value: 5007 })
    })))

  it.live("options that cannot work are refused before any worker starts, as Pool.make refuses them", () =>
    Effect.scoped(Effect.gen(function*() {
      const notTask = yield* Effect.flip(Manager.make({ initializer: 1 as any }))
      expect([notTask.reason, notTask.message]).toEqual(["InvalidOptions", "initializer must be a Task (define it with Task.make at a module's top level)"])
      const plainFactory = yield* Effect.flip(Manager.make({ types: { Counter: { factory: ((n: number) => n) as any } } }))
      expect(plainFactory.reason).toBe("InvalidOptions")
      expect(plainFactory.message).toContain("'Counter'")
      const { Manager: PManager } = yield* Effect.promise(() => import("@multiproc/primitives/promise"))
      const rejected = yield* Effect.flip(Effect.tryPromise({ try: () => PManager.start({ initializer: "init" as any }), catch: (e) => e as Manager.ManagerError }))
      expect(rejected.reason).toBe("InvalidOptions")
      // The same options with Tasks start.
      const m = yield* Manager.make({ types: counterType, initializer: T.initializer, initargs: [1] })
      expect(yield* (yield* Manager.create<T.Counter>(m, "Counter", 2)).call("value")).toBe(2)
    })))

  it.live.each(["thread", "process"] as const)("scoped shutdown: the manager's worker exits by itself (exit code 0, as Python's test_mymanager_context_prestarted) and proxies fail with ServerGone (%s)", (backend) =>
    Effect.gen(function*() {
      let child: Child.Child | undefined
      const d = yield* Effect.scoped(Effect.gen(function*() {
        const m = yield* Manager.make({ backend, types: counterType })
        child = m.child
        expect(yield* (yield* Manager.create<T.Counter>(m, "Counter", 1)).call("value")).toBe(1)
        return yield* Manager.dict(m)
      }))
      expect(child!.isAlive()).toBe(false)
      expect(child!.exitCode).toBe(0)
      const e = yield* Effect.flip(d.len())
      expect(e.reason).toBe("ServerGone")
    }))

  it.live("ManagerService.layer: one manager for the program, reached as a service; shut down when the layer ends", () =>
    Effect.gen(function*() {
      let child: Child.Child | undefined
      const d = yield* Effect.gen(function*() {
        const m = yield* Manager.ManagerService
        child = m.child
        expect(yield* Manager.ManagerService).toBe(m)
        const d = yield* Manager.dict<string, number>(m)
        yield* d.set("answer", 42)
        expect(yield* d.get("answer")).toBe(42)
        return d
      }).pipe(Effect.provide(Manager.ManagerService.layer()))
      expect(child!.isAlive()).toBe(false)
      expect(child!.exitCode).toBe(0)
      expect((yield* Effect.flip(d.len())).reason).toBe("ServerGone")
      const bad = yield* Effect.flip(Effect.provide(Manager.ManagerService.use(Effect.succeed), Manager.ManagerService.layer({ initializer: "init" as any })))
      expect(bad.reason).toBe("InvalidOptions")
    }))
})

describe("Manager: remote managers over TCP", () => {
  it.live("a remote manager used by two other processes; wrong key fails; restart on the same port at once", () =>
    Effect.gen(function*() {
      const port = yield* Effect.scoped(Effect.gen(function*() {
        const m = yield* Manager.make({ backend: "process", address: { port: 0 }, authkey: "abracadabra", types: { shared: { factory: T.getShared } } })
        expect(m.address!.host).toBe("127.0.0.1")
        const [a, b] = yield* Effect.all([
          Process.run({ target: T.remoteClient, args: [m.address!, "abracadabra", "a", 20], backend: "process" }),
          Process.run({ target: T.remoteClient, args: [m.address!, "abracadabra", "b", 20], backend: "process" })
        ], { concurrency: 2 })
        expect(a.size).toBe(19)
        expect(b.size).toBe(19)
        expect(a.own.get("mine")).toBe(20)
        // Both processes wrote to the one shared object.
        const remote = yield* Manager.connect(m.address!, { authkey: "abracadabra" })
        const shared = yield* Manager.create(remote, "shared")
        expect(yield* shared.call("size")).toBe(40)
        const wrong = yield* Effect.flip(Manager.connect(m.address!, { authkey: "wrong" }))
        expect(wrong.reason).toBe("AuthenticationError")
        expect(wrong.remoteType).toBe("AuthenticationError")
        return m.address!.port
      }))
      // Restart at once on the same port.
      yield* Effect.scoped(Effect.gen(function*() {
        const again = yield* Manager.make({ address: { port }, authkey: "abracadabra" })
        expect(again.address!.port).toBe(port)
        const remote = yield* Manager.connect(again.address!, { authkey: "abracadabra" })
        const d = yield* Manager.dict<string, number>(remote, { ok: 1 })
        expect(yield* d.get("ok")).toBe(1)
        const busy = yield* Effect.flip(Manager.make({ address: { port }, authkey: "x" }))
        expect(busy.reason).toBe("StartFailed")
        expect(busy.message).toContain("already in use")
      }))
    }), 60_000)

  it.live("fuzz: thousands of random, truncated and oversized frames never reach a handler; an authenticated client is served throughout", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make({ address: { port: 0 }, authkey: "fuzz-key", maxFrameSize: 1 << 16, handshakeTimeout: "2 seconds" })
      const remote = yield* Manager.connect(m.address!, { authkey: "fuzz-key" })
      const d = yield* Manager.dict<number, number>(remote)
      let seed = 12345
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff
        return seed % n
      }
      const fuzzOne = (i: number) =>
        new Promise<{ sent: number; got: Buffer }>((resolve) => {
          const socket = net.connect({ host: "127.0.0.1", port: m.address!.port })
          const got: Array<Buffer> = []
          let sent = 0
          socket.on("data", (c) => got.push(c))
          socket.on("error", () => {})
          socket.on("close", () => resolve({ sent, got: Buffer.concat(got) }))
          socket.once("connect", () => {
            const frames = 5 + rand(10)
            for (let f = 0; f < frames; f++) {
              const kind = (i + f) % 4
              const body = Buffer.alloc(rand(300))
              for (let k = 0; k < body.length; k++) body[k] = rand(256)
              const head = Buffer.alloc(4)
              if (kind === 0) head.writeUInt32BE(body.length, 0) // a well-formed frame of garbage
              else if (kind === 1) head.writeUInt32BE(0x7fffffff - rand(1000), 0) // oversized
              else if (kind === 2) head.writeUInt32BE(body.length + 1 + rand(50), 0) // truncated
              socket.write(kind === 3 ? body : Buffer.concat([head, body])) // 3: raw bytes
              sent++
            }
            if (rand(2) === 0) socket.end()
          })
        })
      const fuzzers = Effect.promise(async () => {
        const results: Array<{ sent: number; got: Buffer }> = []
        for (let round = 0; round < 20; round++) {
          results.push(...await Promise.all(Array.from({ length: 20 }, (_, k) => fuzzOne(round * 20 + k))))
        }
        return results
      })
      const client = Effect.gen(function*() {
        let i = 0
        for (; i < 300; i++) {
          yield* d.set(i, i * 2)
          expect(yield* d.get(i)).toBe(i * 2)
        }
        return i
      })
      const [results, served] = yield* Effect.all([fuzzers, client], { concurrency: 2 })
      expect(served).toBe(300)
      const totalFrames = results.reduce((n, r) => n + r.sent, 0)
      expect(totalFrames).toBeGreaterThan(2000)
      for (const r of results) {
        // Nothing but the challenge and possibly the FAILURE verdict (a reset may even discard those).
        if (r.got.length === 0) continue
        expect(r.got.subarray(4, 15).toString()).toBe("#CHALLENGE#")
        const rest = r.got.subarray(4 + r.got.readUInt32BE(0))
        if (rest.length > 0) expect(rest.toString("latin1")).toBe("\x00\x00\x00\x09#FAILURE#")
      }
      expect(yield* d.len()).toBe(300)
      const s = yield* m.child!.call(stats, [])
      expect(s.failedHandshakes).toBe(400)
      expect(s.sessions).toBe(1)
    })), 60_000)
})

describe("Manager: model-based (fast-check commands)", () => {
  type Op = { readonly target: "dict" | "list"; readonly method: string; readonly args: Array<unknown>; readonly client: number }
  type Outcome = { ok: boolean; value?: unknown; error?: string }
  interface Model {
    map: Map<string, number>
    arr: Array<number>
  }
  const applyModel = (model: Model, op: Op): Outcome => {
    const err = (error: string): Outcome => ({ ok: false, error })
    const { map, arr } = model
    const a = op.args as Array<any>
    if (op.target === "dict") {
      switch (op.method) {
        case "set":
          map.set(a[0], a[1])
          return { ok: true, value: undefined }
        case "get":
          return { ok: true, value: map.get(a[0]) }
        case "delete":
          return map.delete(a[0]) ? { ok: true, value: undefined } : err("KeyError")
        case "pop": {
          if (!map.has(a[0])) return err("KeyError")
          const v = map.get(a[0])
          map.delete(a[0])
          return { ok: true, value: v }
        }
        case "len":
          return { ok: true, value: map.size }
      }
    } else {
      const norm = (i: number) => (i < 0 ? i + arr.length : i)
      switch (op.method) {
        case "append":
          arr.push(a[0])
          return { ok: true, value: undefined }
        case "pop":
          return arr.length === 0 ? err("IndexError") : { ok: true, value: arr.pop() }
        case "get": {
          const j = norm(a[0])
          return j < 0 || j >= arr.length ? err("IndexError") : { ok: true, value: arr[j] }
        }
        case "set": {
          const j = norm(a[0])
          if (j < 0 || j >= arr.length) return err("IndexError")
          arr[j] = a[1]
          return { ok: true, value: undefined }
        }
        case "len":
          return { ok: true, value: arr.length }
      }
    }
    throw new Error(`unknown op ${op.method}`)
  }
  const clone = (m: Model): Model => ({ map: new Map(m.map), arr: [...m.arr] })
  const permutations = <A>(xs: Array<A>): Array<Array<A>> =>
    xs.length <= 1 ? [xs] : xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]))
  const same = (a: Outcome, b: Outcome) => a.ok === b.ok && (a.ok ? Object.is(a.value, b.value) || a.value === b.value : a.error === b.error)

  const keyArb = fc.constantFrom("a", "b", "c")
  const opArb = (clients: number): fc.Arbitrary<Op> =>
    fc.oneof(
      fc.tuple(keyArb, fc.integer({ min: 0, max: 9 })).map(([k, v]) => ({ target: "dict", method: "set", args: [k, v] })),
      keyArb.map((k) => ({ target: "dict", method: "get", args: [k] })),
      keyArb.map((k) => ({ target: "dict", method: "delete", args: [k] })),
      keyArb.map((k) => ({ target: "dict", method: "pop", args: [k] })),
      fc.constant({ target: "dict", method: "len", args: [] }),
      fc.integer({ min: 0, max: 9 }).map((v) => ({ target: "list", method: "append", args: [v] })),
      fc.constant({ target: "list", method: "pop", args: [] }),
      fc.integer({ min: -3, max: 3 }).map((i) => ({ target: "list", method: "get", args: [i] })),
      fc.tuple(fc.integer({ min: -3, max: 3 }), fc.integer({ min: 0, max: 9 })).map(([i, v]) => ({ target: "list", method: "set", args: [i, v] })),
      fc.constant({ target: "list", method: "len", args: [] })
    ).chain((op) => fc.integer({ min: 0, max: clients - 1 }).map((client) => ({ ...op, client }) as Op))

  it.live("concurrent clients in several processes are linearizable against a Map / array model", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make()
      const clients = yield* Effect.forEach(["thread", "thread", "process"] as const, (backend) => Child.spawn({ backend, mode: "service" }))
      const run = (d: Manager.DictProxy<string, number>, l: Manager.ListProxy<number>, op: Op) =>
        Effect.runPromise(clients[op.client]!.call(T.applyOp, [op.target === "dict" ? d : l, op.method, op.args]) as unknown as Effect.Effect<Outcome>)
      // Each step is a batch of 1–3 operations from distinct clients, sent at the same time: the
      // observed results must be explained by some order of the batch (they all overlap in time).
      const batchArb = fc.array(opArb(clients.length), { minLength: 1, maxLength: 3 })
        .map((ops) => ops.map((op, i) => ({ ...op, client: i % clients.length })))
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(fc.array(batchArb, { minLength: 1, maxLength: 12 }), async (batches) => {
            const d = await Effect.runPromise(Manager.dict<string, number>(m))
            const l = await Effect.runPromise(Manager.list<number>(m))
            // Every model state some linearization could have reached (orders of one batch can
            // differ in state but agree on the results, so all of them are kept).
            let states: Array<Model> = [{ map: new Map(), arr: [] }]
            const keyOf = (m: Model) => JSON.stringify([[...m.map].sort(), m.arr])
            for (const batch of batches) {
              const observed = await Promise.all(batch.map((op) => run(d, l, op)))
              const next = new Map<string, Model>()
              for (const state of states) {
                for (const order of permutations(batch.map((_, i) => i))) {
                  const candidate = clone(state)
                  const expected = new Array<Outcome>(batch.length)
                  for (const i of order) expected[i] = applyModel(candidate, batch[i]!)
                  if (expected.every((e, i) => same(e, observed[i]!))) next.set(keyOf(candidate), candidate)
                }
              }
              if (next.size === 0) return false
              states = [...next.values()]
            }
            const finalMap = await Effect.runPromise(d.getvalue())
            const finalArr = await Effect.runPromise(l.getvalue())
            return states.some((model) => keyOf(model) === keyOf({ map: finalMap, arr: finalArr }))
          }),
          { numRuns: 40 }
        )
      )
    })), 60_000)
})

describe("Manager: async/await facade", () => {
  it("start, promisified proxies, a child's writes, nested proxies, shutdown", async () => {
    const { Manager: PManager } = await import("@multiproc/primitives/promise")
    let d: any
    {
      await using m = await PManager.start()
      d = await m.dict<string, unknown>({ a: 1 })
      await d.set("b", 2)
      expect(await d.get("a")).toBe(1)
      const l = await m.list<number>([1])
      await d.set("l", l)
      const back = await d.getItem("l")
      await back.append(2)
      expect(await l.getvalue()).toEqual([1, 2])
      expect(await Effect.runPromise(Process.run({ target: T.dictWrites, args: [d, "c", 3] }))).toBe(6)
      expect((await d.keys()).sort()).toEqual(["a", "b", "c0", "c1", "c2", "l"])
      await expect(d.getItem("zz")).rejects.toMatchObject({ _tag: "ManagerError", remoteType: "KeyError" })
      // Many calls in flight at once (no fiber each): values, typed failures, nested proxies.
      const burst = await Promise.allSettled(Array.from({ length: 600 }, (_, i) =>
        i % 200 === 5 ? d.getItem(`none${i}`) : i === 599 ? d.getItem("l") : d.set(`k${i}`, i)
      ))
      expect(burst.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason.remoteType)).toEqual(["KeyError", "KeyError", "KeyError"])
      const nested = (burst[599] as PromiseFulfilledResult<any>).value
      expect(await nested.getvalue()).toEqual([1, 2])
      expect(await d.get("k598")).toBe(598)
      // Async iteration: a list's items (nested proxies promisified), a dict's keys.
      const items: Array<unknown> = []
      for await (const x of await m.list<unknown>([1, "two", l])) items.push(x)
      expect(items.slice(0, 2)).toEqual([1, "two"])
      expect(await (items[2] as typeof l).getvalue()).toEqual([1, 2])
      const keys: Array<string> = []
      for await (const k of await m.dict<string, number>({ a: 1, b: 2 })) keys.push(k)
      expect(keys).toEqual(["a", "b"])
    }
    await expect(d.len()).rejects.toMatchObject({ reason: "ServerGone" })
  })

  it("proxies inside what a call returns are promisified too (CPython test_list: e[:] of a list of lists)", async () => {
    const { Manager: PManager } = await import("@multiproc/primitives/promise")
    await using m = await PManager.start()
    const a = await m.list<unknown>([0, 1]), b = await m.list<unknown>([2])
    const e = await m.list<unknown>([a, b, 3])
    const [ea, eb, three] = await e.getvalue() as [typeof a, typeof b, number]
    await ea.append("hello")
    expect([await a.getvalue(), await eb.getvalue(), three]).toEqual([[0, 1, "hello"], [2], 3])
    const d = await m.dict<string, unknown>({ inner: a, n: 1 })
    const fromItems = (await d.items() as Array<[string, typeof a]>)[0]![1]
    expect(await fromItems.len()).toBe(3)
    expect(await ((await d.copy()).get("inner") as typeof a).get(-1)).toBe("hello")
    const ns = await m.Namespace({ l: b })
    expect(await ((await ns.getvalue()).l as typeof b).len()).toBe(1)
  })

  it("await using a served Pool terminates it at the block's end, as Python's `with manager.Pool() as p:` (TestSyncManagerTypes.test_pool)", async () => {
    const { Manager: PManager } = await import("@multiproc/primitives/promise")
    await using m = await PManager.start()
    let outside: Awaited<ReturnType<typeof m.Pool>>
    {
      await using pool = await m.Pool({ processes: 2 })
      outside = pool
      expect(await pool.map(Lean.square, [1, 2, 3])).toEqual([1, 4, 9])
    }
    await expect(outside.map(Lean.square, [4])).rejects.toMatchObject({ remoteType: "PoolError" })
  })

  it("a registered generator's proxy is async-iterable (list(baz) of CPython's _TestMyManager)", async () => {
    const { Manager: PManager } = await import("@multiproc/primitives/promise")
    await using m = await PManager.start({ types: { baz: { factory: T.makeRange } } })
    const squares: Array<unknown> = []
    for await (const x of await m.create("baz", 10) as unknown as AsyncIterable<number>) squares.push(x)
    expect(squares).toEqual(Array.from({ length: 10 }, (_, i) => i * i))
  })

  it("Condition(lock) uses the given lock", async () => {
    const { Manager: PManager } = await import("@multiproc/primitives/promise")
    await using m = await PManager.start()
    const lock = await m.Lock()
    const cond = await m.Condition(lock)
    await lock.acquire()
    expect(await cond.acquire({ block: false })).toBe(false)
    await lock.release()
    expect(await cond.acquire({ block: false })).toBe(true)
    expect(await lock.locked()).toBe(true)
  })

  it("Barrier(parties, action, timeout) as Python orders them, or Barrier(parties, timeout)", async () => {
    const { Manager: PManager } = await import("@multiproc/primitives/promise")
    await using m = await PManager.start()
    const failing = await m.Barrier(1, T.failPass, 5_000)
    await expect(failing.wait()).rejects.toMatchObject({ remoteType: "RangeError", message: expect.stringContaining("the action failed") })
    expect(await failing.broken()).toBe(true)
    const timed = await m.Barrier(2, 50)
    await expect(timed.wait()).rejects.toMatchObject({ remoteType: "BrokenBarrierError" })
  })

  it("over TCP: promisified calls of a connected client, many in flight, values and typed failures", async () => {
    const { Manager: PManager } = await import("@multiproc/primitives/promise")
    await using server = await PManager.start({ address: { port: 0 }, authkey: "facade-key" })
    await using client = await PManager.connect(server.manager.address!, { authkey: "facade-key" })
    const d = await client.dict<string, number>()
    const out = await Promise.allSettled(Array.from({ length: 300 }, (_, i) => i === 150 ? d.getItem("none") : d.set(`k${i}`, i)))
    expect(out.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason.remoteType)).toEqual(["KeyError"])
    expect(await d.len()).toBe(299)
    expect(await d.getItem("k299")).toBe(299)
  })
})
