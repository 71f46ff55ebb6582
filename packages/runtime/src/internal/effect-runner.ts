/**
 * Runs a task's Effect inside a worker. Loaded only when a task returns an Effect, so plain tasks
 * never pay for loading `effect`.
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { DIE, FAIL, INTERRUPTED, OK } from "./protocol.ts"

/** Runs the effect; `onStart` receives a function that interrupts it. */
export const run = (
  effect: Effect.Effect<unknown, unknown>,
  onStart: (interrupt: () => void) => void
): Promise<readonly [number, unknown]> => {
  const fiber = Effect.runFork(effect)
  onStart(() => fiber.interruptUnsafe())
  return new Promise((resolve) => {
    fiber.addObserver((exit) => {
      if (Exit.isSuccess(exit)) return resolve([OK, exit.value])
      const cause = exit.cause
      for (const reason of cause.reasons) {
        if (Cause.isFailReason(reason)) return resolve([FAIL, reason.error])
      }
      for (const reason of cause.reasons) {
        if (Cause.isDieReason(reason)) return resolve([DIE, reason.defect])
      }
      resolve([INTERRUPTED, undefined])
    })
  })
}

