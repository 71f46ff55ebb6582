// Interruption cancels a blocking call and loses nothing: a timeout around it, or its fiber
// interrupted, while an item, a message or a notification arrives at the same moment. (Locks and
// semaphores: SyncModel.test.ts; manager proxies: Manager.test.ts.)
import { describe, expect, it } from "@effect/vitest"
import { Event, Process, Queue } from "@multiproc/primitives"
import { Effect } from "effect"
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
