import { createNoopLogger, type Hex, hexToBytes } from "@dseq/common";
import { rotationDigest } from "@dseq/l1-contracts";
import type { SignContext } from "@dseq/mpc-tss";
import { describe, expect, it } from "vitest";
import { approveRotationOr, type InboxKeyState, rotationApprove } from "./rotationApprove.ts";

const domain = { l1ChainId: 31337, address: `0x${"55".repeat(20)}` as Hex };
const OLD = `0x02${"11".repeat(32)}` as Hex;
const NEW = `0x03${"22".repeat(32)}` as Hex;
const OTHER = `0x02${"33".repeat(32)}` as Hex;

function setup(
  o: { rotation?: { from: Hex; to: Hex }; l1?: () => Promise<InboxKeyState>; none?: boolean } = {},
) {
  const refusals: string[] = [];
  const approve = rotationApprove({
    domain,
    rotation: () => (o.none ? undefined : (o.rotation ?? { from: OLD, to: NEW })),
    inboxKey: o.l1 ?? (async () => ({ groupKey: OLD, epoch: 3n })),
    onRefusal: (r) => refusals.push(r),
    logger: createNoopLogger(),
  });
  return { approve, refusals };
}
const sc = (context: Record<string, unknown>, groupKey: Hex = OLD) =>
  ({ sessionId: "0x01", groupKey, context }) as unknown as SignContext;
const digest = (epoch: bigint, key: Hex) => hexToBytes(rotationDigest(domain, epoch, key));

describe("rotationApprove (a signer checks a rotateGroupKey share against its own rotation and L1)", () => {
  it("signs the rotation it expects, at the epoch it reads from L1", async () => {
    const { approve, refusals } = setup();
    expect(await approve(digest(3n, NEW), sc({ kind: "rotation", newKey: NEW }))).toBe(true);
    expect(refusals).toEqual([]);
  });

  it("refuses another new key, even with that key's correct digest", async () => {
    const { approve, refusals } = setup();
    expect(await approve(digest(3n, OTHER), sc({ kind: "rotation", newKey: OTHER }))).toBe(false);
    expect(await approve(digest(3n, NEW), sc({ kind: "rotation", newKey: 7 }))).toBe(false);
    expect(refusals).toEqual(["new_key", "new_key"]);
  });

  it("refuses a digest at another epoch (a replayed or stale rotation) and a digest of another key", async () => {
    const { approve, refusals } = setup();
    expect(await approve(digest(2n, NEW), sc({ kind: "rotation", newKey: NEW }))).toBe(false);
    expect(await approve(digest(4n, NEW), sc({ kind: "rotation", newKey: NEW }))).toBe(false);
    expect(await approve(digest(3n, OTHER), sc({ kind: "rotation", newKey: NEW }))).toBe(false);
    expect(refusals).toEqual(["digest", "digest", "digest"]);
  });

  it("refuses another kind, a node expecting no rotation, another signing key, and an L1 that moved on", async () => {
    const { approve, refusals } = setup();
    expect(await approve(digest(3n, NEW), sc({ kind: "batch", newKey: NEW }))).toBe(false);
    expect(await approve(digest(3n, NEW), sc({ kind: "rotation", newKey: NEW }, NEW))).toBe(false);
    expect(refusals).toEqual(["kind", "old_key"]);

    const none = setup({ none: true });
    expect(await none.approve(digest(3n, NEW), sc({ kind: "rotation", newKey: NEW }))).toBe(false);
    expect(none.refusals).toEqual(["no_rotation"]);

    const landed = setup({ l1: async () => ({ groupKey: NEW, epoch: 4n }) });
    expect(await landed.approve(digest(3n, NEW), sc({ kind: "rotation", newKey: NEW }))).toBe(false);
    expect(await landed.approve(digest(4n, NEW), sc({ kind: "rotation", newKey: NEW }))).toBe(false);
    expect(landed.refusals).toEqual(["l1_key", "l1_key"]);

    const down = setup({
      l1: async () => {
        throw new Error("connection refused");
      },
    });
    expect(await down.approve(digest(3n, NEW), sc({ kind: "rotation", newKey: NEW }))).toBe(false);
    expect(down.refusals).toEqual(["l1"]);
  });

  it("approveRotationOr sends rotation requests to the rotation policy and the rest to the other", async () => {
    const { approve } = setup();
    const seen: string[] = [];
    const both = approveRotationOr((_m, c) => {
      seen.push(String(c.context.kind));
      return true;
    }, approve);
    expect(await both(digest(3n, OTHER), sc({ kind: "rotation", newKey: OTHER }))).toBe(false);
    expect(await both(digest(3n, NEW), sc({ kind: "rotation", newKey: NEW }))).toBe(true);
    expect(await both(new Uint8Array(32), sc({ kind: "batch" }))).toBe(true);
    expect(seen).toEqual(["batch"]);
  });
});
