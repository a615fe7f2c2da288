// A 3-of-4 group on an in-memory test network: distributed key generation, shares stored
// encrypted, one signing session, and the signature in the form the L1 contract verifies.
// Run: bash scripts/env.sh node packages/mpc-tss/examples/dkgAndSign.ts
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { hexToBytes, utf8ToBytes } from "@dseq/common";
import {
  createPartyKey,
  createTestNetwork,
  DkgSession,
  frost,
  KeyShareStore,
  NonceStore,
  Signer,
  SigningCoordinator,
  toL1Signature,
  verifyL1Signature,
} from "../src/index.ts";

const dir = await mkdtemp(join(tmpdir(), "dseq-tss-example-"));
const net = createTestNetwork({ seed: 1, dropRate: 0.1, maxDelayMs: 5 }); // lossy on purpose
const parties = Array.from({ length: 4 }, () => createPartyKey());
const members = parties.map((p) => p.id);

// 1. DKG: every member runs its own session; t = floor(2n/3) + 1 = 3.
const sessions = parties.map((key) =>
  new DkgSession({ epoch: 1, members }, { key, transport: net.join(key.id) }).start(),
);
const results = await Promise.all(sessions.map((s) => s.result));
const group = results[0]!.group;
console.log(`group key ${group.groupKey} (${group.threshold}-of-${group.participants.length})`);

// 2. Each node keeps its share encrypted at rest and runs a signer with a policy hook.
const coordinators: SigningCoordinator[] = [];
const signers: Signer[] = [];
for (const [i, key] of parties.entries()) {
  const store = await KeyShareStore.open({
    dir: join(dir, `node${i}`, "keys"),
    password: "example password",
    scrypt: { N: 1 << 14, r: 8, p: 1 }, // cheap for the example; the default is N = 2^17
  });
  await store.put(results[i]!.keyShare);
  const nonces = await NonceStore.open({
    dir: join(dir, `node${i}`, "nonces"),
    key: store.dataKey("nonces"),
  });
  const transport = net.join(key.id);
  const approve = (message: Uint8Array): boolean => new TextDecoder().decode(message).startsWith("batch ");
  signers.push(new Signer({ approve }, { key, transport, shares: store, nonces }).start());
  coordinators.push(new SigningCoordinator({}, { key, transport }).start());
}

// 3. Any member coordinates a signing session.
const message = utf8ToBytes("batch 42: state root 0x1234");
const res = await coordinators[2]!.sign({ group, message, context: { kind: "batch", index: 42 } });
console.log(`signed by ${res.signers.length} members in ${res.attempts} attempt(s)`);
console.log(`noble verifies: ${frost.verify(res.signature, message, hexToBytes(group.groupKey))}`);

// 4. The L1 form: R = (rx, ry), z, P = (px, py), 32-byte words.
const l1 = toL1Signature(res.signature, group.groupKey);
console.log(JSON.stringify(l1, null, 2));
console.log(`L1 equation holds: ${verifyL1Signature(l1, message)}`);

// A message the nodes cannot rebuild is refused by every signer's approve hook.
const refused = await coordinators[0]!
  .sign({ group, message: utf8ToBytes("withdraw everything") })
  .catch((e: { code: string }) => e.code);
console.log(`unapproved message: ${refused}`);

for (const c of coordinators) c.stop();
await Promise.all(signers.map((s) => s.stop()));
for (const s of sessions) s.stop();
net.close();
await rm(dir, { recursive: true, force: true });
