/**
 * Entry point of every worker (thread or child process). Enables Node's compile cache before any
 * other module loads, then hands over to the bootstrap.
 * @internal
 */
import module from "node:module"

try {
  module.enableCompileCache?.()
} catch {
  // A read-only cache directory only costs speed.
}
await import("./worker.ts")
