// Child process of crash.test.ts: opens the chain in argv[2] and commits blocks in a loop,
// printing "committed <number>" after each commit returns, until it is killed.
import { createChain } from "../src/index.ts";
import { fillerAddress, testAccounts, testChainConfig, transferTx } from "./fixtures.ts";

const dataDir = process.argv[2] as string;
const senders = testAccounts(10, "crash");
const chain = await createChain({ dataDir, chainConfig: testChainConfig({ senders, fillers: 20 }) });
const coinbase = "0x00000000000000000000000000000000c0ffee00" as const;
process.stdout.write(`opened ${chain.head().header.number}\n`);
for (;;) {
  const head = chain.head();
  const common = head.common;
  const txs = [];
  for (let i = 0; i < senders.length; i++) {
    const s = senders[i] as (typeof senders)[number];
    const nonce = await chain.getNonce(s.address);
    for (let k = 0n; k < 3n; k++)
      txs.push(transferTx(common, s, nonce + k, fillerAddress((Number(head.header.number) + i) % 20), 1n));
  }
  const built = await chain.buildBlock({
    txs,
    timestamp: head.header.timestamp + 2n,
    coinbase,
    extraData: Uint8Array.of(1),
  });
  await chain.commit(built.block, built.receipts, {
    commitCertificate: built.block.hash(),
    finalized: true,
    safe: true,
  });
  process.stdout.write(`committed ${built.block.header.number}\n`);
}
