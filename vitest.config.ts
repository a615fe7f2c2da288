import { defineConfig } from "vitest/config";

// One config for the whole workspace: unit tests sit beside the code (`src/**/*.test.ts`),
// cross-package and e2e tests under `test/` and `packages/*/test/`.
export default defineConfig({
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts", "test/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    reporters: process.env.CI ? ["default"] : ["default"],
  },
});
