import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { fileGuardStore, memoryGuardStore } from "../src/doubleSignGuard.ts";
import { guardStoreSuite } from "./guardStoreSuite.ts";

// The shared GuardStore suite, run against every implementation the repo has.

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

guardStoreSuite("fileGuardStore", async () => {
  const dir = await mkdtemp(join(tmpdir(), "dseq-guard-suite-"));
  dirs.push(dir);
  const path = join(dir, "last-signed.json");
  return { store: () => fileGuardStore(path) };
});

guardStoreSuite("memoryGuardStore (kept across a restart in the same process)", async () => {
  const store = memoryGuardStore();
  return { store: () => store };
});
