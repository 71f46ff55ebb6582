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

  // One test per documented file (its examples by line in the message), not per example: the
  // suite's count stays a count of behaviours.
  const byFile = Map.groupBy(examples, (e) => e.file)
  it.each([...byFile].map(([file, es]) => [`${file} (${es.length})`, es] as const))("%s", (_, es) => {
    const broken = es.flatMap((e) => {
      const failure = failures.get(e)
      return failure === undefined ? [] : [failure.messages.join("\n")]
    })
    if (broken.length > 0) expect.fail(broken.join("\n\n"))
  })
})
