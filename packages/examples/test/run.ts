// Runs an example program the way a user would (`node file.ts args…`) and captures its output.
import { execFile } from "node:child_process"
import { tmpdir } from "node:os"
import { join } from "node:path"

// Node's on-disk compile cache, shared by the example programs and their child processes (they
// inherit it): each one loads the same modules (effect, the primitives, the example), and the
// cache saves part of that work on a loaded machine. The programs behave the same without it.
const compileCache = join(tmpdir(), "multiproc-examples-compile-cache")

export interface Ran {
  readonly stdout: string
  readonly stderr: string
  readonly code: number
  readonly lines: Array<string>
  /** The program's pid. */
  readonly pid: number
}

export interface RunOptions {
  /** The working directory of the program (default: the test's). */
  readonly cwd?: string | undefined
}

export const runExample = (file: string, args: ReadonlyArray<string> = [], timeout = 120_000, options: RunOptions = {}): Promise<Ran> =>
  new Promise((resolve) => {
    const path = new URL(`../src/${file}`, import.meta.url).pathname
    const child = execFile(process.execPath, [path, ...args], {
      timeout,
      maxBuffer: 16 << 20,
      cwd: options.cwd,
      env: { ...process.env, NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE ?? compileCache }
    }, (error, stdout, stderr) => {
      resolve({
        stdout,
        stderr,
        code: error ? Number((error as any).code ?? 1) : 0,
        lines: stdout.split("\n").filter((l) => l.length > 0),
        pid: child.pid ?? -1
      })
    })
  })

/** Splits the inside of a printed Python list or dict (`[a, b]`, `{k: v}`) into its items. */
export const items = (printed: string): Array<string> => {
  const inner = printed.trim().slice(1, -1)
  return inner.length === 0 ? [] : inner.split(", ")
}

/** `0 … n-1`. */
export const range = (n: number): Array<number> => Array.from({ length: n }, (_, i) => i)

/** Numeric sort, for lines that are numbers. */
export const byNumber = (a: string, b: string): number => Number(a) - Number(b)
