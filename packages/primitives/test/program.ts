// Runs a fixture as a program, the way a user would (`node fixtures/<file> args…`), and captures
// what it printed and its exit code. (Not a test file: test files end in `.test.ts`.)
import { execFile } from "node:child_process"

export interface Ran {
  readonly stdout: string
  readonly stderr: string
  readonly code: number
}

export const runProgram = (file: string, args: ReadonlyArray<string> = [], timeout = 60_000): Promise<Ran> =>
  new Promise((resolve) => {
    execFile(process.execPath, [new URL(`./fixtures/${file}`, import.meta.url).pathname, ...args], { timeout }, (error, stdout, stderr) =>
      resolve({ stdout, stderr, code: error ? Number((error as any).code ?? 1) : 0 }))
  })
