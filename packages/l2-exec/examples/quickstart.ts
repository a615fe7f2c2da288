// A dseq L2 chain in a temp dir: genesis, one block with a transfer and an L1 deposit,
// re-executed as a validator would, committed, read back.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@dseq/common";
import { keccak256, privateKeyToAddress } from "@dseq/crypto";
import { createFeeMarket1559Tx } from "@ethereumjs/tx";
import { bytesToHex } from "@ethereumjs/util";
import { createChain, L1EntryKind } from "../src/index.ts";

const key = keccak256(new TextEncoder().encode("example sender"));
const alice = bytesToHex(privateKeyToAddress(key));
const bob = "0x000000000000000000000000000000000000b0b0";
const proposer = "0x00000000000000000000000000000000c0ffee00";

const dataDir = await mkdtemp(join(tmpdir(), "l2exec-example-"));
const chain = await createChain({
  dataDir,
  logger: createLogger({ level: "warn" }),
  chainConfig: { chainId: 901, alloc: { [alice]: { balance: 10n ** 21n } }, timestamp: 1_700_000_000n },
});
console.log("genesis", bytesToHex(chain.genesisHash));

const tx = createFeeMarket1559Tx(
  {
    chainId: 901n,
    nonce: 0n,
    to: bob,
    value: 10n ** 18n,
    gasLimit: 21_000n,
    maxFeePerGas: 10n ** 10n,
    maxPriorityFeePerGas: 10n ** 9n,
  },
  { common: chain.common },
).sign(key);

const built = await chain.buildBlock({
  txs: [tx],
  timestamp: chain.head().header.timestamp + 2n,
  coinbase: proposer,
  l1Entries: [{ index: 0n, kind: L1EntryKind.Deposit, to: bob, amount: 5n * 10n ** 18n }],
});
console.log(
  `built ${built.block.header.number} txs ${built.block.transactions.length} skipped ${built.skipped.length}`,
);

// what every validator does with the proposal before voting
const check = await chain.executeBlock(built.block.serialize());
console.log("valid", check.valid);

await chain.commit(built.block, built.receipts, {
  commitCertificate: new Uint8Array([1]),
  safe: true,
  finalized: true,
});
const receipt = await chain.getTransactionReceipt(tx.hash());
console.log(`head ${chain.head().header.number} status ${receipt?.status} gasUsed ${receipt?.gasUsed}`);
console.log(`bob ${await chain.getBalance(bob)}`);

await chain.close();
await rm(dataDir, { recursive: true, force: true });
