import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { FileWal, MemoryWal, type WalRecord } from "../src/wal.ts";
import { recordingWal } from "./driverHarness.ts";
import { walSuite } from "./walSuite.ts";

// The shared Wal suite, run against every implementation the repo has.

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

walSuite("FileWal", async () => {
  const dir = await mkdtemp(join(tmpdir(), "dseq-wal-suite-"));
  dirs.push(dir);
  const path = join(dir, "wal");
  return { open: () => FileWal.open(path), reopen: () => FileWal.open(path) };
});

walSuite("MemoryWal (kept across a restart in the same process)", async () => {
  const wal = new MemoryWal();
  return { open: async () => wal, reopen: async () => wal };
});

walSuite("the driver harness's recording WAL over MemoryWal", async () => {
  const inner = new MemoryWal();
  const appended: WalRecord[] = [];
  return {
    open: async () => recordingWal(inner, appended),
    reopen: async () => recordingWal(inner, appended),
  };
});
