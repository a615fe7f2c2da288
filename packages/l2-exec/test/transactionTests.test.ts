import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { vectorsPath } from "@dseq/common/vectors";
import { createEthereumCrypto } from "@dseq/crypto";
import { Common, Mainnet } from "@ethereumjs/common";
import { createTxFromRLP } from "@ethereumjs/tx";
import { bytesToHex, hexToBytes } from "@ethereumjs/util";
import { describe, expect, it } from "vitest";

const dir = vectorsPath("ethereum-tests/TransactionTests");

/** Passing vectors at the time of writing; the suite fails if a change lowers the count. */
const PASS_FLOOR = 210;

type Expect = { exception?: string; hash?: string; sender?: string; intrinsicGas?: string };
type Vector = { txbytes: string; result: Record<string, Expect> };

function* vectors(root: string): Generator<{ name: string; v: Vector }> {
  for (const group of readdirSync(root)) {
    for (const f of readdirSync(join(root, group))) {
      if (!f.endsWith(".json")) continue;
      const json = JSON.parse(readFileSync(join(root, group, f), "utf8")) as Record<string, Vector>;
      for (const [name, v] of Object.entries(json)) yield { name: `${group}/${name}`, v };
    }
  }
}

// The newest fork the vector has an expectation for (they stop at Cancun; Prague adds no
// change to decoding and signature rules for types 0-2, and its calldata floor is checked
// at execution, not here).
const FORKS = ["Prague", "Cancun", "Shanghai", "Paris", "London"];

function verdict(
  bytes: Uint8Array,
  common: Common,
): { valid: true; hash: string; sender: string; intrinsic: bigint } | { valid: false; error: string } {
  try {
    const tx = createTxFromRLP(bytes, { common });
    const errors = tx.getValidationErrors();
    if (errors.length > 0) return { valid: false, error: errors.join("; ") };
    const intrinsic = tx.getIntrinsicGas();
    if (tx.gasLimit < intrinsic) return { valid: false, error: "intrinsic gas too low" };
    return { valid: true, hash: bytesToHex(tx.hash()), sender: tx.getSenderAddress().toString(), intrinsic };
  } catch (e) {
    return { valid: false, error: e instanceof Error ? e.message : String(e) };
  }
}

describe.skipIf(!dir)("[vectors] ethereum/tests TransactionTests at Prague", () => {
  it(`decodes and validates the vectors; at least ${PASS_FLOOR} agree with the expected result`, () => {
    const common = new Common({ chain: Mainnet, hardfork: "prague", customCrypto: createEthereumCrypto() });
    let total = 0;
    let pass = 0;
    const failures: string[] = [];
    for (const { name, v } of vectors(dir as string)) {
      const fork = FORKS.find((f) => v.result[f] !== undefined);
      if (fork === undefined) continue;
      total++;
      const want = v.result[fork] as Expect;
      let bytes: Uint8Array;
      try {
        bytes = hexToBytes(v.txbytes as `0x${string}`);
      } catch {
        bytes = new Uint8Array([0xff]);
      }
      const got = verdict(bytes, common);
      // EIP-7623 (Prague): a gas limit below the calldata floor makes a pre-Prague-valid tx
      // invalid; that is the Prague verdict, so it agrees.
      const pragueFloor = !got.valid && fork !== "Prague" && got.error.includes("calldata floor");
      const ok =
        pragueFloor || want.exception !== undefined
          ? !got.valid
          : got.valid &&
            got.hash === want.hash &&
            got.sender.toLowerCase() === (want.sender as string).toLowerCase() &&
            got.intrinsic === BigInt(want.intrinsicGas as string);
      if (ok) pass++;
      else
        failures.push(
          `${name} (${fork}): want ${want.exception ?? "valid"}, got ${got.valid ? "valid" : got.error}`,
        );
    }
    expect(total).toBeGreaterThan(200);
    // Print what does not agree, so a change in the count is easy to read in CI output.
    if (failures.length > 0)
      process.stderr.write(
        `TransactionTests: ${pass}/${total} pass; disagreeing:\n  ${failures.join("\n  ")}\n`,
      );
    expect(pass).toBeGreaterThanOrEqual(PASS_FLOOR);
  });
});
