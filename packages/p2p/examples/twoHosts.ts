// Two dseq hosts on 127.0.0.1: a status handshake, a batch of transactions gossiped, blocks
// synced by range, a direct TSS message, and the peer table. Run:
//   bash scripts/env.sh node packages/p2p/examples/twoHosts.ts
import { randomBytes } from "node:crypto";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import {
  type BlockWithCertificate,
  createP2pHost,
  decodeBatch,
  defaultGossipBatcherOptions,
  GossipBatcher,
  peerIdToAddress,
  sequencerKeyToPeerId,
} from "../src/index.ts";

const chain = { chainId: 901n, genesisHash: new Uint8Array(32).fill(1) };
const keyA = secp256k1.utils.randomSecretKey();
const keyB = secp256k1.utils.randomSecretKey();
const addressOf = (k: Uint8Array) => peerIdToAddress(sequencerKeyToPeerId(k)) as `0x${string}`;
const validators = new Set([addressOf(keyA), addressOf(keyB)]);

// a chain of 200 committed blocks on host A (opaque bytes to p2p)
const blocks: BlockWithCertificate[] = Array.from({ length: 200 }, (_, i) => ({
  height: BigInt(i + 1),
  block: randomBytes(500),
  certificate: randomBytes(96),
}));
const blockSource = {
  head: () => ({ height: 200n, hash: new Uint8Array(32).fill(2) }),
  getRange: (from: bigint, count: number) => blocks.slice(Number(from) - 1, Number(from) - 1 + count),
};

const a = await createP2pHost({ privateKey: keyA, ...chain }, { validators, blocks: blockSource });
const b = await createP2pHost(
  { privateKey: keyB, ...chain, staticPeers: [a.multiaddrs()[0] as string] },
  { validators },
);
console.log(`A ${a.address} listening on ${a.multiaddrs()[0]}`);

// B receives transaction batches; A's validator hook would check signatures here
const received = new Promise<number>((resolve) => {
  b.subscribe("tx", {
    decode: (bytes) => decodeBatch(bytes, 1_024),
    validate: (txs) => (txs.every((t) => t.length > 0) ? "accept" : "reject"),
    onMessage: (txs, from) => resolve(txs.length + (from.validator === a.address ? 0 : 1_000_000)),
  });
});
a.subscribe("tx", { decode: (bytes) => decodeBatch(bytes, 1_024), onMessage: () => undefined });
await b.onDirect((payload, from) =>
  console.log(`B got a direct TSS message of ${payload.length} bytes from ${from.validator}`),
);

await new Promise<void>((resolve) => b.events.on("p2p.peer.ready", () => resolve()));
while (a.topicPeers("tx").length === 0) await new Promise((r) => setTimeout(r, 50));

// A gossips 100 transactions as one batch, not 100 messages
const batcher = new GossipBatcher(defaultGossipBatcherOptions, (batch) => void a.publish("tx", batch));
for (let i = 0; i < 100; i++) batcher.add(randomBytes(120));
batcher.flush();
console.log(`B received a batch of ${await received} transactions from validator A`);

let synced = 0;
for await (const blk of b.blocksByRange(a.peerId, 1n, 200)) synced += blk.block.length > 0 ? 1 : 0;
console.log(`B synced ${synced} blocks with certificates from A`);

while (!b.readyPeers().includes(a.peerId) || !a.readyPeers().includes(b.peerId)) {
  await new Promise((r) => setTimeout(r, 20));
}
await a.sendDirect(b.peerId, randomBytes(64));

for (const p of b.peers()) {
  console.log(
    `B's peer table: ${p.peerId.slice(0, 16)}... validator=${p.isValidator} state=${p.state} score=${p.score.toFixed(2)}`,
  );
}
await b.stop();
await a.stop();
