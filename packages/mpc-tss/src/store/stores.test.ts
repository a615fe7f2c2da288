import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, type Hex } from "@dseq/common";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TssErrorCode } from "../errors.ts";
import type { KeyShare } from "../keyShare.ts";
import { KeyShareStore } from "./keyShareStore.ts";
import { NonceStore } from "./nonceStore.ts";

const fast = { N: 1 << 10, r: 8, p: 1 };
let dir = "";
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "dseq-tss-store-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function share(epoch: number): KeyShare {
  const gk = bytesToHex(new Uint8Array([2, ...randomBytes(32)]));
  const me = bytesToHex(new Uint8Array([3, ...randomBytes(32)]));
  return {
    group: {
      epoch,
      sessionId: bytesToHex(randomBytes(32)),
      members: [me],
      participants: [me],
      threshold: 2,
      groupKey: gk,
      commitments: [gk],
      verifyingShares: { [me]: gk },
      identifiers: { [me]: "01".padStart(64, "0") },
    },
    self: me,
    identifier: "01".padStart(64, "0"),
    signingShare: new Uint8Array(randomBytes(32)),
  };
}

describe("KeyShareStore", () => {
  it("seals shares at rest, reopens with the password, refuses a wrong one", async () => {
    const s = await KeyShareStore.open({ dir, password: "pw", scrypt: fast });
    const a = share(1);
    await s.put(a);
    const raw = await readFile(join(dir, "share-1.json"), "utf8");
    expect(raw).not.toContain(Buffer.from(a.signingShare).toString("hex"));
    const again = await KeyShareStore.open({ dir, password: "pw" });
    expect(again.active()?.signingShare).toEqual(a.signingShare);
    expect(again.active()?.group).toEqual(a.group);
    const err = await KeyShareStore.open({ dir, password: "nope" }).catch((e) => e);
    expect(err.code).toBe(TssErrorCode.StoreLocked);
  });

  it("keeps the old share until the rotation is confirmed, then deletes it", async () => {
    const s = await KeyShareStore.open({ dir, password: "pw", scrypt: fast });
    const e1 = share(1);
    const e2 = share(2);
    await s.put(e1);
    await s.put(e2);
    let r = await KeyShareStore.open({ dir, password: "pw" });
    expect(r.active()?.group.epoch).toBe(1);
    expect(r.pending()?.group.epoch).toBe(2);
    expect(r.byGroupKey(e1.group.groupKey)?.group.epoch).toBe(1);
    expect(r.byGroupKey(e2.group.groupKey)?.group.epoch).toBe(2);
    await r.confirmRotation(2);
    r = await KeyShareStore.open({ dir, password: "pw" });
    expect(r.active()?.group.epoch).toBe(2);
    expect(r.pending()).toBeUndefined();
    expect(r.get(1)).toBeUndefined();
    expect((await readdir(dir)).filter((f) => f.startsWith("share-"))).toEqual(["share-2.json"]);
    await expect(r.put(share(2))).rejects.toMatchObject({ code: TssErrorCode.BadParams });
  });

  it("detects a share file whose public part was swapped", async () => {
    const s = await KeyShareStore.open({ dir, password: "pw", scrypt: fast });
    await s.put(share(1));
    const f = JSON.parse(await readFile(join(dir, "share-1.json"), "utf8"));
    f.group.threshold = 1;
    await writeFile(join(dir, "share-1.json"), JSON.stringify(f));
    await expect(KeyShareStore.open({ dir, password: "pw" })).rejects.toMatchObject({
      code: TssErrorCode.StoreCorrupt,
    });
  });
});

describe("NonceStore", () => {
  const pub = {
    sessionId: bytesToHex(randomBytes(32)),
    coordinator: bytesToHex(new Uint8Array([2, ...randomBytes(32)])),
    groupKey: bytesToHex(new Uint8Array([2, ...randomBytes(32)])),
    hiding: bytesToHex(new Uint8Array([2, ...randomBytes(32)])),
    binding: bytesToHex(new Uint8Array([3, ...randomBytes(32)])),
  };
  const nonces = () => ({
    hiding: new Uint8Array(randomBytes(32)),
    binding: new Uint8Array(randomBytes(32)),
  });

  it("a nonce is taken once, and stays used after reopening", async () => {
    const key = new Uint8Array(randomBytes(32));
    const s = await NonceStore.open({ dir, key });
    const n = nonces();
    const rec = await s.create(pub, n);
    const onDisk = await readFile(join(dir, `${rec.nonceId}.json`), "utf8");
    expect(onDisk).not.toContain(Buffer.from(n.hiding).toString("hex"));
    const reopened = await NonceStore.open({ dir, key });
    expect(reopened.status(rec.nonceId)).toBe("fresh");
    const got = await reopened.take(rec.nonceId, pub);
    expect(got.hiding).toEqual(n.hiding);
    await expect(reopened.take(rec.nonceId, pub)).rejects.toMatchObject({
      code: TssErrorCode.NonceUnavailable,
    });
    const third = await NonceStore.open({ dir, key });
    expect(third.status(rec.nonceId)).toBe("used");
    await expect(third.take(rec.nonceId, pub)).rejects.toMatchObject({ code: TssErrorCode.NonceUnavailable });
    expect(await readFile(join(dir, `${rec.nonceId}.json`), "utf8")).not.toContain('"secret"');
  });

  it("refuses unknown nonces, a mismatching commitment, and concurrent double takes", async () => {
    const s = await NonceStore.open({ dir, key: new Uint8Array(32) });
    await expect(s.take(bytesToHex(randomBytes(16)), pub)).rejects.toMatchObject({
      code: TssErrorCode.NonceUnavailable,
    });
    const rec = await s.create(pub, nonces());
    await expect(s.take(rec.nonceId, { ...pub, hiding: pub.binding as Hex })).rejects.toMatchObject({
      code: TssErrorCode.NonceUnavailable,
    });
    // Another coordinator cannot spend it either.
    await expect(s.take(rec.nonceId, { ...pub, coordinator: pub.hiding as Hex })).rejects.toMatchObject({
      code: TssErrorCode.NonceUnavailable,
    });
    const both = await Promise.allSettled([s.take(rec.nonceId, pub), s.take(rec.nonceId, pub)]);
    expect(both.filter((r) => r.status === "fulfilled")).toHaveLength(1);
  });

  it("prunes old records", async () => {
    const s = await NonceStore.open({ dir, key: new Uint8Array(32) });
    await s.create(pub, nonces(), 1000);
    await s.create(pub, nonces(), 5000);
    expect(await s.prune(2000, 4000)).toBe(1);
    expect(s.size).toBe(1);
    expect((await NonceStore.open({ dir, key: new Uint8Array(32) })).size).toBe(1);
  });
});
