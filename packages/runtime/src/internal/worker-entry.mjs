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
// Not `await`ed at the top level: see the note on top-level await in codec.ts.
import("./worker.ts").catch((e) => {
  process.stderr.write(`the worker's runtime failed to load:\n${e?.stack ?? e}\n`)
  process.exit(1)
})
