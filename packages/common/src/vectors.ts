import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { CommonError, CommonErrorCode } from "./errors.ts";

/**
 * Where the external test vectors live: `../shared/vectors` from the repository root
 * (override with DSEQ_VECTORS). A fresh clone has none: tests that need them skip with a
 * visible notice, and with DSEQ_REQUIRE_VECTORS=1 (set by .ci/run) a missing folder fails.
 */
export function findRepoRoot(from: string = process.cwd()): string {
  let dir = resolve(from);
  for (;;) {
    if (existsSync(join(dir, "pnpm-workspace.yaml"))) return dir;
    const up = dirname(dir);
    if (up === dir) return resolve(from);
    dir = up;
  }
}

export function vectorsRoot(): string {
  return process.env.DSEQ_VECTORS ?? resolve(findRepoRoot(), "..", "shared", "vectors");
}

/**
 * The absolute path of `sub` inside the vectors folder, or undefined when it is missing.
 * Throws when DSEQ_REQUIRE_VECTORS=1 and it is missing.
 */
export function vectorsPath(sub: string): string | undefined {
  const p = join(vectorsRoot(), sub);
  if (existsSync(p)) return p;
  const msg = `test vectors not found at ${p}`;
  if (process.env.DSEQ_REQUIRE_VECTORS === "1")
    throw new CommonError(CommonErrorCode.VectorsMissing, `${msg} (DSEQ_REQUIRE_VECTORS=1)`);
  process.stderr.write(`\n  NOTICE: ${msg}; the tests that need them are skipped.\n\n`);
  return undefined;
}
