// Seed 004 ("Python Multiprocessing", a Pool tutorial): apply, apply_async (with and without a
// callback) and map, with smaller counts than the seed's 10,000 where it has them.
import { describe, expect, it } from "vitest"
import { byNumber, items, range, runExample } from "./run.ts"

const oneTo = (n: number) => range(n).map((i) => String(i + 1))
const seconds = /^\d+(\.\d+)?(e-\d+)?$/

describe("seed 004: Pool apply / apply_async / map", () => {
  it("apply: one call at a time, each result printed in order, then the time", async () => {
    const r = await runExample("seed-004/01-apply.ts", ["200"])
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.lines.slice(0, -1)).toEqual(oneTo(200))
    expect(r.lines.at(-1)).toMatch(seconds)
  })

  it("apply_async with a callback run in the parent, then close and join", async () => {
    const r = await runExample("seed-004/02-apply-async-callback.ts")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect([...r.lines].sort(byNumber)).toEqual(range(10).map((i) => String(i + 2)))
  })

  it("apply_async: results kept, close and join, then printed in submission order", async () => {
    const r = await runExample("seed-004/03-apply-async.ts", ["500"])
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.lines.slice(0, -1)).toEqual(oneTo(500))
    expect(r.lines.at(-1)).toMatch(seconds)
  })

  it("apply_async with the Effect API", async () => {
    const r = await runExample("seed-004/03-apply-async-effect.ts", ["500"])
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.lines.slice(0, -1)).toEqual(oneTo(500))
    expect(r.lines.at(-1)).toMatch(seconds)
  })

  it("map: the workers print 1 … 100, the parent prints the list; the pool is left open", async () => {
    const r = await runExample("seed-004/04-map.ts")
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    const main = r.lines.filter((l) => l.startsWith("主进程中map的返回值 "))
    expect(main.length).toBe(1)
    expect(items(main[0]!.slice("主进程中map的返回值 ".length))).toEqual(oneTo(100))
    expect(r.lines.filter((l) => !l.startsWith("主进程中")).sort(byNumber)).toEqual(oneTo(100))
  })
})
