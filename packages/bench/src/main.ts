/**
 * Runs every benchmark suite (or those named on the command line) and prints their tables.
 *   pnpm bench            all suites
 *   pnpm bench process    one suite
 */
const suites: Record<string, string> = {
  process: "./process.ts",
  pool: "./pool.ts",
  queue: "./queue.ts",
  sync: "./sync.ts",
  shared: "./shared.ts"
}

const wanted = process.argv.slice(2)
const names = wanted.length > 0 ? wanted : Object.keys(suites)
const { execFileSync } = await import("node:child_process")
for (const name of names) {
  const file = suites[name]
  if (!file) {
    console.error(`unknown suite ${name}; known: ${Object.keys(suites).join(", ")}`)
    process.exitCode = 2
    continue
  }
  // Each suite in a fresh process, so one suite's warm JIT or leftovers do not skew the next.
  execFileSync(process.execPath, [new URL(file, import.meta.url).pathname], { stdio: "inherit" })
}
