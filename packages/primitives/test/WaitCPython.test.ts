// CPython's TestWait (Lib/test/_test_multiprocessing.py): `multiprocessing.connection.wait` over
// pipe connections, network connections and process sentinels, through the async/await API.
import { describe, expect, it } from "vitest"
import { Listener, Pipe, Process, Semaphore, wait } from "@multiproc/primitives/promise"
import * as T from "./fixtures/wait-cpython-tasks.ts"

const text = (b: Uint8Array) => new TextDecoder().decode(b)

describe("CPython TestWait", () => {
  for (const [backend, slowMs] of [["process", 0], ["thread", 10]] as const) {
    it(`test_wait${slowMs > 0 ? "_slow" : ""} (${backend}): four children's pipes read through wait until each is at end-of-file`, async () => {
      let readers: Array<ReturnType<typeof Pipe>[0]> = []
      const procs: Array<Process<any>> = []
      for (let i = 0; i < 4; i++) {
        const [r, w] = Pipe(false)
        const p = new Process({ target: T.childTestWait, args: [w, slowMs], daemon: true, backend })
        await p.start()
        await w.close()
        readers.push(r)
        procs.push(p)
      }
      const messages: Array<[number, string]> = []
      while (readers.length > 0) {
        for (const r of await wait(readers)) {
          try {
            messages.push(await r.recv() as [number, string])
          } catch (e: any) {
            expect(e.reason).toBe("EOF")
            readers = readers.filter((x) => x !== r)
            await r.close()
          }
        }
      }
      const key = ([i, name]: [number, string]) => `${name}/${String(i).padStart(2, "0")}`
      const expected = procs.flatMap((p) => Array.from({ length: 10 }, (_, i): [number, string] => [i, p.name]))
      expect(messages.map(key).sort()).toEqual(expected.map(key).sort())
      for (const p of procs) expect(await p.join()).toBe(0)
    })

    it(`test_wait_socket${slowMs > 0 ? "_slow" : ""} (${backend}): four children's network connections read through wait`, async () => {
      const listener = await Listener.listen({})
      const procs: Array<Process<any>> = []
      for (let i = 0; i < 4; i++) {
        const p = new Process({ target: T.childTestWaitSocket, args: [listener.address, slowMs], daemon: true, backend })
        await p.start()
        procs.push(p)
      }
      let readers = [await listener.accept(), await listener.accept(), await listener.accept(), await listener.accept()]
      await listener.close()
      const got = new Map(readers.map((r) => [r, ""]))
      while (readers.length > 0) {
        for (const r of await wait(readers)) {
          try {
            got.set(r, got.get(r)! + text(await r.recvBytes()))
          } catch (e: any) {
            expect(e.reason).toBe("EOF")
            readers = readers.filter((x) => x !== r)
            await r.close()
          }
        }
      }
      const expected = Array.from({ length: 10 }, (_, i) => `${i}\n`).join("")
      expect([...got.values()]).toEqual([expected, expected, expected, expected])
      for (const p of procs) expect(await p.join()).toBe(0)
    })
  }

  it("test_wait_timeout: nothing ready gives [] after the timeout; then the end that has a message", async () => {
    const [a, b] = Pipe()
    const start = performance.now()
    expect(await wait([a, b], 200)).toEqual([])
    expect(performance.now() - start).toBeGreaterThan(190)
    await b.send(null)
    expect(await wait([a, b], 20_000)).toEqual([a])
  })

  it("test_wait_integer: a process sentinel mixed with connections, ready once the process ends", async () => {
    const expected = 400
    const sem = new Semaphore(0)
    const [a, b] = Pipe()
    const p = new Process({ target: T.signalAndSleep, args: [sem, expected], backend: "thread" })
    await p.start()
    expect(await sem.acquire(true, 20_000)).toBe(true)

    let start = performance.now()
    expect(await wait([a, p.sentinel, b], expected + 20_000)).toEqual([p.sentinel])
    const delta = performance.now() - start
    expect(delta).toBeGreaterThan(expected - 200)
    expect(delta).toBeLessThan(expected + 2000)

    await a.send(null)
    start = performance.now()
    expect(await wait([a, p.sentinel, b], 20_000)).toEqual([p.sentinel, b])
    expect(performance.now() - start).toBeLessThan(400)

    await b.send(null)
    start = performance.now()
    expect(await wait([a, p.sentinel, b], 20_000)).toEqual([a, p.sentinel, b])
    expect(performance.now() - start).toBeLessThan(400)
    await p.join()
    // The facade Process itself is a sentinel too.
    expect(await wait([a, p], 0)).toEqual([a, p])
  })

  it("test_neg_timeout: a negative timeout polls once", async () => {
    const [a, b] = Pipe()
    const t = performance.now()
    expect(await wait([a], -1)).toEqual([])
    expect(performance.now() - t).toBeLessThan(1000)
    await a.close()
    await b.close()
  })

  it("takes any iterable of objects, as Python's wait does (a Set, a generator)", async () => {
    const [a, b] = Pipe()
    await b.send(1)
    expect(await wait(new Set([a, b]), 0)).toEqual([a])
    expect(await wait((function*() { yield b; yield a })(), 0)).toEqual([a])
  })

  it("refuses what it cannot wait on at the call: BadArgument (Python's TypeError / ValueError), Closed for a closed process", async () => {
    const [a] = Pipe()
    for (const bad of [5, null, {}, [3], ["x"], [null], [{}], [a, 42]]) {
      await expect(wait(bad as any, 0)).rejects.toMatchObject({ _tag: "PipeError", reason: "BadArgument" })
    }
    await expect(wait([a], NaN)).rejects.toMatchObject({ _tag: "PipeError", reason: "BadArgument" })
    const p = new Process({ target: T.signalAndSleep, args: [new Semaphore(0), 0], backend: "thread" })
    // Python: p.sentinel raises ValueError('process not started'); here the process is its sentinel.
    await expect(wait([p], 50)).rejects.toMatchObject({ _tag: "PipeError", reason: "BadArgument", message: expect.stringContaining("process not started") })
    await p.start()
    await p.join()
    p.close()
    await expect(wait([p.process], 0)).rejects.toMatchObject({ _tag: "PipeError", reason: "Closed" })
  })
})
