// The examples of the JSDoc (`@example`), README.md and docs/api.md type-check against the real
// packages (see doc-examples.ts: one TypeScript program for all of them, ~5-10 s here).
import { beforeAll, describe, expect, it } from "vitest"
import { check, collect, type Example, type Failure } from "./doc-examples.ts"

const examples = collect()

// Snippets that must fail (or pass): the checker itself is checked in the same program.
const probes: Array<Example & { readonly expected: RegExp | null }> = [
  {
    file: "packages/primitives/src/Queue.ts",
    line: 1,
    code: `const q = Queue.make({ maxsize: "two" })`,
    expected: /not assignable/
  },
  {
    // Top-level `yield*`: wrapped in Effect.gen, the module's own import and Effect added.
    file: "packages/primitives/src/Queue.ts",
    line: 1,
    code: `declare const q: Queue.Queue<number>\nconst n: string = yield* Queue.get(q)`,
    expected: /Type 'number' is not assignable to type 'string'/
  },
  {
    file: "packages/primitives/src/Queue.ts",
    line: 1,
    code: `declare const q: Queue.Queue<number>\nexport const n: number = yield* Queue.get(q)`,
    expected: null
  },
  {
    file: "packages/primitives/src/promise/Queue.ts",
    line: 1,
    code: `const q = new Queue<number>()\nawait q.put(1)\nawait q.putt(2)`,
    expected: /Property 'putt' does not exist/
  },
  {
    file: "packages/runtime/src/Actor.ts",
    line: 1,
    code: `Effect.runFork(Actor.tell(ref, 1))`,
    expected: /Cannot find name 'ref'/
  },
  {
    file: "packages/runtime/src/Actor.ts",
    line: 1,
    code: `const f = Effect.fork(Effect.void)`,
    expected: /Property 'fork' does not exist/
  }
]

let failures = new Map<Example, Failure>()

beforeAll(() => {
  failures = new Map(check([...examples, ...probes]).map((f) => [f.example, f]))
}, 120_000)

describe("documentation examples type-check", () => {
  it("finds the examples", () => {
    expect(examples.length).toBeGreaterThan(300)
  })

  it.each(probes.map((p, i) => [i, p] as const))("probe %i", (_, probe) => {
    const messages = failures.get(probe)?.messages.join("\n")
    if (probe.expected === null) expect(messages).toBeUndefined()
    else expect(messages).toMatch(probe.expected)
  })

  it.each(examples.map((e) => [`${e.file}:${e.line}`, e] as const))("%s", (_, example) => {
    const failure = failures.get(example)
    if (failure !== undefined) expect.fail(failure.messages.join("\n"))
  })
})
