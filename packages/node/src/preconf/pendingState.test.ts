import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bytesToHex, type Hex } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import { type Chain, createChain } from "@dseq/l2-exec";
import { createFeeMarket1559Tx } from "@ethereumjs/tx";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeFragment } from "../blockStream.ts";
import { keyInfo } from "../keystore.ts";
import { chainReader } from "../rpcBackend.ts";
import { preconfFromWire } from "./fromWire.ts";
import { createPreconfirmedState } from "./pendingState.ts";
import { createPreconfStore } from "./store.ts";

const key = keccak256(new TextEncoder().encode("pending state key"));
const from = keyInfo(key).address.toLowerCase() as Hex;
const bob = `0x${"b0".repeat(20)}` as Hex;

describe("the preconfirmed state (ADR 0176) on a real chain", () => {
  let dir: string;
  let chain: Chain;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "dseq-pending-"));
    chain = await createChain({
      dataDir: join(dir, "chain"),
      chainConfig: {
        chainId: 1337n,
        gasLimit: 30_000_000n,
        timestamp: BigInt(Math.floor(Date.now() / 1000)),
        alloc: { [from]: { balance: 10n ** 24n } },
      },
    });
  });
  afterAll(async () => {
    await chain.close();
    await rm(dir, { recursive: true, force: true });
  });

  const transfer = (nonce: bigint, value: bigint): Uint8Array =>
    createFeeMarket1559Tx(
      {
        chainId: 1337n,
        nonce,
        to: bob,
        value,
        gasLimit: 21_000n,
        maxFeePerGas: 10n ** 10n,
        maxPriorityFeePerGas: 1n,
      },
      { common: chain.common },
    )
      .sign(key)
      .serialize();

  it("reads balances, nonces and calls after the preconfirmed prefix, rebuilt as fragments come", async () => {
    const store = createPreconfStore();
    const view = createPreconfirmedState({ chain, store });
    expect(await view.state()).toBeUndefined(); // nothing preconfirmed
    const head = chain.head();
    const fragment = (seq: number, txs: Uint8Array[]) =>
      preconfFromWire(
        encodeFragment(
          {
            height: 1,
            parentHash: bytesToHex(head.hash()),
            timestamp: head.header.timestamp + 2n,
            seq,
            last: false,
            txs,
          },
          1337n,
          key,
        ),
        1337n,
      );
    store.add(fragment(0, [transfer(0n, 5n)]));
    const first = await view.state();
    expect(first).toBeDefined();
    expect(await view.state()).toBe(first); // built once per prefix
    expect(await chain.getBalance(bob, first)).toBe(5n);
    expect(await chain.getNonce(from, first)).toBe(1n);
    expect(await chain.getBalance(bob, "latest")).toBe(0n); // nothing was written
    store.add(fragment(1, [transfer(1n, 7n)]));
    const second = await view.state();
    expect(await chain.getBalance(bob, second)).toBe(12n);

    // A pending call (the next block's context) runs after the promise; a latest one does not.
    const reader = chainReader(chain, { preconfirmed: view });
    const n = chain.head().header.number;
    // A contract returning BALANCE(bob) (put there by a state override): a call that reads the
    // state it runs on sees the promise when pending, the head when latest.
    const probe = `0x${"c0".repeat(20)}`;
    const overrides = { [probe]: { code: `0x73${bob.slice(2)}3160005260206000f3` as Hex } };
    const pending = await reader.call({ to: probe } as never, n, { nextBlock: true, overrides });
    const latest = await reader.call({ to: probe } as never, n, { overrides });
    expect(pending.status === "success" && BigInt(pending.returnData)).toBe(12n);
    expect(latest.status === "success" && BigInt(latest.returnData)).toBe(0n);

    // The rpc's view of it (ADR 0177): state reads and the receipts of the prefix's transactions.
    const pre = reader.preconfirmed;
    expect((await (await pre?.state())?.getAccount(bob))?.balance).toBe(12n);
    const second1 = bytesToHex(keccak256(transfer(1n, 7n)));
    const r = await pre?.receipt(second1);
    expect(r).toMatchObject({
      blockNumber: 1n,
      timestamp: head.header.timestamp + 2n,
      index: 1,
      firstLogIndex: 0,
      tx: { hash: second1, from, to: bob, type: 2 },
      receipt: { status: 1, gasUsed: 21_000n, cumulativeGasUsed: 42_000n, contractAddress: null },
    });
    expect(await pre?.receipt(`0x${"ab".repeat(32)}`)).toBeUndefined(); // not in the prefix
    expect(view.holds(second1)).toBe(true);
    expect(view.holds(`0x${"ab".repeat(32)}`)).toBe(false);

    // With the proposer's reward recipient as coinbase, the tips of the prefix go to it.
    const recipient = `0x${"fe".repeat(20)}` as Hex;
    const paid = createPreconfirmedState({ chain, store, coinbase: () => recipient });
    const built = await paid.build();
    expect(built?.pending.block.header.coinbase.toString()).toBe(recipient);
    expect(await chain.getBalance(recipient, built?.pending)).toBe(2n * 21_000n); // 1 wei tip each
  });
});
