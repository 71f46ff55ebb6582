import { defineConfig } from "vitest/config"

// vitest 5 reads this file only through `--config vitest.workspace.ts` (see package.json).
export default defineConfig({
  test: {
    projects: ["packages/runtime", "packages/primitives", "packages/examples"].map((root) => ({
      test: {
        name: root.split("/")[1]!,
        root,
        include: ["test/**/*.test.ts"],
        pool: "forks",
        testTimeout: 120_000,
        hookTimeout: 120_000
      }
    })),
    maxWorkers: 2
  }
})
