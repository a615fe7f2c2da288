import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isDseqError } from "@dseq/common";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DoubleSignError, DoubleSignGuard, fileGuardStore, SignStep } from "./doubleSignGuard.ts";

const bytes = (n: number) => new Uint8Array(75).fill(n);

describe("DoubleSignGuard", () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "dseq-guard-"));
    path = join(dir, "guard.json");
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("allows moving forward and re-signing the same bytes; refuses lower or conflicting", async () => {
    const g = await DoubleSignGuard.open(fileGuardStore(path));
    await g.authorize(5, 0, SignStep.Proposal, bytes(1));
    await g.authorize(5, 0, SignStep.Prevote, bytes(2));
    await g.authorize(5, 0, SignStep.Prevote, bytes(2)); // same bytes: fine
    await expect(g.authorize(5, 0, SignStep.Prevote, bytes(3))).rejects.toBeInstanceOf(DoubleSignError);
    await expect(g.authorize(5, 0, SignStep.Proposal, bytes(1))).rejects.toBeInstanceOf(DoubleSignError);
    await expect(g.authorize(4, 9, SignStep.Precommit, bytes(4))).rejects.toBeInstanceOf(DoubleSignError);
    await g.authorize(5, 1, SignStep.Prevote, bytes(5));
    await g.authorize(6, 0, SignStep.Prevote, bytes(6));
  });

  it("remembers across a restart (the file), and leaves no temp file behind", async () => {
    const g = await DoubleSignGuard.open(fileGuardStore(path));
    await g.authorize(7, 2, SignStep.Precommit, bytes(7));
    const again = await DoubleSignGuard.open(fileGuardStore(path));
    expect(again.lastSigned).toEqual({
      height: 7,
      round: 2,
      step: SignStep.Precommit,
      signBytes: `0x${"07".repeat(75)}`,
    });
    await expect(again.authorize(7, 2, SignStep.Precommit, bytes(8))).rejects.toSatisfy((e: unknown) =>
      isDseqError(e, "CONSENSUS_DOUBLE_SIGN_REFUSED"),
    );
    await expect(again.authorize(7, 1, SignStep.Precommit, bytes(7))).rejects.toBeInstanceOf(DoubleSignError);
    await again.authorize(7, 2, SignStep.Precommit, bytes(7));
    expect(await readdir(dir)).toEqual(["guard.json"]);
  });

  it("a corrupt state file stops the node instead of signing blindly", async () => {
    await writeFile(path, '{"height":"x"}');
    await expect(DoubleSignGuard.open(fileGuardStore(path))).rejects.toSatisfy((e: unknown) =>
      isDseqError(e, "CONSENSUS_GUARD_CORRUPT"),
    );
  });
});
