/**
 * Bad input from a JS caller (no type checker) gets the module's typed error at the call where it
 * enters, as Python raises ValueError / TypeError there: no raw exception, no silent zero, no hang.
 */
import { describe, expect, it } from "vitest"
import {
  Array as SharedArray,
  Barrier,
  BoundedSemaphore,
  Client,
  Condition,
  Event,
  getContext,
  JoinableQueue,
  Listener,
  Lock,
  Manager,
  Pipe,
  Pool,
  Process,
  Queue,
  RawArray,
  Semaphore,
  SharedMemory,
  SimpleQueue,
  Value
} from "../src/promise/index.ts"
import { makeCounter } from "./fixtures/manager-tasks.ts"
import { add, init, square } from "./fixtures/pool-tasks.ts"

const rejects = async (p: () => unknown, tag: string, reason: string, message: RegExp) => {
  let caught: any
  try {
    await p()
  } catch (e) {
    caught = e
  }
  expect(caught?._tag).toBe(tag)
  expect(caught?.reason).toBe(reason)
  expect(String(caught?.message)).toMatch(message)
}

describe("bad timeouts", () => {
  it("NaN, a string that names no duration and {} are refused, null waits as Python's None", async () => {
    const lock = new Lock()
    await lock.acquire()
    for (const t of [NaN, "x", {}]) {
      await rejects(() => lock.acquire(true, t as any), "LockError", "InvalidArgument", /timeout must be/)
      await rejects(() => new Semaphore(0).acquire(true, t as any), "SemaphoreError", "InvalidArgument", /timeout must be/)
      await rejects(() => new Event().wait(t as any), "EventError", "InvalidArgument", /timeout must be/)
      await rejects(() => new Barrier(2).wait(t as any), "BarrierError", "InvalidArgument", /timeout must be/)
      await rejects(() => new Queue().get({ timeout: t as any }), "QueueError", "InvalidArgument", /timeout must be/)
      await rejects(() => Pipe()[0].poll(t as any), "PipeError", "BadArgument", /timeout must be/)
      const c = new Condition()
      await c.acquire()
      await rejects(() => c.wait(t as any), "ConditionError", "InvalidArgument", /timeout must be/)
    }
    await rejects(() => new Lock().acquire(true, "x" as any), "LockError", "InvalidArgument", /timeout must be/) // free, too
    // A negative timeout is zero, as in Python.
    expect(await lock.acquire(true, -1)).toBe(false)
    // null is Python's None: it waits (here until the event is set).
    const e = new Event()
    const waiting = e.wait(null as any)
    await e.set()
    expect(await waiting).toBe(true)
  })
})

describe("bad counts", () => {
  it("Barrier parties and action, Condition.notify(n)", async () => {
    for (const n of [0, -1, 1.5, NaN, "x", null]) {
      await rejects(() => new Barrier(n as any), "BarrierError", "InvalidArgument", /parties must be an integer >= 1/)
    }
    await rejects(() => new Barrier(2, "f" as any), "BarrierError", "InvalidArgument", /action must be/)
    const c = new Condition()
    await c.acquire()
    for (const n of [NaN, -1, "x", 1.5]) {
      await rejects(() => c.notify(n as any), "ConditionError", "InvalidArgument", /n must be an integer >= 0/)
    }
    // Python's TypeError "'str' object is not callable"; it was a raw TypeError from inside the loop.
    await rejects(() => c.waitFor("nf" as any, 10), "ConditionError", "InvalidArgument", /predicate must be a function, got string/)
    expect(await c.waitFor(() => true)).toBe(true)
    await c.release()
  })

  it("Semaphore / BoundedSemaphore values", async () => {
    for (const v of [-1, NaN, 1.5, "x", null, {}, Infinity]) {
      await rejects(() => new Semaphore(v as any), "SemaphoreError", "InvalidArgument", /value must be an integer in 0\.\./)
      await rejects(() => new BoundedSemaphore(v as any), "SemaphoreError", "InvalidArgument", /value must be an integer in 1\.\./)
    }
    expect(await new Semaphore(0).getValue()).toBe(0)
  })

  it("Queue maxsize, positional get(false), getMany(max), putMany of a non-iterable", async () => {
    for (const m of [NaN, "x", 1.5, {}]) {
      await rejects(() => new Queue({ maxsize: m as any }), "QueueError", "InvalidArgument", /maxsize must be an integer/)
    }
    const q = new Queue<number>({ maxsize: -1 }) // unbounded, as in Python
    await q.put(1)
    await rejects(() => q.get(false as any), "QueueError", "InvalidArgument", /options must be an object/)
    await rejects(() => q.getMany(NaN), "QueueError", "InvalidArgument", /max must be an integer >= 1/)
    await rejects(() => q.putMany(5 as any), "QueueError", "InvalidArgument", /items must be iterable/)
    expect(await q.get()).toBe(1) // nothing was lost
  })

  it("Pool(1): a number is Python's positional processes (it was read as no options: cpuCount workers)", async () => {
    await using pool = new Pool(1)
    expect(pool.processes).toBe(1)
    expect(await pool.map(square, [1, 2, 3])).toEqual([1, 4, 9])
    await using ctxPool = new (getContext("thread").Pool)(1)
    expect(ctxPool.processes).toBe(1)
    await rejects(() => new Pool("2" as any), "PoolError", "InvalidOptions", /options must be an object or a number of processes/)
    await rejects(() => new Pool(0), "PoolError", "InvalidOptions", /at least 1/)
  })

  it("Queue(5) and JoinableQueue(5): a number is Python's positional maxsize (it was read as no options: unbounded)", async () => {
    const q = new Queue<number>(2)
    expect(q.maxsize).toBe(2)
    await q.put(1)
    await q.put(2)
    expect(await q.full()).toBe(true)
    await rejects(() => q.put(3, { block: false }), "QueueError", "Full", /./)
    expect(new JoinableQueue<number>(3).maxsize).toBe(3)
    await rejects(() => new Queue("5" as any), "QueueError", "InvalidArgument", /options must be an object or a maxsize/)
    await rejects(() => new Queue(1.5), "QueueError", "InvalidArgument", /maxsize must be an integer/)
    await rejects(() => new SimpleQueue(5 as any), "QueueError", "InvalidArgument", /options must be an object, got 5/)
  })
})

describe("bytes", () => {
  it("sendBytes / recvBytesInto refuse what is not bytes; recvBytes checks maxlength before reading", async () => {
    const [a, b] = Pipe()
    for (const buf of ["abc", 5, null]) {
      await rejects(() => b.sendBytes(buf as any), "PipeError", "BadArgument", /bytes-like object is required/)
    }
    await rejects(() => b.sendBytes(new Uint8Array(4), 1.5), "PipeError", "BadArgument", /offset must be an integer >= 0, got 1.5/)
    await rejects(() => b.sendBytes(new Uint8Array(4), -1), "PipeError", "BadArgument", /^offset is negative$/)
    await b.sendBytes(new Uint8Array([1, 2, 3]))
    await rejects(() => a.recvBytesInto(5 as any), "PipeError", "BadArgument", /bytes-like object is required/)
    await rejects(() => a.recvBytesInto(new Uint8Array(8), NaN), "PipeError", "BadArgument", /offset must be an integer/)
    await rejects(() => a.recvBytes("x" as any), "PipeError", "BadArgument", /maxlength must be an integer/)
    // null is Python's None: no limit; the message was not lost by the refused calls.
    expect([...await a.recvBytes(null as any)]).toEqual([1, 2, 3])
  })
})

describe("Pool", () => {
  it("map over a non-iterable, args that are not an array, callbacks that are not functions, bad get timeouts", async () => {
    await using pool = new Pool({ processes: 1 })
    for (const it of [5, null]) {
      await rejects(() => pool.map(square, it as any), "PoolError", "InvalidOptions", /iterable must be iterable/)
      await rejects(() => pool.mapAsync(square, it as any), "PoolError", "InvalidOptions", /iterable must be iterable/)
    }
    await rejects(async () => {
      for await (const _ of pool.imap(square, 5 as any)) { /* nothing */ }
    }, "PoolError", "InvalidOptions", /iterable must be iterable/)
    await rejects(() => pool.apply(add, 5 as any), "PoolError", "InvalidOptions", /args must be an array/)
    await rejects(() => pool.applyAsync(add, 5 as any), "PoolError", "InvalidOptions", /args must be an array/)
    await rejects(() => pool.applyAsync(square, [2], { callback: "x" as any }), "PoolError", "InvalidOptions", /callback must be a function/)
    await rejects(() => pool.mapAsync(square, [2], { errorCallback: 5 as any }), "PoolError", "InvalidOptions", /errorCallback must be a function/)
    const r = pool.applyAsync(square, [3])
    for (const t of [NaN, "x", {}]) {
      await rejects(() => r.get(t as any), "PoolError", "InvalidOptions", /timeout must be/)
    }
    expect(await r.get(null as any)).toBe(9) // null is Python's None; the pool still runs
    expect(await pool.map(square, [4])).toEqual([16])
  })

  it("a chunksize that is no positive integer is refused at the call, for an empty input too (Python's map_async with chunksize=0 gave a list of None)", async () => {
    await using pool = new Pool({ processes: 1 })
    const message = /chunksize must be a positive integer/
    for (const chunksize of [0, -1, 1.5, "2", NaN, Infinity] as Array<any>) {
      for (const input of [[1, 2, 3], []]) {
        const pairs = input.map((x): [number, number] => [x, x])
        await rejects(() => pool.map(square, input, { chunksize }), "PoolError", "InvalidOptions", message)
        await rejects(() => pool.starmap(add, pairs, { chunksize }), "PoolError", "InvalidOptions", message)
        await rejects(() => pool.mapAsync(square, input, { chunksize }), "PoolError", "InvalidOptions", message)
        await rejects(() => pool.starmapAsync(add, pairs, { chunksize }), "PoolError", "InvalidOptions", message)
        await rejects(async () => {
          for await (const _ of pool.imap(square, input, { chunksize })) { /* nothing */ }
        }, "PoolError", "InvalidOptions", message)
        await rejects(async () => {
          for await (const _ of pool.imapUnordered(square, input, { chunksize })) { /* nothing */ }
        }, "PoolError", "InvalidOptions", message)
      }
    }
    await rejects(() => pool.map(square, [], { chunksize: "2" as any }), "PoolError", "InvalidOptions", /\(got "2"\)/)
    expect(await pool.map(square, [2], { chunksize: null as any })).toEqual([4]) // Python's None
    expect(await pool.mapAsync(square, [], { chunksize: 1 }).get()).toEqual([])
  })
})

describe("backends and initargs", () => {
  it("a backend other than \"thread\" or \"process\" is refused (it ran on the process backend); initargs that are not an array fail at construction (workers failed to boot)", async () => {
    for (const backend of ["fork", "spawn", 5, ""] as Array<any>) {
      await rejects(() => new Pool({ processes: 1, backend }), "PoolError", "InvalidOptions", /backend must be "thread" or "process", got/)
      await rejects(() => new Process({ target: square, args: [1], backend }), "ProcessError", "InvalidArgument", /backend must be "thread" or "process", got/)
      await rejects(() => Manager.start({ backend }), "ManagerError", "InvalidOptions", /backend must be "thread" or "process", got/)
    }
    await rejects(() => new Pool({ processes: 1, backend: "fork" as any }), "PoolError", "InvalidOptions", /got "fork"/)
    await rejects(() => new Pool({ processes: 1, initializer: init, initargs: 5 as any }), "PoolError", "InvalidOptions", /initargs must be an array, got 5/)
    await rejects(() => new Pool({ processes: "2" as any }), "PoolError", "InvalidOptions", /Number of processes must be at least 1 \(got "2"\)/)
    // null is Python's None: the default, for maxTasksPerChild (no limit) as for processes.
    await using pool = new Pool({ processes: null as any, maxTasksPerChild: null as any, backend: undefined })
    expect(await pool.map(square, [1, 2])).toEqual([1, 4])
  })
})

describe("unknown option names", () => {
  it("a misspelt Pool, Queue or Pipe option is refused instead of ignored", async () => {
    await rejects(() => new Pool({ proceses: 2 } as any), "PoolError", "InvalidOptions", /unknown option 'proceses'/)
    await rejects(() => new Pool({ processes: 1, taskTimeout: "x" as any }), "PoolError", "InvalidOptions", /timeout must be/)
    await rejects(() => new Queue({ maxsiz: 1 } as any), "QueueError", "InvalidArgument", /unknown option 'maxsiz'/)
    await rejects(() => new SimpleQueue({ maxsize: 1 } as any), "QueueError", "InvalidArgument", /unknown option 'maxsize'/)
    await rejects(() => Pipe({ duplx: false } as any), "PipeError", "BadArgument", /unknown option 'duplx' \(known: duplex\)/)
  })
})

describe("Process, Connection, Condition", () => {
  it("Process name that is not a string; join timeouts that are NaN, {} or no duration", async () => {
    await rejects(() => new Process({ target: square, args: [1], name: 5 as any }), "ProcessError", "InvalidArgument", /name must be a string, got number/)
    const p = new Process({ target: square, args: [2] })
    await p.start()
    for (const t of [NaN, "x", {}]) {
      await rejects(() => p.join(t as any), "ProcessError", "InvalidArgument", /timeout must be/)
    }
    await p.join(null as any) // Python's None: waits
    expect(p.exitCode).toBe(0)
  })

  it("Listener / Client authkey that is neither a string nor bytes", async () => {
    await rejects(() => Listener.listen({ authkey: 5 as any }), "ConnectionError", "BadArgument", /authkey must be a string or a Uint8Array, got 5/)
    await rejects(() => Client(["127.0.0.1", 1], { authkey: {} as any }), "ConnectionError", "BadArgument", /authkey must be/)
  })

  it("a misspelt Listener or Client option (authKey) is refused: it was ignored, and both ends silently used the default key", async () => {
    await rejects(() => Listener.listen({ authKey: "secret" } as any), "ConnectionError", "BadArgument", /unknown option 'authKey' \(known: .*authkey/)
    await using listener = await Listener.listen({ backlog: 5, authkey: "secret" })
    await rejects(() => Client(listener.address, { authKey: "secret" } as any), "ConnectionError", "BadArgument", /unknown option 'authKey'/)
  })

  it("Condition over something that is not a lock", async () => {
    await rejects(() => new Condition("x" as any), "ConditionError", "InvalidArgument", /lock must be a Lock or an RLock, got "x"/)
    const c = new Condition(new Lock())
    expect(await c.acquire()).toBe(true)
  })
})

describe("Manager", () => {
  it("a registered type with exposed that is not an array of names, or a type that is no object, fails before the server starts", async () => {
    await rejects(() => Manager.start({ types: { C: { factory: makeCounter, exposed: "inc" as any } } }), "ManagerError", "InvalidOptions", /exposed methods of type 'C' must be an array/)
    await rejects(() => Manager.start({ types: { C: { factory: makeCounter, exposed: [5] as any } } }), "ManagerError", "InvalidOptions", /exposed methods of type 'C'/)
    await rejects(() => Manager.start({ types: { C: 5 as any } }), "ManagerError", "InvalidOptions", /the type 'C' must be an object/)
  })
})

describe("SharedValue", () => {
  it("slice indices that are no integers, a typecode that is no string", async () => {
    const a = RawArray<number>("i", [1, 2, 3])
    for (const i of ["x", NaN, 1.5]) {
      expect(() => a.slice(i as any)).toThrow(/slice indices must be integers or None/)
      await rejects(() => a.slice(0, 3, i as any), "SharedValueError", "TypeError", /slice indices must be integers/)
    }
    expect(a.slice(-Infinity, Infinity)).toEqual([1, 2, 3])
    await rejects(() => new SharedArray(5 as any, 3), "SharedValueError", "TypeError", /bad typecode/)
    await rejects(() => new Value(5 as any, 3), "SharedValueError", "TypeError", /bad typecode/)
  })
})

describe("SharedMemory", () => {
  it("a name that is not a string", async () => {
    await rejects(() => SharedMemory.create({ name: 5 as any, size: 4 }), "SharedMemoryError", "ValueError", /name must be a string, got number/)
    await rejects(() => SharedMemory.attach(5 as any), "SharedMemoryError", "ValueError", /name must be a string, got number/)
  })
})

describe("acquire with Python's keywords as an object", () => {
  it("acquire({ timeout }), acquire({ block: false }); acquire(0) / acquire(null) do not wait, as Python reads `if block:`", async () => {
    // Held: a Lock, a Semaphore at 0, a Condition over a held Lock (its default RLock, and a
    // Value's, are re-entrant for this process).
    const lock = new Lock()
    await lock.acquire()
    const condLock = new Lock()
    await condLock.acquire()
    for (const x of [lock, new Semaphore(0), new Condition(condLock)]) {
      const t0 = performance.now()
      expect(await x.acquire({ timeout: 50 })).toBe(false)
      expect(performance.now() - t0).toBeGreaterThanOrEqual(40)
      const t1 = performance.now()
      expect(await x.acquire({ block: false })).toBe(false)
      expect(await x.acquire(0 as any)).toBe(false)
      expect(await x.acquire(null as any)).toBe(false)
      expect(performance.now() - t1).toBeLessThan(40)
    }
    // Free ones are taken with the keywords form too.
    for (const x of [new Lock(), new Semaphore(1), new Condition(), new Value("i", 0).getLock()]) {
      expect(await x.acquire({ block: true, timeout: 1000 })).toBe(true)
    }
  })

  it("an unknown keyword (it waited for ever) or a timeout given twice is refused", async () => {
    await rejects(() => new Lock().acquire({ timout: 1 } as any), "LockError", "InvalidArgument", /unknown option 'timout'/)
    await rejects(() => new Semaphore(0).acquire({ timout: 1 } as any), "SemaphoreError", "InvalidArgument", /unknown option 'timout'/)
    await rejects(() => new Condition().acquire({ blocking: false } as any), "ConditionError", "InvalidArgument", /unknown option 'blocking'/)
    await rejects(() => new Value("i", 0).getLock().acquire({ timout: 1 } as any), "SharedValueError", "TypeError", /unknown option 'timout'/)
    await rejects(() => new Lock().acquire({ timeout: 1 }, 2), "LockError", "InvalidArgument", /given both/)
  })
})
