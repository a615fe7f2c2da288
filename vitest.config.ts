import { defineConfig } from "vitest/config";

// One config for the whole workspace: unit tests sit beside the code (`src/**/*.test.ts`),
// bigger ones in `packages/*/test/`. Two projects: `unit` runs files in parallel; `e2e` holds
// the tests that start several node processes or in-process networks and runs them one file at
// a time (scripts/test.sh runs unit, then e2e).
const e2e = ["packages/devnet/test/**/*.test.ts", "packages/node/test/*.test.ts", "test/**/*.test.ts"];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: [
            "packages/*/src/**/*.test.ts",
            "packages/*/test/**/*.test.ts",
            "test/**/*.test.ts",
            "scripts/**/*.test.ts",
          ],
          exclude: ["**/node_modules/**", "**/dist/**", ...e2e],
        },
      },
      {
        extends: true,
        test: { name: "e2e", include: e2e, exclude: ["**/node_modules/**"], fileParallelism: false },
      },
    ],
  },
});
