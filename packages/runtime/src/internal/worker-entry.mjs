/**
 * Entry point of every worker (thread or child process). Plain JavaScript on purpose: Node's
 * TypeScript stripping costs ~70 ms to initialise in a fresh isolate, unless the compile cache
 * already holds the stripped modules. So enable the cache first, then load the bootstrap.
 * @internal
 */
// Builtins through `process.getBuiltinModule`, not `import` (see kernel.ts).
// A forked child has an IPC channel and need not load worker_threads (~2 ms); threads have none.
const workerData = typeof process.send === "function" ? undefined : process.getBuiltinModule("node:worker_threads").workerData

let cached = false
if (process.env.MULTIPROC_COMPILE_CACHE !== undefined) {
  // The parent enabled the cache through `NODE_COMPILE_CACHE`, which Node reads as the worker
  // starts, before any JavaScript: this worker need not load `node:module` (see kernel.ts). The
  // variables go, so that what the task starts does not inherit them.
  cached = true
  if (process.env.MULTIPROC_COMPILE_CACHE === "set") delete process.env.NODE_COMPILE_CACHE
  delete process.env.MULTIPROC_COMPILE_CACHE
} else {
  try {
    const module = process.getBuiltinModule("node:module")
    const { status } = module.enableCompileCache?.() ?? {}
    cached = status === module.constants?.compileCacheStatus?.ENABLED || status === module.constants?.compileCacheStatus?.ALREADY_ENABLED
  } catch {
    // A read-only cache directory only costs speed.
  }
}
// V8 compiles a function when it is first called, and the compile cache holds only what was
// compiled with the module: every fresh worker compiled the runtime's message path again for its
// first messages. The runtime's own modules are compiled eagerly instead, so the cache holds all
// of them (msgpackr is not among them: it is loaded when a first message is not plain, see
// codec.ts). The flag is process-wide: threads count themselves in a shared word, and the
// last one whose runtime is compiled switches back to lazy compilation (worker.ts, first
// statement); user modules compile lazily as usual. Only speed is at stake, so a race between two
// threads costs at most an eager or a lazy compile somewhere. Without a cache, eager compilation
// would be paid again by every worker: then not at all.
if (cached && !process.execArgv.includes("--no-lazy")) {
  try {
    const shared = workerData?.eager
    if (shared) {
      Atomics.add(new Int32Array(shared), 0, 1)
      // Counted: the parent uncounts a thread that exits before its runtime is loaded.
      Atomics.store(new Int32Array(workerData.importing), 1, 1)
    }
    process.getBuiltinModule("node:v8").setFlagsFromString("--no-lazy")
    globalThis[Symbol.for("@multiproc/runtime/eager")] = shared ? "counted" : "alone"
  } catch {
    // Only speed.
  }
}
// Not `await`ed at the top level: see the note on top-level await in codec.ts.
import("./worker.ts").catch((e) => {
  process.stderr.write(`the worker's runtime failed to load:\n${e?.stack ?? e}\n`)
  process.exit(1)
})
