// Runs an example program the way a user would (`node file.ts args…`) and captures its output.
import { execFile } from "node:child_process"

export interface Ran {
  readonly stdout: string
  readonly stderr: string
  readonly code: number
  readonly lines: Array<string>
}

export const runExample = (file: string, args: ReadonlyArray<string> = [], timeout = 120_000): Promise<Ran> =>
  new Promise((resolve) => {
    const path = new URL(`../src/${file}`, import.meta.url).pathname
    execFile(process.execPath, [path, ...args], { timeout, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      resolve({
        stdout,
        stderr,
        code: error ? Number((error as any).code ?? 1) : 0,
        lines: stdout.split("\n").filter((l) => l.length > 0)
      })
    })
  })
