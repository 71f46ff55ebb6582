/**
 * Entry point of every worker (thread or child process). Plain JavaScript on purpose: Node's
 * TypeScript stripping costs ~70 ms to initialise in a fresh isolate, unless the compile cache
 * already holds the stripped modules. So enable the cache first, then load the bootstrap.
 * @internal
 */
import module from "node:module"

try {
  module.enableCompileCache?.()
} catch {
  // A read-only cache directory only costs speed.
}
await import("./worker.ts")
