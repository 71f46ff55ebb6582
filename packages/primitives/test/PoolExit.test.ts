import { expect, it } from "vitest"
import { execFile } from "node:child_process"

it("a pool that is never closed does not keep the program alive (its workers are daemons)", async () => {
  const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) =>
    execFile(process.execPath, [new URL("./fixtures/pool-forgotten.ts", import.meta.url).pathname], { timeout: 60_000 }, (e, stdout) =>
      resolve({ code: e ? Number((e as any).code ?? 1) : 0, stdout })
    )
  )
  expect(code).toBe(0)
  expect(stdout).toContain("[ 1, 4, 9 ]")
  expect(stdout).toContain("callback 16")
  expect(stdout).toContain("get 16")
})
