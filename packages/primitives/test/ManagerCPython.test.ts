// CPython's _TestContainers, TestSyncManagerTypes, _TestMyManager and _TestRemoteManager
// (Lib/test/_test_multiprocessing.py), ported: the same values and steps, Effect and async/await.
import { describe, expect, it, layer } from "@effect/vitest"
import { Manager, Process } from "@multiproc/primitives"
import { Manager as PManager, Process as PProcess } from "@multiproc/primitives/promise"
import { Effect } from "effect"
import * as T from "./fixtures/manager-cpython-tasks.ts"

function* range(n: number) {
  for (let i = 0; i < n; i++) yield i
}

// One manager for the class, as CPython's manager tests share one.
layer(Manager.ManagerService.layer(), { excludeTestServices: true })("CPython _TestContainers", (it) => {
  it.effect("test_list: slices, extend, *=, +, lists of list proxies see later appends", () =>
    Effect.gen(function*() {
      const m = yield* Manager.ManagerService
      const a = yield* Manager.list<unknown>(m, range(10))
      expect(yield* a.slice()).toEqual([...range(10)])
      const b = yield* Manager.list<number>(m)
      expect(yield* b.slice()).toEqual([])
      yield* b.extend(range(5)) // any iterable, as Python's list(range(5))
      expect(yield* b.slice()).toEqual([0, 1, 2, 3, 4])
      expect(yield* b.get(2)).toBe(2)
      expect(yield* b.slice(2, 10)).toEqual([2, 3, 4])
      yield* b.imul(2)
      expect(yield* b.slice()).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4])
      expect([...(yield* b.copy()), 5, 6]).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6]) // b + [5, 6]
      expect(yield* a.slice()).toEqual([...range(10)])
      const e = yield* Manager.list<Manager.ListProxy<unknown>>(m, [a, b] as Array<Manager.ListProxy<unknown>>)
      const inner = yield* e.getvalue()
      expect(yield* Effect.forEach(inner, (x) => x.slice())).toEqual([[...range(10)], [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]])
      const f = yield* Manager.list<Manager.ListProxy<unknown>>(m, [a])
      yield* a.append("hello")
      expect(yield* (yield* f.get(0)).slice()).toEqual([...range(10), "hello"])
    }))

  it.effect("test_list_iter: an exhausted iterator stays so; a new one sees a[0] changed meanwhile", () =>
    Effect.gen(function*() {
      const m = yield* Manager.ManagerService
      const a = yield* Manager.list<number>(m, range(10))
      const it = yield* a.iter()
      expect(yield* Manager.collect(it)).toEqual([...range(10)])
      expect(yield* Manager.collect(it)).toEqual([])
      const again = yield* a.iter()
      yield* a.set(0, 100)
      expect(yield* again.next()).toEqual({ done: false, value: 100 })
    }))

  it.effect("test_list_proxy_in_list: each inner list is its own; a list that holds itself", () =>
    Effect.gen(function*() {
      const m = yield* Manager.ManagerService
      const inner = yield* Effect.forEach([0, 1, 2], () => Manager.list<number>(m, range(3)))
      const a = yield* Manager.list<Manager.ListProxy<number>>(m, inner)
      expect(yield* Effect.forEach(yield* a.getvalue(), (x) => x.slice())).toEqual([[0, 1, 2], [0, 1, 2], [0, 1, 2]])
      yield* (yield* a.get(0)).set(-1, 55)
      expect(yield* (yield* a.get(0)).slice()).toEqual([0, 1, 55])
      for (const i of [1, 2]) expect(yield* (yield* a.get(i)).slice()).toEqual([0, 1, 2])
      expect(yield* (yield* a.get(1)).pop()).toBe(2)
      expect(yield* (yield* a.get(1)).len()).toBe(2)
      for (const i of [0, 2]) expect(yield* (yield* a.get(i)).len()).toBe(3)
      const b = yield* Manager.list<unknown>(m)
      yield* b.append(b)
      expect(yield* b.len()).toBe(1)
      expect(yield* b.contains(b)).toBe(true)
      yield* b.drop()
    }))

  it.effect("test_dict: copy, keys, values, items; update from any iterable of pairs, and Python's errors for what is no pair", () =>
    Effect.gen(function*() {
      const m = yield* Manager.ManagerService
      const d = yield* Manager.dict<number, string>(m)
      const indices = [65, 66, 67, 68, 69]
      for (const i of indices) yield* d.set(i, String.fromCharCode(i))
      expect(yield* d.copy()).toEqual(new Map(indices.map((i) => [i, String.fromCharCode(i)])))
      expect((yield* d.keys()).sort()).toEqual(indices)
      expect((yield* d.values()).sort()).toEqual(indices.map((i) => String.fromCharCode(i)))
      expect((yield* d.items()).sort()).toEqual(indices.map((i) => [i, String.fromCharCode(i)]))
      yield* d.update((function*() {
        yield [70, "F"] as const
      })())
      yield* d.update(new Map([[71, "G"]]).entries())
      expect(yield* d.get(70)).toBe("F")
      expect(yield* d.get(71)).toBe("G")
      const fromPairs = yield* Manager.dict<string, number>(m, new Map([["x", 1]]).entries())
      expect(yield* fromPairs.items()).toEqual([["x", 1]])
      const notPair = yield* Effect.flip(d.update([1, 2] as any))
      expect([notPair.remoteType, notPair.message]).toEqual(["TypeError", "cannot convert dictionary update sequence element #0 to a sequence"])
      const triple = yield* Effect.flip(d.update([[1, "a", "b"]] as any))
      expect([triple.remoteType, triple.message]).toEqual(["ValueError", "dictionary update sequence element #0 has length 3; 2 is required"])
      const aSet = yield* Effect.flip(d.update(new Set([1, 2]) as any))
      expect(aSet.remoteType).toBe("TypeError")
      expect(yield* d.len()).toBe(7) // nothing of a refused update was stored
    }))

  it.effect("test_dict_proxy_nested: writes through nested proxies, a cleared outer dict, dicts in a list, a plain list inside", () =>
    Effect.gen(function*() {
      const m = yield* Manager.ManagerService
      const pets = yield* Manager.dict<string, number>(m, { ferrets: 2, hamsters: 4 })
      const supplies = yield* Manager.dict<string, number>(m, { water: 10, feed: 3 })
      const d = yield* Manager.dict<string, Manager.DictProxy<string, number>>(m, { pets, supplies })
      expect(yield* supplies.getItem("water")).toBe(10)
      expect(yield* (yield* d.getItem("supplies")).getItem("water")).toBe(10)
      yield* (yield* d.getItem("supplies")).set("blankets", 5)
      expect(yield* supplies.getItem("blankets")).toBe(5)
      yield* (yield* d.getItem("supplies")).set("water", 7)
      expect(yield* supplies.getItem("water")).toBe(7)
      expect(yield* (yield* d.getItem("pets")).getItem("ferrets")).toBe(2)
      const pets2 = yield* d.getItem("pets")
      const supplies2 = yield* d.getItem("supplies")
      yield* d.clear()
      expect(yield* d.len()).toBe(0)
      expect(yield* supplies2.getItem("water")).toBe(7)
      expect(yield* pets2.getItem("hamsters")).toBe(4)
      const l = yield* Manager.list<Manager.DictProxy<string, number>>(m, [pets2, supplies2])
      yield* (yield* l.get(0)).set("marmots", 1)
      expect(yield* pets2.getItem("marmots")).toBe(1)
      expect(yield* (yield* l.get(0)).getItem("marmots")).toBe(1)
      const outer = yield* Manager.list<unknown>(m, [[88, 99], l])
      expect(yield* outer.get(0)).toEqual([88, 99]) // not a ListProxy
      const last = (yield* outer.get(-1)) as Manager.ListProxy<Manager.DictProxy<string, number>>
      expect(yield* (yield* last.get(-1)).getItem("feed")).toBe(3)
    }))

  it.effect("test_nested_queue: a queue inside a list and inside a dict", () =>
    Effect.gen(function*() {
      const m = yield* Manager.ManagerService
      const a = yield* Manager.list<Manager.QueueProxy<number>>(m)
      yield* a.append(yield* Manager.queue<number>(m))
      yield* (yield* a.get(0)).put(123)
      expect(yield* (yield* a.get(0)).get()).toBe(123)
      const b = yield* Manager.dict<number, Manager.QueueProxy<number>>(m)
      yield* b.set(0, yield* Manager.queue<number>(m))
      yield* (yield* b.getItem(0)).put(456)
      expect(yield* (yield* b.getItem(0)).get()).toBe(456)
    }))

  it.effect("a proxy where Python takes any iterable: extend by a list, an array, a dict (its keys), itself; update by a dict proxy", () =>
    Effect.gen(function*() {
      const m = yield* Manager.ManagerService
      const a = yield* Manager.list<unknown>(m, [1, 2])
      const other = yield* Manager.list<unknown>(m, ["x"])
      yield* a.extend(other)
      yield* a.extend(yield* Manager.array(m, "i", [3]))
      yield* a.extend((yield* Manager.dict<string, number>(m, { k: 0 })) as unknown as Manager.DictProxy<unknown, unknown>)
      expect(yield* a.getvalue()).toEqual([1, 2, "x", 3, "k"])
      yield* a.extend(a) // Python's `l.extend(l)` through a proxy never ends; here it doubles the list
      expect(yield* a.len()).toBe(10)
      yield* a.setSlice(0, 10, other)
      expect(yield* a.getvalue()).toEqual(["x"])
      const d = yield* Manager.dict<string, number>(m, { a: 1 })
      yield* d.update(yield* Manager.dict<string, number>(m, { b: 2 }))
      expect(yield* d.getvalue()).toEqual(new Map([["a", 1], ["b", 2]]))
    }))

  it.effect("setSlice, ArrayProxy and Array() take any iterable too", () =>
    Effect.gen(function*() {
      const m = yield* Manager.ManagerService
      const l = yield* Manager.list<number>(m, [9, 9, 9])
      yield* l.setSlice(0, 2, range(4))
      expect(yield* l.getvalue()).toEqual([0, 1, 2, 3, 9])
      const arr = yield* Manager.array(m, "i", range(3))
      expect(yield* arr.getvalue()).toEqual([0, 1, 2])
      yield* arr.setSlice(null, null, new Set([7, 8, 9]))
      expect(yield* arr.getvalue()).toEqual([7, 8, 9])
      expect((yield* Effect.flip(Manager.list(m, 5 as any))).remoteType).toBe("TypeError")
    }))

})

describe("CPython _TestContainers: async/await", () => {
  it("async/await: extend and update with generators, nested proxies in a list", async () => {
    await using m = await PManager.start()
    const b = await m.list<number>()
    await b.extend(range(5))
    expect(await b.slice()).toEqual([0, 1, 2, 3, 4])
    const d = await m.dict<string, number>()
    await d.update(new Map([["a", 1]]).entries())
    expect(await d.items()).toEqual([["a", 1]])
    // A promisified proxy is accepted wherever its Effect proxy is, by the types too.
    await b.extend(await m.list<number>([5]))
    await d.update(await m.dict<string, number>({ b: 2 }))
    expect([await b.get(-1), await d.getItem("b")]).toEqual([5, 2])
    await b.extend(await m.Array("i", [6]))
    await b.extend(await m.dict<number, string>(new Map([[7, "seven"]]))) // a dict's keys
    await b.setSlice(0, 1, await m.list([-1]))
    expect(await b.slice()).toEqual([-1, 1, 2, 3, 4, 5, 6, 7])
    const lock = await m.Lock()
    const held = await m.dict<string, Manager.LockProxy>()
    await held.set("lock", lock) // a value typed as a proxy takes the promisified one
    const cond = await m.Condition(lock)
    expect(await cond.acquire()).toBe(true)
    await cond.release()
    const refused = async () => {
      // @ts-expect-error a list of strings is no list of numbers
      await b.extend(await m.list<string>(["x"]))
      // @ts-expect-error a lock is not iterable
      await b.extend(lock)
      // @ts-expect-error a dict of numbers is no update of a dict of strings to numbers
      await d.update(await m.dict<number, number>())
      // @ts-expect-error a list is no lock
      await held.set("lock", b)
    }
    expect(refused).toBeTypeOf("function")
    const q = await m.Queue<number>()
    const a = await m.list<unknown>([q])
    await (await a.get(0) as typeof q).put(123)
    expect(await q.get()).toBe(123)
  })
})

describe.each(["thread", "process"] as const)("CPython TestSyncManagerTypes (%s child)", (backend) => {
  it.live("every type used from a child, with the parent's steps before and after", () =>
    Effect.scoped(Effect.gen(function*() {
      const m = yield* Manager.make()
      const o: T.SyncObjects = {
        event: yield* Manager.event(m),
        lock: yield* Manager.lock(m),
        rlock: yield* Manager.rlock(m),
        semaphore: yield* Manager.semaphore(m),
        boundedSemaphore: yield* Manager.boundedSemaphore(m),
        condition: yield* Manager.condition(m),
        barrier: yield* Manager.barrier(m, 5),
        pool: yield* Manager.pool(m, { processes: 1 }),
        queue: yield* Manager.queue<number>(m, 2),
        joinableQueue: yield* Manager.joinableQueue<number>(m, 2),
        list: yield* Manager.list<number>(m),
        dict: yield* Manager.dict<string, number>(m),
        value: yield* Manager.value(m, "i", 1),
        array: yield* Manager.array(m, "i", [0, 1]),
        namespace: yield* Manager.namespace(m)
      }
      yield* o.event.set()
      for (const q of [o.queue, o.joinableQueue]) {
        yield* q.put(5)
        yield* q.put(6)
      }
      yield* o.list.append(5)
      yield* o.dict.set("foo", 5)
      yield* o.namespace.set("x", 0)
      yield* o.namespace.set("y", 1)
      expect(yield* Process.run({ target: T.syncManagerTypes, args: [o], backend })).toBe("ok")
      expect(yield* o.event.isSet()).toBe(false)
      expect(yield* o.event.wait(1)).toBe(false)
      // The child ended holding the Lock. Python leaves it locked (the parent's release then works,
      // a second fails); the manager releases it here, so the first release already fails.
      const released = yield* Effect.flip(o.lock.release())
      expect([released.remoteType, yield* o.lock.locked()]).toEqual(["RuntimeError", false])
      // A semaphore's permit taken by the child stays taken, as in Python: the parent gives it back.
      expect(yield* o.semaphore.getValue()).toBe(0)
      yield* o.semaphore.release()
      yield* o.boundedSemaphore.release()
      expect(yield* o.semaphore.getValue()).toBe(1)
      for (const q of [o.queue, o.joinableQueue]) expect([yield* q.empty(), yield* q.full()]).toEqual([true, false])
      expect(yield* o.list.len()).toBe(0)
      expect(yield* o.dict.len()).toBe(0)
      expect(yield* o.value.get()).toBe(2)
      expect((yield* Effect.flip(o.pool.apply(T.makeFooBar, []))).remoteType).toBe("PoolError") // terminated by the child
    })), 60_000)
})

describe("CPython TestSyncManagerTypes: async/await", () => {
  it("a child's _test_list / _test_dict through promisified proxies (process backend)", async () => {
    await using m = await PManager.start()
    const l = await m.list<number>([5])
    const d = await m.dict<string, number>({ foo: 5 })
    const p = new PProcess({ target: T.syncContainersAsync, args: [l, d], backend: "process" })
    await p.start()
    expect(await p.join()).toBe(0)
    expect(await p.result()).toBe("ok")
    expect([await l.len(), await d.len()]).toEqual([0, 0])
  })
})

describe("CPython _TestMyManager / _TestRemoteManager", () => {
  const types = {
    Foo: { factory: T.makeFooBar },
    Bar: { factory: T.makeFooBar, exposed: ["f", "_h"] },
    baz: { factory: T.baz }
  }

  it.live.each(["thread", "process"] as const)("test_mymanager (%s): public methods by default, exposed ones only, a generator as an iterator; exit code 0 at shutdown", (backend) =>
    Effect.gen(function*() {
      const m = yield* Effect.scoped(Effect.gen(function*() {
        const m = yield* Manager.make({ backend, types })
        const foo = yield* Manager.create<T.FooBar>(m, "Foo")
        const bar = yield* Manager.create<T.FooBar>(m, "Bar")
        const baz = yield* Manager.create(m, "baz")
        expect(yield* foo.call("f")).toBe("f()")
        const g = yield* Effect.flip(foo.call("g"))
        expect([g.reason, g.remoteType]).toEqual(["RemoteError", "ValueError"])
        expect((yield* Effect.flip(foo.call("_h"))).reason).toBe("NotExposed")
        expect(yield* bar.call("f")).toBe("f()")
        expect(yield* bar.call("_h")).toBe("_h()")
        expect((yield* Effect.flip(bar.call("g"))).reason).toBe("NotExposed")
        expect(yield* Manager.collect(baz as Manager.IteratorProxy<number>)).toEqual([...range(10)].map((i) => i * i))
        return m
      }))
      expect(m.child!.exitCode).toBe(0)
    }))

  it("async/await: test_mymanager_context", async () => {
    let child: PManager["manager"]["child"]
    {
      await using m = await PManager.start({ types })
      child = m.manager.child
      const foo = await m.create<T.FooBar>("Foo")
      expect(await foo.call("f")).toBe("f()")
      await expect(foo.call("_h")).rejects.toMatchObject({ reason: "NotExposed" })
      const squares: Array<unknown> = []
      for await (const x of await m.create("baz") as unknown as AsyncIterable<number>) squares.push(x)
      expect(squares).toEqual([...range(10)].map((i) => i * i))
    }
    expect(child!.exitCode).toBe(0)
  })

  it.live("test_remote: a child connects by address and key and puts Python's values; a value that cannot cross fails its own call", () =>
    Effect.scoped(Effect.gen(function*() {
      const authkey = "remote-test-key"
      const m = yield* Manager.make({ backend: "process", address: { port: 0 }, authkey, types: { get_queue: { factory: T.getQueue } } })
      const values = ["hello world", null, true, 2.25, "hallå världen", "привіт світ", Uint8Array.from("hallå världen", (c) => c.charCodeAt(0))]
      yield* Process.run({ target: T.putter, args: [m.address!, authkey, values], backend: "process" })
      const remote = yield* Manager.connect(m.address!, { authkey })
      const queue = yield* Manager.create(remote, "get_queue")
      expect(yield* queue.call("get")).toEqual(values)
      const refused = yield* Effect.flip(queue.call("put", () => 1))
      expect(refused.reason).toBe("BadRequest")
      yield* queue.call("put", "still served")
      expect(yield* queue.call("get")).toBe("still served")
    })), 60_000)
})
