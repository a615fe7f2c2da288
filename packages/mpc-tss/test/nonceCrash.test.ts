import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, type Hex, hexToBytes, utf8ToBytes } from "@dseq/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeMessage, encodeMessage } from "../src/codec.ts";
import type { DkgResult } from "../src/dkg/dkgSession.ts";
import { type KeyShare, toFrostPublic, toFrostSecret } from "../src/keyShare.ts";
import type { NonceCommitmentWire, SignRequestMsg, TssMessage } from "../src/messages.ts";
import { KeyShareStore } from "../src/store/keyShareStore.ts";
import { frost } from "../src/suite.ts";
import { fulfilled, makeParties, runTestDkg } from "./helpers.ts";

const fixture = join(import.meta.dirname, "fixtures", "signerProcess.ts");
const PASSWORD = "crash-test";

type Child = { proc: ChildProcess; inbox: TssMessage[]; waiters: (() => void)[] };

/**
 * The signer under test runs in a real child process (`process.execPath` running the .ts
 * fixture) and is killed with SIGKILL; the parent plays the coordinator and the other signers.
 */
describe("a signer killed between round 1 and round 2 never reuses a nonce", () => {
  let dataDir = "";
  let results: DkgResult[] = [];
  let childShare: KeyShare;
  let secretHex: Hex;
  const coordinator = makeParties(4, 77)[1]!.id;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    const keys = makeParties(4, 77);
    const run = await runTestDkg(keys);
    run.close();
    results = fulfilled(run);
    childShare = results[0]!.keyShare;
    secretHex = bytesToHex(keys[0]!.secretKey);
    dataDir = await mkdtemp(join(tmpdir(), "dseq-tss-crash-"));
    const store = await KeyShareStore.open({
      dir: join(dataDir, "keys"),
      password: PASSWORD,
      scrypt: { N: 1 << 12, r: 8, p: 1 },
    });
    await store.put(childShare);
  }, 60_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    await rm(dataDir, { recursive: true, force: true });
  });

  async function startChild(env: Record<string, string> = {}): Promise<Child> {
    const proc = spawn(process.execPath, [fixture], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: { ...process.env, DATA_DIR: dataDir, PARTY_SECRET: secretHex, PASSWORD, ...env },
    });
    children.push(proc);
    const child: Child = { proc, inbox: [], waiters: [] };
    await new Promise<void>((resolve, reject) => {
      proc.once("error", reject);
      proc.once("exit", (code, sig) => reject(new Error(`child exited early: ${code ?? sig}`)));
      proc.on("message", (m: { ready?: boolean; to?: string; data?: Hex }) => {
        if (m.ready) return resolve();
        const msg = m.data ? decodeMessage(hexToBytes(m.data)) : undefined;
        if (msg) child.inbox.push(msg);
        for (const w of child.waiters.splice(0)) w();
      });
    });
    proc.removeAllListeners("exit");
    return child;
  }

  const deliver = (c: Child, m: TssMessage): void => {
    c.proc.send({ from: coordinator, data: bytesToHex(encodeMessage(m)) });
  };

  async function nextMessage(c: Child, pred: (m: TssMessage) => boolean): Promise<TssMessage> {
    for (;;) {
      const i = c.inbox.findIndex(pred);
      if (i >= 0) return c.inbox.splice(i, 1)[0] as TssMessage;
      await new Promise<void>((r, j) => {
        const t = setTimeout(() => j(new Error("child did not answer")), 15_000);
        c.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async function kill(c: Child): Promise<void> {
    const exited = new Promise<string | null>((r) => c.proc.once("exit", (_code, sig) => r(sig)));
    c.proc.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
  }

  const sid = bytesToHex(new Uint8Array(32).fill(7));
  const group = () => childShare.group;
  const wire = (c: { hiding: Uint8Array; binding: Uint8Array }): NonceCommitmentWire => ({
    nonceId: bytesToHex(new Uint8Array(16).fill(9)),
    hiding: bytesToHex(c.hiding),
    binding: bytesToHex(c.binding),
  });

  function request(att: number, childC: NonceCommitmentWire, helpers: number[], message: Uint8Array) {
    const others = helpers.map((i) => {
      const ks = results[i]!.keyShare;
      const c = frost.commit(toFrostSecret(ks));
      return { ks, c };
    });
    const req: SignRequestMsg = {
      type: "sig/request",
      sessionId: sid,
      attempt: att,
      groupKey: group().groupKey,
      message: bytesToHex(message),
      context: {},
      signers: [
        { party: childShare.self, commitment: childC },
        ...others.map((o) => ({ party: o.ks.self, commitment: wire(o.c.commitments) })),
      ],
    };
    return { req, others };
  }

  it("killed after committing: the persisted nonce serves exactly one share, then never again", async () => {
    let child = await startChild();
    deliver(child, { type: "sig/start", sessionId: sid, groupKey: group().groupKey });
    const commit = await nextMessage(child, (m) => m.type === "sig/commit");
    if (commit.type !== "sig/commit") throw new Error("unreachable");
    const c1 = commit.commitment;
    await kill(child); // between round 1 (commitment published) and round 2

    child = await startChild();
    const m1 = utf8ToBytes("batch 1");
    const r1 = request(1, c1, [1, 2], m1);
    deliver(child, r1.req);
    const ans1 = await nextMessage(child, (m) => m.type === "sig/share" || m.type === "sig/refuse");
    // The nonce was stored but never used: one share from it is legitimate, and it is valid.
    expect(ans1.type).toBe("sig/share");
    if (ans1.type !== "sig/share") throw new Error("unreachable");
    const pub = toFrostPublic(group());
    const list = r1.req.signers.map((s) => ({
      identifier: group().identifiers[s.party] as string,
      hiding: hexToBytes(s.commitment.hiding),
      binding: hexToBytes(s.commitment.binding),
    }));
    const shares: Record<string, Uint8Array> = { [childShare.identifier]: hexToBytes(ans1.share) };
    for (const o of r1.others) {
      shares[o.ks.identifier] = frost.signShare(toFrostSecret(o.ks), pub, o.c.nonces, list, m1);
    }
    const sig = frost.aggregate(pub, list, m1, shares);
    expect(frost.verify(sig, m1, hexToBytes(group().groupKey))).toBe(true);
    expect(ans1.next?.nonceId).not.toBe(c1.nonceId);

    // Same nonce, another quorum and message: refused, before and after another SIGKILL.
    const r2 = request(2, c1, [1, 3], utf8ToBytes("batch 2"));
    deliver(child, r2.req);
    const ans2 = await nextMessage(child, (m) => m.type === "sig/share" || m.type === "sig/refuse");
    expect(ans2).toMatchObject({ type: "sig/refuse", reason: "nonce" });
    await kill(child);
    child = await startChild();
    for (const [att, req] of [
      [3, request(3, c1, [2, 3], utf8ToBytes("batch 3")).req],
      [1, r1.req],
    ] as const) {
      deliver(child, { ...req, attempt: att });
      const ans = await nextMessage(child, (m) => m.type === "sig/share" || m.type === "sig/refuse");
      expect(ans).toMatchObject({ type: "sig/refuse", reason: "nonce" });
    }
    await kill(child);
  }, 60_000);

  it("killed after marking the nonce used but before the share: refused after restart", async () => {
    const sid2 = bytesToHex(new Uint8Array(32).fill(8));
    let child = await startChild({ CRASH_AFTER_NONCE_USED: "1" });
    deliver(child, { type: "sig/start", sessionId: sid2, groupKey: group().groupKey });
    const commit = await nextMessage(child, (m) => m.type === "sig/commit");
    if (commit.type !== "sig/commit") throw new Error("unreachable");
    const exited = new Promise<string | null>((r) => child.proc.once("exit", (_c, s) => r(s)));
    const r = request(1, commit.commitment, [1, 2], utf8ToBytes("batch A"));
    deliver(child, { ...r.req, sessionId: sid2 });
    expect(await exited).toBe("SIGKILL"); // died in round 2, after the durable "used" mark
    expect(child.inbox.filter((m) => m.type === "sig/share")).toEqual([]);

    child = await startChild();
    deliver(child, { ...r.req, sessionId: sid2, attempt: 2 });
    const ans = await nextMessage(child, (m) => m.type === "sig/share" || m.type === "sig/refuse");
    expect(ans).toMatchObject({ type: "sig/refuse", reason: "nonce" });
    await kill(child);
  }, 60_000);
});
