import { bytesToHex, createNoopLogger } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import type { Preconfirmation } from "@dseq/rpc";
import { describe, expect, it } from "vitest";
import { type BlockFragment, decodeFragment, encodeFragment } from "../blockStream.ts";
import { conflictingFragment } from "../byzantine.ts";
import { verifyFragmentEvidence } from "./evidence.ts";
import { createPreconfService } from "./service.ts";

const key = keccak256(new TextEncoder().encode("service key"));
const f: BlockFragment = {
  height: 3,
  parentHash: bytesToHex(keccak256(new Uint8Array([3]))),
  timestamp: 10n,
  seq: 0,
  last: false,
  txs: [new Uint8Array([2, 1]), new Uint8Array([2, 2])],
};

describe("preconf service", () => {
  it("publishes each new fragment once, and turns a contradicting one into evidence, not a message", () => {
    const s = createPreconfService({ chainId: 1337n, logger: createNoopLogger() });
    const got: Preconfirmation[] = [];
    const off = s.source.subscribe((p) => got.push(p));
    const raw = encodeFragment(f, 1337n, key);
    expect(s.own(raw).kind).toBe("new");
    expect(s.gossiped(decodeFragment(raw, 1337n), raw).kind).toBe("duplicate");
    const twin = encodeFragment(conflictingFragment(f), 1337n, key);
    expect(s.gossiped(decodeFragment(twin, 1337n), twin).kind).toBe("equivocation");
    expect(got).toHaveLength(1);
    expect(got[0]).toMatchObject({ blockNumber: 3n, index: 0, fragment: bytesToHex(raw) });
    expect(s.evidence()).toHaveLength(1);
    expect(() => verifyFragmentEvidence(s.evidence()[0] as never, 1337n)).not.toThrow();
    expect(s.store.prefix(3, 0)?.txHashes).toHaveLength(2);
    off();
  });
});
