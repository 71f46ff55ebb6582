/**
 * Benchmark helpers: every suite runs its peers side by side in one run and reports medians and
 * ratios as a markdown table. Timing only; assertions belong in tests.
 */
export interface Row {
  readonly scenario: string
  readonly [column: string]: string | number
}

export const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

export const percentile = (xs: ReadonlyArray<number>, p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!
}

/** Runs `f` `repeats` times (after `warmup` runs) and returns each run's milliseconds. */
export const sample = async (repeats: number, f: () => Promise<unknown> | unknown, warmup = 1): Promise<Array<number>> => {
  for (let i = 0; i < warmup; i++) await f()
  const out: Array<number> = []
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now()
    await f()
    out.push(performance.now() - t0)
  }
  return out
}

export const fmt = (n: number, digits = 1): string =>
  Number.isFinite(n) ? (Math.abs(n) >= 1000 ? Math.round(n).toLocaleString("en-US") : n.toFixed(digits)) : String(n)

/** Prints rows as a markdown table (columns from the first row). */
export const table = (title: string, rows: ReadonlyArray<Row>): string => {
  if (rows.length === 0) return `### ${title}\n\n(no rows)\n`
  const cols = Object.keys(rows[0]!)
  const line = (cells: ReadonlyArray<string>) => `| ${cells.join(" | ")} |`
  const out = [`### ${title}`, "", line(cols), line(cols.map((_, i) => (i === 0 ? "---" : "---:")))]
  for (const r of rows) out.push(line(cols.map((c) => String(r[c] ?? ""))))
  return out.join("\n") + "\n"
}

/** Runs a Python snippet with python3 and parses the JSON it prints last. */
export const python = async (code: string): Promise<any> => {
  const { execFile } = await import("node:child_process")
  return new Promise((resolve, reject) => {
    execFile("python3", ["-c", code], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`python3 failed: ${stderr || err.message}`))
      const lines = stdout.trim().split("\n")
      resolve(JSON.parse(lines[lines.length - 1]!))
    })
  })
}
