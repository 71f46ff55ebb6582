// A main program awaiting a queue, a pipe, `wait`, an event or a process that only a daemonic child
// will satisfy stays alive until it is satisfied, as Python's blocked main thread does (daemonic
// children do not keep Node's event loop alive; the wait itself must).
import { describe, expect, it } from "vitest"
import { runProgram } from "./program.ts"

const run = (backend: string) => runProgram("daemon-wait-main.ts", [backend], 45_000)

describe("waiting on a daemonic child keeps the program alive", () => {
  it.each(["thread", "process"])("get, join, recv, poll, wait, Event.wait, Process.join and result return what the child did (%s)", async (backend) => {
    const r = await run(backend)
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.stdout.split("\n").filter(Boolean)).toEqual(["get item", "join joined", "recv message", "poll true", "wait 1 0", "event true 0", "result message 0"])
  }, 60_000)
})

describe("a call answered by a running child keeps the program alive", () => {
  it.each([["thread", ""], ["process", ""], ["thread", "daemon"], ["process", "daemon"]])("locked() of a lock the child made, then a new queue (%s %s)", async (backend, daemon) => {
    const r = await runProgram("call-alive-main.ts", daemon ? [backend, daemon] : [backend], 45_000)
    expect(r.stderr).toBe("")
    expect(r.code).toBe(0)
    expect(r.stdout.split("\n").filter(Boolean)).toEqual(["locked true", "later queue 1"])
  }, 60_000)
})
