// Shared by tests: the error an Exit failed with (its first failure, else its first defect).
import { Cause, Exit } from "effect"

/** The Exit's error: its first failure, else its first defect, "interrupted", or `undefined` on success. */
export const failureOf = (exit: Exit.Exit<unknown, unknown>): unknown => {
  if (Exit.isSuccess(exit)) return undefined
  for (const r of exit.cause.reasons) if (Cause.isFailReason(r)) return r.error
  for (const r of exit.cause.reasons) if (Cause.isDieReason(r)) return r.defect
  return "interrupted"
}
