import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { keccak256, toHex, zeroHash } from "viem";
import { afterEach, describe, expect, it } from "vitest";
import { BatchDataKind } from "../codec/header.ts";
import { BatchErrorCode } from "../errors.ts";
import { type InFlight, loadSubmitterState, saveSubmitterState } from "./submitterState.ts";

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), "dseq-batch-state-"));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const inFlight: InFlight = {
  header: {
    chainId: 901n,
    batchIndex: 7n,
    prevBatchHash: zeroHash,
    firstBlock: 1n,
    lastBlock: 9n,
    lastBlockHash: keccak256(toHex("b9")),
    stateRoot: keccak256(toHex("s9")),
    dataKind: BatchDataKind.calldata,
    dataHash: keccak256(toHex("d")),
  },
  data: Uint8Array.from([2, 1, 2, 3]),
  signature: "0x1234",
  nonce: 4,
  txs: [
    {
      hash: keccak256(toHex("tx")),
      gas: 100_000n,
      maxFeePerGas: 10n ** 10n,
      maxPriorityFeePerGas: 10n ** 9n,
      sentAtMs: 1,
    },
  ],
};

describe("submitter state file", () => {
  it("starts empty and round-trips the batch in flight with bigints and bytes intact", () => {
    const d = tmp();
    expect(loadSubmitterState(d)).toEqual({ version: 1 });
    saveSubmitterState(d, { version: 1, inFlight });
    expect(loadSubmitterState(d)).toEqual({ version: 1, inFlight });
    expect(readFileSync(join(d, "batch-submitter.json"), "utf8")).not.toContain("privateKey");
  });

  it("refuses a corrupt or foreign file rather than starting over (which could post twice)", () => {
    const d = tmp();
    writeFileSync(join(d, "batch-submitter.json"), "{not json");
    expect(() => loadSubmitterState(d)).toThrow(
      expect.objectContaining({ code: BatchErrorCode.BadStoredState }),
    );
    writeFileSync(join(d, "batch-submitter.json"), JSON.stringify({ version: 2 }));
    expect(() => loadSubmitterState(d)).toThrow(
      expect.objectContaining({ code: BatchErrorCode.BadStoredState }),
    );
    writeFileSync(join(d, "batch-submitter.json"), JSON.stringify({ version: 1, inFlight: { data: "x" } }));
    expect(() => loadSubmitterState(d)).toThrow(
      expect.objectContaining({ code: BatchErrorCode.BadStoredState }),
    );
  });
});
