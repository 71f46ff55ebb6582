/**
 * The machinery of the async/await facade: one Scope per process for everything the facade
 * starts, closed when the program is done (the event loop drained, or a child's task returned),
 * and a runner that turns an Effect's failure into a rejected promise with the original error.
 * @internal
 */
import * as kernel from "@multiproc/runtime/internal/kernel"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import type * as Duration from "effect/Duration"
import { hold } from "./alive.ts"
import { unknownOption } from "./args.ts"
import { runDirect } from "./direct.ts"

let globalScope: Scope.Closeable | undefined
let closing: Promise<void> | undefined

/** Closes the facade's Scope: joins non-daemonic children, terminates daemonic ones. */
export const closeGlobalScope = (): Promise<void> => {
  if (!globalScope) return Promise.resolve()
  if (!closing && kernel.isMain()) kernel.log(20, "process shutting down")
  closing ??= Effect.runPromise(Scope.close(globalScope, Exit.void))
  return closing
}

/** Python's `acquire(block=True, timeout=None)` keywords as one object: `acquire({ timeout: 1 })`. */
export interface AcquireKeywords {
  readonly block?: boolean | undefined
  readonly timeout?: Duration.Input | null | undefined
}

/**
 * The arguments of a facade `acquire`: positional (Python's `acquire(False)`, `acquire(True, 1)`)
 * or Python's keywords as one object (`acquire({ timeout: 1 })`, as the facade's
 * `queue.get({ timeout })`). A string says why they are bad: an unknown keyword (`{ timout: 1 }`
 * was read as "block, no timeout": a wait for ever), or a timeout given twice.
 */
export const acquireArgs = (
  block: boolean | AcquireKeywords | undefined,
  timeout: Duration.Input | null | undefined
): { readonly block: boolean; readonly timeout: Duration.Input | undefined } | string => {
  // Positional `block` is read as Python reads it (`if block:`): `acquire(0)`, `acquire(None)` do not wait.
  if (block === undefined) return { block: true, timeout: timeout ?? undefined }
  if (block === null || typeof block !== "object") return { block: Boolean(block), timeout: timeout ?? undefined }
  const unknown = unknownOption(block, ["block", "timeout"])
  if (unknown !== undefined) return unknown
  if (timeout !== undefined) return "timeout given both in the keywords object and as an argument"
  return { block: block.block ?? true, timeout: block.timeout ?? undefined }
}

/** The Scope that owns what the facade starts in this process. */
export const scope = (): Scope.Closeable => {
  if (globalScope) return globalScope
  globalScope = Scope.makeUnsafe()
  // Python joins non-daemonic children and terminates daemonic ones at normal exit; 'beforeExit'
  // is Node's "nothing left to do" (daemons are unref'd, so they do not keep the loop alive).
  process.once("beforeExit", () => void closeGlobalScope())
  kernel.atExit(closeGlobalScope)
  return globalScope
}

/** The error a failed Exit is reported as: the typed failure, else the defect. */
export const squash = (cause: Cause.Cause<unknown>): unknown => {
  for (const r of cause.reasons) if (Cause.isFailReason(r)) return r.error
  for (const r of cause.reasons) if (Cause.isDieReason(r)) return r.defect
  return new Error("interrupted")
}

/** Runs an Effect in the facade's Scope; rejects with the original error. A proxy call (a
 * direct callback, see `direct.ts`) runs without a fiber. */
export function run<A, E>(effect: Effect.Effect<A, E, Scope.Scope>): Promise<A>
export function run<A, E, B>(effect: Effect.Effect<A, E, Scope.Scope>, map: (a: A) => B): Promise<B>
export function run<A, E>(effect: Effect.Effect<A, E, Scope.Scope>, map?: (a: A) => unknown): Promise<unknown> {
  const direct = runDirect(effect, (exit) => squash(exit.cause), runFiber, map)
  if (direct !== undefined) return direct
  return map === undefined ? runFiber(effect) : runFiber(effect).then(map)
}

const runFiber = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>): Promise<A> => {
  // A call keeps the program alive until it is answered, as Python's main thread in any call
  // does: the process that answers it (a child that made the lock or queue, say) may not keep the
  // event loop alive itself, and the program must not reach 'beforeExit' (its exit handler) in
  // the middle of its own call. (Proxy calls, run directly, are kept alive by their manager.)
  const release = hold()
  return Effect.runPromiseExit(Scope.provide(scope())(effect)).then((exit) => {
    release()
    return Exit.isSuccess(exit) ? exit.value : Promise.reject(squash(exit.cause))
  })
}

/** Runs a synchronous Effect; throws the original error. */
export const runSync = <A, E>(effect: Effect.Effect<A, E>): A => {
  const exit = Effect.runSyncExit(effect)
  if (Exit.isSuccess(exit)) return exit.value
  throw squash(exit.cause)
}

/** A held lock or permit; gives it back when disposed (`using` / `await using`). */
export interface Held extends Disposable, AsyncDisposable {
  readonly release: () => Promise<void>
}

/** A guard that runs `release` once, however it is disposed. */
export const held = (release: Effect.Effect<void, unknown>): Held => {
  let done = false
  const once = () => {
    if (done) return Effect.void
    done = true
    return release
  }
  return {
    release: () => run(once()),
    [Symbol.dispose]: () => runSync(once()),
    [Symbol.asyncDispose]: () => run(once())
  }
}

/** Python's `with x:` for the facade's locks: acquire, run `f`, release even if it throws. */
export const holding = async <A>(
  acquire: () => Promise<unknown>,
  release: () => Promise<void>,
  f: () => A | Promise<A>
): Promise<Awaited<A>> => {
  await acquire()
  try {
    return await f()
  } finally {
    await release()
  }
}
