import { bytesToHex, type Hex } from "@dseq/common";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { afterEach, describe, expect, it } from "vitest";
import {
  createTssTransport,
  decodeTssEnvelope,
  encodeTssEnvelope,
  type TssP2pTransport,
  type TssTransportMessage,
  verifyTssEnvelope,
} from "../src/tssTransport.ts";
import { CHAIN_ID, startNet, type TestNet, waitFor, waitMesh } from "./helpers.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const partyOf = (key: Uint8Array): Hex => bytesToHex(secp256k1.getPublicKey(key, true));

describe("TSS envelope", () => {
  it("binds author, chain and time; any change breaks the signature", () => {
    const key = secp256k1.utils.randomSecretKey();
    const bytes = encodeTssEnvelope(key, CHAIN_ID, 1_000, enc.encode("round 1"));
    const env = decodeTssEnvelope(bytes);
    expect(env.author).toBe(partyOf(key));
    expect(env.chainId).toBe(CHAIN_ID);
    expect(verifyTssEnvelope(env)).toBe(true);
    expect(verifyTssEnvelope({ ...env, chainId: CHAIN_ID + 1n })).toBe(false);
    expect(verifyTssEnvelope({ ...env, sentAtMs: 1_001 })).toBe(false);
    expect(verifyTssEnvelope({ ...env, data: enc.encode("round 2") })).toBe(false);
    expect(verifyTssEnvelope({ ...env, author: partyOf(secp256k1.utils.randomSecretKey()) })).toBe(false);
    expect(() => decodeTssEnvelope(bytes.subarray(0, 100))).toThrow();
    expect(() => decodeTssEnvelope(new Uint8Array([2, ...bytes.subarray(1)]))).toThrow();
  });
});

describe("TssTransport on 4 real hosts", () => {
  let net: TestNet | undefined;
  let transports: TssP2pTransport[] = [];
  afterEach(async () => {
    for (const t of transports) t.stop();
    transports = [];
    await net?.stopAll();
    net = undefined;
  });

  async function setup(
    members: number[],
    over: Parameters<typeof createTssTransport>[0] extends infer O ? Partial<O> : never = {},
  ) {
    net = await startNet(4);
    const ids = net.keys.map(partyOf);
    const inbox: TssTransportMessage[][] = [];
    for (const [i, host] of net.hosts.entries()) {
      const t = await createTssTransport(
        { chainId: CHAIN_ID, members: members.map((m) => ids[m] as Hex), ...over },
        { host, privateKey: net.keys[i] as Uint8Array },
      );
      const box: TssTransportMessage[] = [];
      t.subscribe((m) => box.push(m));
      inbox.push(box);
      transports.push(t);
    }
    await waitMesh(net.hosts, ["tss"]);
    return { ids, inbox };
  }

  it("delivers broadcasts and direct messages with the authenticated author; drops non-members", async () => {
    const { ids, inbox } = await setup([0, 1, 2]);
    const [t0, , , t3] = transports as [TssP2pTransport, TssP2pTransport, TssP2pTransport, TssP2pTransport];
    expect(t0.self).toBe(ids[0]);

    t0.broadcast(enc.encode("from 0 to all"));
    t0.send(ids[1] as Hex, enc.encode("from 0 to 1"));
    t0.send(ids[0] as Hex, enc.encode("from 0 to itself"));
    await waitFor(
      () => inbox[1]?.length === 2 && inbox[2]?.length === 1 && inbox[0]?.length === 1,
      10_000,
      "delivery",
    );
    expect(inbox[1]?.map((m) => [m.from, dec.decode(m.data)]).sort()).toEqual(
      [
        [ids[0], "from 0 to 1"],
        [ids[0], "from 0 to all"],
      ].sort(),
    );
    expect(inbox[0]?.map((m) => [m.from, dec.decode(m.data)])).toEqual([[ids[0], "from 0 to itself"]]);
    // the broadcast relayed to host 3 is still delivered there only if 0 is a member of 3's view: it is
    await waitFor(() => inbox[3]?.length === 1, 5_000, "broadcast at the non-member");

    // host 3 is a connected, valid peer but not a member: everything it sends is dropped
    t3.broadcast(enc.encode("from 3 to all"));
    t3.send(ids[0] as Hex, enc.encode("from 3 to 0"));
    await waitFor(() => (t0.stats.dropped.not_member ?? 0) >= 2, 10_000, "non-member drops");
    expect(inbox[0]?.some((m) => m.from === ids[3])).toBe(false);

    // once the node adds it to the set, it is heard
    for (const t of transports) t.setMembers(ids);
    t3.send(ids[0] as Hex, enc.encode("from 3 to 0, now a member"));
    await waitFor(() => inbox[0]?.some((m) => m.from === ids[3]) ?? false, 10_000, "member delivery");
  });

  it("rejects a broadcast whose envelope names another author, drops stale ones", async () => {
    const { ids, inbox } = await setup([0, 1, 2, 3]);
    const host3 = net?.hosts[3];
    if (!host3) throw new Error("no host");
    // host 3 claims to relay party 0's message but signs it itself
    const forged = encodeTssEnvelope(net?.keys[3] as Uint8Array, CHAIN_ID, Date.now(), enc.encode("forged"));
    forged.set(secp256k1.getPublicKey(net?.keys[0] as Uint8Array, true), 1);
    await host3.publish("tss", forged);
    const stale = encodeTssEnvelope(
      net?.keys[3] as Uint8Array,
      CHAIN_ID,
      Date.now() - 600_000,
      enc.encode("old"),
    );
    await host3.publish("tss", stale);
    const other = encodeTssEnvelope(
      net?.keys[3] as Uint8Array,
      CHAIN_ID + 1n,
      Date.now(),
      enc.encode("other chain"),
    );
    await host3.publish("tss", other);
    await waitFor(
      () =>
        [0, 1, 2].every((i) => {
          const d = transports[i]?.stats.dropped;
          return d !== undefined && d.bad_signature >= 1 && d.stale >= 1 && d.wrong_chain >= 1;
        }),
      10_000,
      "drops",
    );
    for (const i of [0, 1, 2]) expect(inbox[i]).toEqual([]);
    expect(ids.length).toBe(4);
  });

  it("bounds what one author may send per second", async () => {
    const { ids, inbox } = await setup([0, 1, 2, 3], { messageBurst: 5, messagesPerSecond: 0.001 });
    for (let i = 0; i < 20; i++) transports[2]?.send(ids[0] as Hex, enc.encode(`m${i}`));
    await waitFor(() => (transports[0]?.stats.dropped.rate_limited ?? 0) === 15, 10_000, "rate limit");
    expect(inbox[0]?.length).toBe(5);
    // another author has its own budget
    transports[1]?.send(ids[0] as Hex, enc.encode("from 1"));
    await waitFor(() => inbox[0]?.length === 6, 5_000, "other author");
  });
});
