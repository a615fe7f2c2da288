import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createBlock } from "@ethereumjs/block";
import { RLP } from "@ethereumjs/rlp";
import { createBlob4844Tx, createLegacyTx } from "@ethereumjs/tx";
import { bytesToBigInt, bytesToHex, createAddressFromString, hexToBytes } from "@ethereumjs/util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Chain,
  createChain,
  L1EntryKind,
  L2ExecErrorCode,
  orderedTrieRoot,
  SkipReason,
} from "../src/index.ts";
import {
  balanceSlot,
  ETH,
  fillerAddress,
  type TestAccount,
  TOKEN,
  TRANSFER_TOPIC,
  testAccounts,
  testChainConfig,
  transferCalldata,
  transferTx,
} from "./fixtures.ts";

const senders = testAccounts(8);
const config = testChainConfig({ senders, fillers: 50 });
const coinbase = "0x00000000000000000000000000000000c0ffee00" as const;
const acct = (i: number) => senders[i] as TestAccount;

describe("dseq L2 chain", () => {
  const dirs: string[] = [];
  let chain: Chain;
  const newDir = async () => {
    const d = await mkdtemp(join(tmpdir(), "l2exec-chain-"));
    dirs.push(d);
    return d;
  };

  beforeAll(async () => {
    chain = await createChain({ dataDir: await newDir(), chainConfig: config });
  });
  afterAll(async () => {
    await chain?.close();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("genesis is deterministic, Prague, and holds the alloc", async () => {
    const other = await createChain({ dataDir: await newDir(), chainConfig: config });
    expect(bytesToHex(other.genesisHash)).toBe(bytesToHex(chain.genesisHash));
    await other.close();
    const changed = await createChain({
      dataDir: await newDir(),
      chainConfig: { ...config, gasLimit: 61_000_000n },
    });
    expect(bytesToHex(changed.genesisHash)).not.toBe(bytesToHex(chain.genesisHash));
    await changed.close();

    const g = chain.head();
    expect(g.header.number).toBe(0n);
    expect(g.common.hardfork()).toBe("prague");
    expect(g.header.gasLimit).toBe(60_000_000n);
    expect(g.header.baseFeePerGas).toBe(1_000_000_000n);
    expect(bytesToHex(g.header.extraData)).toBe(config.extraData);
    expect(await chain.getBalance(acct(0).address)).toBe(1000n * ETH);
    expect(await chain.getBalance(fillerAddress(7))).toBe(ETH);
    expect(bytesToHex(await chain.getCode(TOKEN)).length).toBeGreaterThan(10);
    expect(bytesToBigInt(await chain.getStorageAt(TOKEN, balanceSlot(acct(3).address)))).toBe(1_000_000n);
  });

  it("a new data dir needs a genesis; a different genesis for an existing dir is refused", async () => {
    await expect(createChain({ dataDir: await newDir() })).rejects.toMatchObject({
      code: L2ExecErrorCode.InvalidConfig,
    });
    const d = await newDir();
    const c = await createChain({ dataDir: d, chainConfig: config });
    await c.close();
    await expect(
      createChain({ dataDir: d, chainConfig: { ...config, gasLimit: 1n + 60_000_000n } }),
    ).rejects.toMatchObject({
      code: L2ExecErrorCode.GenesisMismatch,
    });
  });

  let built1: Awaited<ReturnType<Chain["buildBlock"]>>;

  it("buildBlock runs txs in order, skips invalid ones with typed reasons, and seals real header fields", async () => {
    const common = chain.head().common;
    const recipient = fillerAddress(1);
    const ok0 = transferTx(common, acct(0), 0n, recipient, 5n * ETH);
    const ok1 = transferTx(common, acct(0), 1n, recipient, 1n);
    const tooLow = transferTx(common, acct(0), 0n, recipient, 1n); // nonce 0 again
    const gap = transferTx(common, acct(1), 5n, recipient, 1n);
    const poor = transferTx(common, acct(2), 0n, recipient, 2000n * ETH);
    const huge = transferTx(common, acct(3), 0n, recipient, 1n, { gasLimit: 70_000_000n });
    const cheap = transferTx(common, acct(4), 0n, recipient, 1n, { maxFee: 1n });
    const blob = createBlob4844Tx(
      {
        chainId: common.chainId(),
        nonce: 0n,
        to: recipient,
        gasLimit: 21_000n,
        maxFeePerGas: 10n ** 10n,
        maxPriorityFeePerGas: 1n,
        maxFeePerBlobGas: 10n ** 10n,
        blobVersionedHashes: [hexToBytes(`0x01${"00".repeat(31)}`)],
      },
      { common },
    ).sign(acct(5).key);
    const legacy = createLegacyTx(
      { nonce: 0n, to: recipient, value: 7n, gasLimit: 21_000n, gasPrice: 2_000_000_000n },
      { common },
    ).sign(acct(6).key);
    const serialized = transferTx(common, acct(7), 0n, recipient, 3n).serialize();

    built1 = await chain.buildBlock({
      txs: [ok0, tooLow, gap, poor, huge, cheap, blob, ok1, legacy, serialized],
      timestamp: chain.head().header.timestamp + 2n,
      coinbase,
      extraData: new Uint8Array([1, 2, 3]),
    });
    const { block, skipped, receipts } = built1;
    expect(block.transactions.map((t) => bytesToHex(t.hash()))).toEqual(
      [ok0, ok1, legacy]
        .map((t) => bytesToHex(t.hash()))
        .concat([bytesToHex(chain.decodeTx(serialized).hash())]),
    );
    expect(skipped.map((s) => [s.index, s.reason])).toEqual([
      [1, SkipReason.NonceTooLow],
      [2, SkipReason.NonceGap],
      [3, SkipReason.InsufficientFunds],
      [4, SkipReason.GasLimit],
      [5, SkipReason.FeeCapTooLow],
      [6, SkipReason.BlobTxNotSupported],
    ]);
    const h = block.header;
    expect(h.number).toBe(1n);
    expect(h.gasUsed).toBe(4n * 21_000n);
    expect(h.coinbase.toString()).toBe(coinbase);
    expect(bytesToHex(h.extraData)).toBe("0x010203");
    expect(bytesToHex(h.parentHash)).toBe(bytesToHex(chain.head().hash()));
    // EIP-1559: the genesis block used nothing, so the base fee drops by 1/8.
    expect(h.baseFeePerGas).toBe(875_000_000n);
    expect(bytesToHex(h.transactionsTrie)).toBe(
      bytesToHex(orderedTrieRoot(block.transactions.map((t) => t.serialize()))),
    );
    expect(receipts.length).toBe(4);
    expect(receipts.map((r) => r.cumulativeBlockGasUsed)).toEqual([21_000n, 42_000n, 63_000n, 84_000n]);
    expect(bytesToHex(h.stateRoot)).not.toBe(bytesToHex(chain.head().header.stateRoot));
    expect(built1.timings.totalMs).toBeGreaterThan(0);
    // Building touched nothing: the head is still genesis.
    expect(chain.head().header.number).toBe(0n);
    expect(await chain.getBalance(recipient)).toBe(ETH);
    // ...but the pending state can be read.
    expect(await chain.getBalance(recipient, built1.pending)).toBe(ETH + 5n * ETH + 1n + 7n + 3n);
  });

  it("executeBlock re-executes a proposal exactly; a wrong field or a bad tx is reported precisely", async () => {
    const block = built1.block;
    const ok = await chain.executeBlock(block.serialize());
    expect(ok.valid).toBe(true);
    expect(ok.differences).toEqual([]);

    const json = block.header.toJSON();
    const tampered = createBlock(
      {
        header: { ...json, receiptTrie: new Uint8Array(32), gasLimit: 59_000_000n },
        transactions: block.transactions,
        withdrawals: [],
      },
      { common: block.common },
    );
    const bad = await chain.executeBlock(tampered);
    expect(bad.valid).toBe(false);
    expect(bad.differences.map((d) => d.field).sort()).toEqual(["gasLimit", "receiptsRoot"]);

    // A block carrying a tx whose nonce is already used is invalid at that index.
    const common = block.common;
    const dup = transferTx(common, acct(0), 0n, fillerAddress(2), 1n);
    const withBadTx = createBlock(
      { header: json, transactions: [...block.transactions, dup], withdrawals: [] },
      { common },
    );
    const res = await chain.executeBlock(withBadTx);
    expect(res.valid).toBe(false);
    expect(res.invalidTx?.index).toBe(4);
    expect(res.invalidTx?.hash).toBe(bytesToHex(dup.hash()));
    expect(chain.head().header.number).toBe(0n);
  });

  it("commit makes the block the head; receipts, tx lookup, certificate and heads read back", async () => {
    const committed: bigint[] = [];
    chain.events.on("chain.committed", (e) => {
      committed.push(e.number);
    });
    const cert = new Uint8Array([9, 9, 9]);
    await chain.commit(built1.block, built1.receipts, { commitCertificate: cert, safe: true });
    expect(chain.head().header.number).toBe(1n);
    expect(chain.safe().header.number).toBe(1n);
    expect(chain.finalized().header.number).toBe(0n);
    await chain.setFinalized(1n);
    expect(chain.finalized().header.number).toBe(1n);
    expect(await chain.getCommitCertificate(1n)).toEqual(cert);
    expect(await chain.getCommitCertificate(0n)).toBeUndefined();

    const tx = built1.block.transactions[1];
    const lookup = await chain.getTransaction(bytesToHex(tx?.hash() as Uint8Array));
    expect(lookup?.index).toBe(1);
    expect(lookup?.blockNumber).toBe(1n);
    const receipt = await chain.getTransactionReceipt(tx?.hash() as Uint8Array);
    expect(receipt).toMatchObject({
      status: 1,
      gasUsed: 21_000n,
      cumulativeGasUsed: 42_000n,
      from: acct(0).address,
      transactionIndex: 1,
    });
    expect(receipt?.effectiveGasPrice).toBe(875_000_000n + 1_000_000_000n);
    const raw = await chain.getRawReceipts(built1.block.hash());
    expect(bytesToHex(orderedTrieRoot(raw as Uint8Array[]))).toBe(
      bytesToHex(built1.block.header.receiptTrie),
    );
    expect(bytesToHex((await chain.getRawBlock(1n)) as Uint8Array)).toBe(
      bytesToHex(built1.block.serialize()),
    );
    expect(bytesToHex((await chain.getRawHeader("latest")) as Uint8Array)).toBe(
      bytesToHex(built1.block.header.serialize()),
    );
    expect(await chain.getNonce(acct(0).address)).toBe(2n);
    // tips went to the proposer's coinbase: three 1559 txs tip 1 gwei, the legacy one
    // (gas price 2 gwei, base fee 0.875 gwei) tips 1.125 gwei
    expect(await chain.getBalance(coinbase)).toBe(3n * 21_000n * 1_000_000_000n + 21_000n * 1_125_000_000n);
    // the state at block 0 is still readable
    expect(await chain.getNonce(acct(0).address, 0n)).toBe(0n);
    await new Promise((r) => setTimeout(r, 5));
    expect(committed).toEqual([1n]);
  });

  it("commit refuses a block that is not a child of the head or does not re-execute", async () => {
    await expect(chain.commit(built1.block)).rejects.toMatchObject({ code: L2ExecErrorCode.NotChild });
    const b = await chain.buildBlock({ txs: [], timestamp: chain.head().header.timestamp + 2n, coinbase });
    const forged = createBlock(
      { header: { ...b.block.header.toJSON(), stateRoot: new Uint8Array(32).fill(7) }, withdrawals: [] },
      { common: b.block.common },
    );
    await expect(chain.commit(forged)).rejects.toMatchObject({ code: L2ExecErrorCode.InvalidBlock });
    expect(chain.head().header.number).toBe(1n);
  });

  it("a build pulled from a waiting source gives the block the same list gives", async () => {
    const common = chain.head().common;
    const timestamp = chain.head().header.timestamp + 2n;
    const n0 = await chain.getNonce(acct(5).address);
    const n1 = await chain.getNonce(acct(6).address);
    const list = [
      transferTx(common, acct(5), n0, acct(7).address, 1n),
      transferTx(common, acct(5), n0 + 5n, acct(7).address, 1n), // nonce gap: skipped
      transferTx(common, acct(6), n1, acct(7).address, 2n),
      transferTx(common, acct(5), n0 + 1n, acct(7).address, 3n),
    ];
    const fromList = await chain.buildBlock({ txs: list, timestamp, coinbase });
    const asked: bigint[] = [];
    let i = 0;
    const fromSource = await chain.buildBlock({
      timestamp,
      coinbase,
      txs: {
        async next(gasLeft) {
          asked.push(gasLeft);
          await new Promise((r) => setTimeout(r, 5)); // transactions still arriving
          const t = list[i++];
          return t === undefined ? undefined : t.serialize();
        },
      },
    });
    expect(bytesToHex(fromSource.block.hash())).toBe(bytesToHex(fromList.block.hash()));
    expect(fromSource.block.transactions).toHaveLength(3);
    expect(fromSource.skipped.map((x) => [x.index, x.reason])).toEqual([[1, SkipReason.NonceGap]]);
    expect(asked).toHaveLength(5); // four candidates, then the source said stop
    expect(asked[0]).toBe(chain.head().header.gasLimit);
    expect(asked[4]).toBe(chain.head().header.gasLimit - 3n * 21_000n);
  });

  it("l1Entries credit balances deterministically as the block's withdrawals", async () => {
    const to = "0x00000000000000000000000000000000000d3b05" as const;
    const entries = [
      { index: 0n, kind: L1EntryKind.Deposit, to, amount: 3n * ETH },
      { index: 1n, kind: L1EntryKind.Reward, to: coinbase, amount: 2_000_000_000n },
    ];
    await expect(
      chain.buildBlock({
        txs: [],
        timestamp: chain.head().header.timestamp + 2n,
        coinbase,
        l1Entries: [{ ...entries[0], amount: 1n } as never],
      }),
    ).rejects.toMatchObject({ code: L2ExecErrorCode.InvalidConfig });
    const coinbaseBefore = await chain.getBalance(coinbase);
    const b = await chain.buildBlock({
      txs: [],
      timestamp: chain.head().header.timestamp + 2n,
      coinbase,
      l1Entries: entries,
    });
    expect(b.block.withdrawals?.map((w) => [w.index, w.validatorIndex, w.amount])).toEqual([
      [0n, 0n, 3_000_000_000n],
      [1n, 1n, 2n],
    ]);
    // same inputs -> same block
    const again = await chain.buildBlock({
      txs: [],
      timestamp: chain.head().header.timestamp + 2n,
      coinbase,
      l1Entries: entries,
    });
    expect(bytesToHex(again.block.hash())).toBe(bytesToHex(b.block.hash()));
    // a validator re-executing it agrees, and a changed credit changes the state root
    expect((await chain.executeBlock(b.block.serialize())).valid).toBe(true);
    await chain.commit(b.block);
    expect(await chain.getBalance(to)).toBe(3n * ETH);
    expect(await chain.getBalance(coinbase)).toBe(coinbaseBefore + 2_000_000_000n);
  });

  it("ERC-20 transfers: logs by range, address and topics; call, estimateGas, overrides, proofs", async () => {
    const common = chain.head().common;
    const dest = fillerAddress(3);
    const txs = [0, 1, 2].map((i) =>
      transferTx(common, acct(i + 3), 0n, TOKEN, 0n, {
        gasLimit: 100_000n,
        data: transferCalldata(dest, BigInt(10 + i)),
      }),
    );
    const b = await chain.buildBlock({ txs, timestamp: chain.head().header.timestamp + 2n, coinbase });
    expect(b.skipped).toEqual([]);
    await chain.commit(b.block);
    const n = chain.head().header.number;
    const receipts = await chain.getReceipts(n);
    expect(receipts?.map((r) => r.status)).toEqual([1, 1, 1]);
    expect(receipts?.[2]?.logs[0]?.logIndex).toBe(2);

    const all = await chain.getLogs({ fromBlock: 0n, toBlock: "latest", address: TOKEN });
    expect(all.length).toBe(3);
    expect(all.map((l) => BigInt(l.data))).toEqual([10n, 11n, 12n]);
    const pad = (a: string) => `0x${a.slice(2).padStart(64, "0")}` as const;
    const fromOne = await chain.getLogs({
      fromBlock: 0n,
      toBlock: n,
      topics: [TRANSFER_TOPIC, pad(acct(4).address)],
    });
    expect(fromOne.map((l) => l.transactionHash)).toEqual([bytesToHex(txs[1]?.hash() as Uint8Array)]);
    const anyOf = await chain.getLogs({
      fromBlock: n,
      toBlock: n,
      topics: [null, [pad(acct(3).address), pad(acct(5).address)]],
    });
    expect(anyOf.length).toBe(2);
    expect(await chain.getLogs({ fromBlock: 0n, toBlock: n - 1n, address: TOKEN })).toEqual([]);
    expect(await chain.getLogs({ blockHash: bytesToHex(b.block.hash()), address: fillerAddress(9) })).toEqual(
      [],
    );

    const balanceOf = (who: string) => hexToBytes(`0x70a08231${who.slice(2).padStart(64, "0")}`);
    const r = await chain.call({ to: TOKEN, data: balanceOf(dest) });
    expect(r.reverted).toBe(false);
    expect(bytesToBigInt(r.returnData)).toBe(33n);
    expect(bytesToBigInt((await chain.call({ to: TOKEN, data: balanceOf(dest) }, 0n)).returnData)).toBe(0n);
    // state override: give dest a different token balance for this call only
    const o = await chain.call({ to: TOKEN, data: balanceOf(dest) }, "latest", {
      [TOKEN]: { stateDiff: { [balanceSlot(dest)]: "0x05" } },
    });
    expect(bytesToBigInt(o.returnData)).toBe(5n);
    expect(bytesToBigInt((await chain.call({ to: TOKEN, data: balanceOf(dest) })).returnData)).toBe(33n);
    // `state` replaces the whole storage for the call: dest's slot is gone, another one is set
    const replaced = await chain.call({ to: TOKEN, data: balanceOf(acct(0).address) }, "latest", {
      [TOKEN]: { state: { [balanceSlot(acct(0).address)]: "0x07" } },
    });
    expect(bytesToBigInt(replaced.returnData)).toBe(7n);
    const gone = await chain.call({ to: TOKEN, data: balanceOf(dest) }, "latest", {
      [TOKEN]: { state: { [balanceSlot(acct(0).address)]: "0x07" } },
    });
    expect(bytesToBigInt(gone.returnData)).toBe(0n);
    // estimateGas of a call that reverts throws
    await expect(
      chain.estimateGas({ from: dest, to: TOKEN, data: transferCalldata(acct(0).address, 1000n) }),
    ).rejects.toThrow(/revert/);
    // a transfer above the balance reverts
    const fail = await chain.call({ from: dest, to: TOKEN, data: transferCalldata(acct(0).address, 1000n) });
    expect(fail.reverted).toBe(true);

    const gas = await chain.estimateGas({
      from: acct(3).address,
      to: TOKEN,
      data: transferCalldata(dest, 1n),
    });
    expect(gas).toBeGreaterThan(21_000n);
    expect(gas).toBeLessThan(100_000n);
    // the estimate is enough: a real tx with that gas limit succeeds
    const t = transferTx(common, acct(3), 1n, TOKEN, 0n, { gasLimit: gas, data: transferCalldata(dest, 1n) });
    const b2 = await chain.buildBlock({ txs: [t], timestamp: chain.head().header.timestamp + 2n, coinbase });
    expect(b2.skipped).toEqual([]);
    expect(b2.receipts[0] && "status" in b2.receipts[0] ? b2.receipts[0].status : -1).toBe(1);
    // plain transfer estimate is 21000
    expect(await chain.estimateGas({ from: acct(0).address, to: dest, value: 1n })).toBe(21_000n);
    // pending state reads
    const pendingBal = await chain.call({ to: TOKEN, data: balanceOf(dest) }, b2.pending);
    expect(bytesToBigInt(pendingBal.returnData)).toBe(34n);

    // eth_getProof: account proof starts at the state root and ends at the account
    const proof = await chain.getProof(TOKEN, [balanceSlot(dest)]);
    const { keccak256 } = await import("@dseq/crypto");
    expect(bytesToHex(keccak256(hexToBytes(proof.accountProof[0] as `0x${string}`)))).toBe(
      bytesToHex(chain.head().header.stateRoot),
    );
    expect(BigInt(proof.storageProof[0]?.value as string)).toBe(33n);
    const { verifyMerkleStateProof, MerkleStateManager } = await import("@ethereumjs/statemanager");
    expect(await verifyMerkleStateProof(new MerkleStateManager({ common }), proof)).toBe(true);
    const leaf = RLP.decode(hexToBytes(proof.accountProof.at(-1) as `0x${string}`)) as Uint8Array[];
    expect(leaf.length).toBe(2);
    expect(createAddressFromString(TOKEN).toString()).toBe(TOKEN);
  });

  it("blocks are filled up to the gas limit; the rest is skipped as gas_limit", async () => {
    const small = await createChain({
      dataDir: await newDir(),
      chainConfig: testChainConfig({ senders, gasLimit: 50_000n }),
    });
    const common = small.head().common;
    const txs = [0, 1, 2].map((i) => transferTx(common, acct(i), 0n, fillerAddress(1), 1n));
    const b = await small.buildBlock({ txs, timestamp: small.head().header.timestamp + 2n, coinbase });
    expect(b.block.transactions.length).toBe(2);
    expect(b.skipped.map((s) => s.reason)).toEqual([SkipReason.GasLimit]);
    await small.close();
  });

  it("reopening continues from the head with the same state root and indexes", async () => {
    const head = chain.head();
    const dir = dirs[0] as string;
    await chain.close();
    chain = await createChain({ dataDir: dir, chainConfig: config });
    expect(bytesToHex(chain.head().hash())).toBe(bytesToHex(head.hash()));
    expect(bytesToHex(chain.head().header.stateRoot)).toBe(bytesToHex(head.header.stateRoot));
    expect(chain.safe().header.number).toBe(1n);
    expect(chain.finalized().header.number).toBe(1n);
    expect((await chain.getLogs({ fromBlock: 0n, toBlock: "latest", address: TOKEN })).length).toBe(3);
    // and keeps building on it
    const b = await chain.buildBlock({ txs: [], timestamp: head.header.timestamp + 2n, coinbase });
    await chain.commit(b.block);
    expect(chain.head().header.number).toBe(head.header.number + 1n);
  });
});
