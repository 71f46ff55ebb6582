// The test command: runs vitest over every package, then prints one plain summary line
// ("N passed, N failed") and fails if any worker or child process outlived the run.
import { spawn } from "node:child_process"
import { readdirSync, readFileSync, rmSync } from "node:fs"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const results = `${root}.vitest-results.json`
const vitest = spawn(
  process.execPath,
  [`${root}node_modules/vitest/vitest.mjs`, "run", "--config", "vitest.workspace.ts", "--reporter=default", "--reporter=json", `--outputFile=${results}`, ...process.argv.slice(2)],
  { cwd: root, stdio: "inherit" }
)
const code = await new Promise((resolve) => vitest.on("exit", (c, s) => resolve(c ?? (s ? 1 : 0))))

let passed = 0
let failed = 0
let skipped = 0
try {
  const json = JSON.parse(readFileSync(results, "utf8"))
  passed = json.numPassedTests
  failed = json.numFailedTests + (json.numRuntimeErrorTestSuites ?? 0)
  skipped = json.numPendingTests + (json.numTodoTests ?? 0)
  rmSync(results)
} catch {
  failed += 1
}

// No process may outlive the suite: look for workers started from this checkout.
const leftovers = []
if (process.platform === "linux") {
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ")
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
      if (cmd.includes(`${root}packages/`) && cmd.includes("worker-entry") && !/\) Z /.test(stat)) leftovers.push(`${pid} ${cmd}`)
    } catch {
      // gone meanwhile
    }
  }
}
if (leftovers.length > 0) {
  console.error(`\n${leftovers.length} worker process(es) outlived the test run:\n${leftovers.join("\n")}`)
  failed += 1
}
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`)
process.exit(code !== 0 || failed > 0 ? 1 : 0)
