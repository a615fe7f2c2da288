import { readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, createMetrics, type Hex, hexToBytes } from "@dseq/common";
import { frost, KeyShareStore, type PartyId, verifyL1Signature } from "@dseq/mpc-tss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TssSetAtSpan } from "../../src/tss/keyRotation.ts";
import {
  type LocalTssNet,
  type ManualValidatorSource,
  manualValidatorSource,
  startLocalTssNet,
  waitUntil,
} from "../../src/tss/localTssNet.ts";
import { TssService } from "../../src/tss/tssService.ts";

const CHAIN_ID = 901n;
const SCRYPT = { N: 1 << 14, r: 8, p: 1 };
const PASSWORD = "correct horse battery staple";

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe("TssService on 4 real p2p hosts", () => {
  let net: LocalTssNet;
  let root: string;
  let dirs: string[];
  let set0: TssSetAtSpan;
  let sources: ManualValidatorSource[];
  let services: (TssService | undefined)[] = [];
  const refusing = new Set<number>();
  const seen: { i: number; context: Record<string, unknown> }[] = [];

  const startService = async (i: number): Promise<TssService> => {
    const key = net.keys[i];
    const transport = net.transports[i];
    const source = sources[i];
    if (!key || !transport || !source) throw new Error("no member");
    const s = new TssService(
      {
        chainId: CHAIN_ID,
        dataDir: dirs[i] as string,
        password: PASSWORD,
        scrypt: SCRYPT,
        coordinatorSlotMs: 1_500,
        signDeadlineMs: 20_000,
        dkgDeadlineMs: 30_000,
        approve: (message, ctx) => {
          seen.push({ i, context: ctx.context });
          return !refusing.has(i) && message.length === 32;
        },
      },
      { key, transport, validators: source, metrics: createMetrics() },
    );
    services[i] = s;
    return s.start();
  };
  const live = (): TssService[] => services.filter((s): s is TssService => s !== undefined);
  const stopAll = async (): Promise<void> => {
    await Promise.all(live().map((s) => s.stop()));
    services = [];
  };

  beforeAll(async () => {
    net = await startLocalTssNet(4, CHAIN_ID);
    root = await mkdtemp(join(tmpdir(), "dseq-node-tss-"));
    dirs = net.keys.map((_, i) => join(root, `node${i}`));
    set0 = { span: 0n, validators: net.keys.map((k) => ({ party: k.id, power: 100n })) };
    sources = net.keys.map(() => manualValidatorSource(set0));
  }, 60_000);

  afterAll(async () => {
    await stopAll();
    await net?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it("runs the DKG for the span's set and signs a digest that the L1 check and noble verify", async () => {
    await Promise.all(net.keys.map((_, i) => startService(i)));
    await waitUntil(() => live().every((s) => s.groupKey() !== undefined), 30_000, "dkg");
    const keys = new Set(live().map((s) => s.groupKey()));
    expect(keys.size).toBe(1);
    const groupKey = live()[0]?.groupKey() as Hex;
    expect(live().every((s) => s.status().inGroup && s.status().epoch === 0)).toBe(true);

    const digest = new Uint8Array(32).fill(0xab);
    const leader = net.keys[1]?.id as PartyId;
    const sigs = await Promise.all(
      live().map((s) => s.sign(digest, { kind: "batch", index: 1 }, { leader })),
    );
    for (const sig of sigs) {
      expect(sig.groupKey).toBe(groupKey);
      expect(bytesToHex(sig.signature)).toBe(bytesToHex(sigs[0]?.signature as Uint8Array));
      expect(verifyL1Signature(sig.l1, digest)).toBe(true);
      expect(frost.verify(sig.signature, digest, hexToBytes(groupKey))).toBe(true);
    }
    // the leader coordinated: it alone knows the signing set; the others took the announcement
    expect(sigs[1]?.signers?.length).toBeGreaterThanOrEqual(3);
    expect(sigs.filter((s) => s.signers !== undefined)).toHaveLength(1);
    expect(seen.some((x) => x.context.kind === "batch" && x.context.index === 1)).toBe(true);
    // a different digest does not verify under that signature
    expect(verifyL1Signature(sigs[0]!.l1, new Uint8Array(32).fill(1))).toBe(false);
  }, 60_000);

  it("signs with one member silent, and when its leader is the silent one the fallback takes over", async () => {
    await services[3]?.stop();
    services[3] = undefined;
    const digest = new Uint8Array(32).fill(0x11);
    const sigs = await Promise.all(live().map((s) => s.sign(digest, { kind: "batch", index: 2 })));
    const gk = live()[0]?.groupKey() as Hex;
    for (const sig of sigs) expect(verifyL1Signature(sig.l1, digest)).toBe(true);
    expect(sigs.find((s) => s.signers)?.signers).not.toContain(net.keys[3]?.id);

    const started = Date.now();
    const d2 = new Uint8Array(32).fill(0x12);
    const leader = net.keys[3]?.id as PartyId;
    const s2 = await Promise.all(live().map((s) => s.sign(d2, { kind: "batch", index: 3 }, { leader })));
    expect(frost.verify(s2[0]!.signature, d2, hexToBytes(gk))).toBe(true);
    // the silent leader's slot passed before the next coordinator started
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
  }, 60_000);

  it("a member whose approve refuses is not needed when the rest hold a quorum", async () => {
    await startService(3);
    refusing.add(2);
    const digest = new Uint8Array(32).fill(0x22);
    const leader = net.keys[0]?.id as PartyId;
    const sigs = await Promise.all(
      [0, 1, 3].map((i) => services[i]!.sign(digest, { kind: "batch", index: 4 }, { leader })),
    );
    expect(verifyL1Signature(sigs[0]!.l1, digest)).toBe(true);
    expect(sigs[0]?.signers?.sort()).toEqual([net.keys[0]!.id, net.keys[1]!.id, net.keys[3]!.id].sort());
    refusing.clear();
  }, 60_000);

  it("restarts from the encrypted store and signs again with the same group key; no plaintext share on disk", async () => {
    const before = live()[0]?.groupKey() as Hex;
    await stopAll();
    for (const i of [0, 1, 2, 3]) await startService(i);
    expect(live().every((s) => s.groupKey() === before && !s.status().dkgRunning)).toBe(true);
    const digest = new Uint8Array(32).fill(0x33);
    const sigs = await Promise.all(live().map((s) => s.sign(digest, { kind: "batch", index: 5 })));
    expect(sigs[0]?.groupKey).toBe(before);
    expect(frost.verify(sigs[0]!.signature, digest, hexToBytes(before))).toBe(true);

    for (const [i, dir] of dirs.entries()) {
      const store = await KeyShareStore.open({ dir: join(dir, "tss", "keys"), password: PASSWORD });
      const share = store.active()?.signingShare as Uint8Array;
      expect(share.length).toBe(32);
      const hex = bytesToHex(share).slice(2);
      const b64 = Buffer.from(share).toString("base64");
      const all = files(join(dir, "tss"));
      expect(all.some((f) => f.includes("share-"))).toBe(true);
      for (const f of all) {
        const bytes = readFileSync(f);
        const text = bytes.toString("latin1").toLowerCase();
        expect(text.includes(hex), `share hex in ${f} (node ${i})`).toBe(false);
        expect(text.includes(b64.toLowerCase()), `share base64 in ${f}`).toBe(false);
        expect(bytes.includes(Buffer.from(share)), `raw share in ${f}`).toBe(false);
      }
      await expect(
        KeyShareStore.open({ dir: join(dir, "tss", "keys"), password: "wrong" }),
      ).rejects.toThrow();
    }
  }, 60_000);

  it("a new set rotates: DKG, the old key signs the rotation, shares switch on confirmRotation", async () => {
    const old = live()[0]?.groupKey() as Hex;
    const set1 = { span: 1n, validators: net.keys.map((k, i) => ({ party: k.id, power: 100n + BigInt(i) })) };
    for (const s of sources) s.startSpan(set1);
    await waitUntil(() => live().every((s) => s.rotation() !== undefined), 30_000, "rotation dkg");
    const rot = live()[0]?.rotation();
    expect(rot?.from).toBe(old);
    expect(live().every((s) => s.rotation()?.to === rot?.to)).toBe(true);
    // until L1 rotates, batches are still signed by the old key
    const rotationDigest = new Uint8Array(32).fill(0x44);
    const sigs = await Promise.all(
      live().map((s) => s.sign(rotationDigest, { kind: "rotation", newKey: rot?.to })),
    );
    expect(sigs[0]?.groupKey).toBe(old);
    expect(frost.verify(sigs[0]!.signature, rotationDigest, hexToBytes(old))).toBe(true);

    await Promise.all(live().map((s) => s.confirmRotation(rot?.to as Hex)));
    expect(live().every((s) => s.groupKey() === rot?.to && s.rotation() === undefined)).toBe(true);
    const digest = new Uint8Array(32).fill(0x55);
    const after = await Promise.all(live().map((s) => s.sign(digest, { kind: "batch", index: 6 })));
    expect(after[0]?.groupKey).toBe(rot?.to);
    expect(frost.verify(after[0]!.signature, digest, hexToBytes(rot?.to as Hex))).toBe(true);
  }, 60_000);

  it("a member that leaves signs the rotation with the old key, then stops signing once it lands", async () => {
    const old = live()[0]?.groupKey() as Hex;
    const leaving = net.keys[3]!.id;
    const set2 = { span: 2n, validators: net.keys.slice(0, 3).map((k) => ({ party: k.id, power: 100n })) };
    for (const s of sources) s.startSpan(set2);
    await waitUntil(
      () => [0, 1, 2].every((i) => services[i]?.rotation() !== undefined),
      30_000,
      "dkg of the new set",
    );
    const rot = services[0]?.rotation();
    expect(services[3]?.rotation()).toBeUndefined(); // not in the new set: no DKG, no pending key
    expect(services[3]?.status().inGroup).toBe(true);
    // member 2 silent: the old key's rotation signature needs the leaving member's share
    await services[2]?.stop();
    services[2] = undefined;
    const digest = new Uint8Array(32).fill(0x66);
    const leader = net.keys[0]!.id;
    const sigs = await Promise.all(
      [0, 1, 3].map((i) => services[i]!.sign(digest, { kind: "rotation", newKey: rot?.to }, { leader })),
    );
    expect(sigs[0]?.groupKey).toBe(old);
    expect(sigs[0]?.signers).toContain(leaving);
    expect(frost.verify(sigs[0]!.signature, digest, hexToBytes(old))).toBe(true);

    await startService(2);
    await Promise.all(live().map((s) => s.confirmRotation(rot?.to as Hex)));
    expect(services[3]?.status()).toMatchObject({ inGroup: false, groupKey: rot?.to });
    await expect(services[3]!.sign(new Uint8Array(32))).rejects.toMatchObject({
      code: "NODE_TSS_NO_GROUP_KEY",
    });
    const d2 = new Uint8Array(32).fill(0x77);
    const after = await Promise.all([0, 1, 2].map((i) => services[i]!.sign(d2, { kind: "batch", index: 7 })));
    expect(after[0]?.groupKey).toBe(rot?.to);
    expect(frost.verify(after[0]!.signature, d2, hexToBytes(rot?.to as Hex))).toBe(true);
  }, 60_000);
});
