import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Hex, hexToBytes } from "@dseq/common";
import { frost, type PartyId, verifyL1Signature } from "@dseq/mpc-tss";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runGenesisDkg } from "../../src/tss/genesisDkg.ts";
import { type LocalTssNet, manualValidatorSource, startLocalTssNet } from "../../src/tss/localTssNet.ts";
import { NodeTssErrorCode } from "../../src/tss/tssErrors.ts";
import { TssService } from "../../src/tss/tssService.ts";

const CHAIN_ID = 902n;
const SCRYPT = { N: 1 << 14, r: 8, p: 1 };

describe("genesis DKG and voting power on 4 real p2p hosts", () => {
  let net: LocalTssNet;
  let root: string;
  const services: TssService[] = [];
  // total 100; up to 2 members (10 + 20) may be faulty, so t = 3; a quorum needs > 66 power
  const powers = [40n, 30n, 20n, 10n];

  beforeAll(async () => {
    net = await startLocalTssNet(4, CHAIN_ID);
    root = await mkdtemp(join(tmpdir(), "dseq-node-tss-genesis-"));
  }, 60_000);
  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await net?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it("every genesis validator gets the same key; the service starts with it and runs no DKG", async () => {
    const validators = net.keys.map((k, i) => ({ party: k.id, power: powers[i] as bigint }));
    const dirs = net.keys.map((_, i) => join(root, `v${i}`));
    const results = await Promise.all(
      net.keys.map((key, i) =>
        runGenesisDkg(
          { chainId: CHAIN_ID, validators, dataDir: dirs[i] as string, password: `pw${i}`, scrypt: SCRYPT },
          { key, transport: net.transports[i]! },
        ),
      ),
    );
    const groupKey = results[0]?.groupKey as Hex;
    expect(results.every((r) => r.groupKey === groupKey && r.group.threshold === 3)).toBe(true);
    // idempotent: a second call returns the stored key without a DKG (nobody else runs one now)
    const again = await runGenesisDkg(
      { chainId: CHAIN_ID, validators, dataDir: dirs[2] as string, password: "pw2", scrypt: SCRYPT },
      { key: net.keys[2]!, transport: net.transports[2]! },
    );
    expect(again.groupKey).toBe(groupKey);

    for (const [i, key] of net.keys.entries()) {
      const s = new TssService(
        {
          chainId: CHAIN_ID,
          dataDir: dirs[i] as string,
          password: `pw${i}`,
          scrypt: SCRYPT,
          coordinatorSlotMs: 1_000,
          approve: () => true,
        },
        { key, transport: net.transports[i]!, validators: manualValidatorSource({ span: 0n, validators }) },
      );
      services.push(await s.start());
      expect(s.groupKey()).toBe(groupKey);
      expect(s.status()).toMatchObject({ inGroup: true, dkgRunning: false, epoch: 0 });
    }

    // the smallest validator silent: 90 of 100 remain, signed
    const digest = new Uint8Array(32).fill(7);
    const three = services.slice(0, 3);
    await services[3]?.stop();
    const sigs = await Promise.all(
      three.map((s) => s.sign(digest, { kind: "batch" }, { leader: net.keys[0]?.id as PartyId })),
    );
    expect(verifyL1Signature(sigs[0]!.l1, digest)).toBe(true);
    expect(frost.verify(sigs[0]!.signature, digest, hexToBytes(groupKey))).toBe(true);
  }, 60_000);

  it("three members that hold only 60% of the power do not sign, although they reach the count t", async () => {
    await services[0]?.stop();
    const digest = new Uint8Array(32).fill(8);
    const s1 = services[1] as TssService;
    const s2 = services[2] as TssService;
    // member 3 comes back (10): 1 + 2 + 3 = 60 of 100, 3 members = t
    const validators = net.keys.map((k, i) => ({ party: k.id, power: powers[i] as bigint }));
    const s3 = new TssService(
      {
        chainId: CHAIN_ID,
        dataDir: join(root, "v3"),
        password: "pw3",
        scrypt: SCRYPT,
        coordinatorSlotMs: 500,
        approve: () => true,
      },
      {
        key: net.keys[3]!,
        transport: net.transports[3]!,
        validators: manualValidatorSource({ span: 0n, validators }),
      },
    );
    services.push(await s3.start());
    const outcomes = await Promise.allSettled(
      [s1, s2, s3].map((s) => s.sign(digest, {}, { deadlineMs: 3_000 })),
    );
    for (const o of outcomes) {
      expect(o.status).toBe("rejected");
      expect((o as PromiseRejectedResult).reason.code).toBe(NodeTssErrorCode.SignTimeout);
    }
  }, 60_000);
});
