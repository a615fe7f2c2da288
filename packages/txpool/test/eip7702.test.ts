import { describe, expect, it } from "vitest";
import { TxPool, TxPoolErrorCode } from "../src/index.ts";
import { addressOf, CHAIN_ID, ETHER, GWEI, head, TestState, testKey, tx1559, tx7702 } from "./helpers.ts";

const sender = testKey(21);
const authority = testKey(22);
const other = testKey(23);

async function setup() {
  const state = new TestState();
  for (const k of [sender, authority, other]) state.fund(addressOf(k), ETHER);
  const pool = new TxPool({ chainId: CHAIN_ID }, { state });
  await pool.start(head());
  return { state, pool };
}

async function code(pool: TxPool, raw: Uint8Array): Promise<string> {
  const [r] = await pool.addRemotes([raw]);
  return r?.ok ? "ok" : (r?.error.code ?? "none");
}

describe("EIP-7702 pool rules (geth's)", () => {
  it("records the authorities an EIP-7702 transaction carries", async () => {
    const { pool } = await setup();
    const h = await pool.addRemote(tx7702(sender, authority, { nonce: 0n }));
    expect(pool.get(h)?.authorities).toEqual([addressOf(authority)]);
  });

  it("gives a sender with code one executable transaction in flight, replaceable, and no gaps", async () => {
    const { state, pool } = await setup();
    state.set(addressOf(sender), { hasCode: true });
    expect(await code(pool, tx1559(sender, { nonce: 1n }))).toBe(TxPoolErrorCode.OutOfOrderFromDelegated);
    expect(await code(pool, tx1559(sender, { nonce: 0n }))).toBe("ok");
    const [r] = await pool.addRemotes([tx1559(sender, { nonce: 1n })]);
    expect(r?.ok === false && r.error.message).toBe(
      "in-flight transaction limit reached for delegated accounts",
    );
    expect(await code(pool, tx1559(sender, { nonce: 0n, tip: 2n * GWEI, fee: 4n * GWEI }))).toBe("ok");
    expect(pool.status()).toEqual({ pending: 1, queued: 0 });
  });

  it("treats an account with a pooled authorization like a delegated one", async () => {
    const { pool } = await setup();
    expect(await code(pool, tx1559(authority, { nonce: 0n }))).toBe("ok");
    expect(await code(pool, tx7702(sender, authority, { nonce: 0n }))).toBe("ok");
    expect(await code(pool, tx1559(authority, { nonce: 1n }))).toBe(TxPoolErrorCode.InflightTxLimit);
    expect(await code(pool, tx1559(other, { nonce: 0n }))).toBe("ok");
  });

  it("refuses an authorization of an account with more than one pooled transaction", async () => {
    const { pool } = await setup();
    await pool.addRemotes([tx1559(authority, { nonce: 0n }), tx1559(authority, { nonce: 1n })]);
    const [r] = await pool.addRemotes([tx7702(sender, authority, { nonce: 0n })]);
    expect(r?.ok === false && r.error.code).toBe(TxPoolErrorCode.AuthorityReserved);
    expect(r?.ok === false && r.error.message).toBe("authority already reserved");
  });

  it("releases the reservation when the EIP-7702 transaction leaves", async () => {
    const { state, pool } = await setup();
    const h = await pool.addRemote(tx7702(sender, authority, { nonce: 0n }));
    state.set(addressOf(sender), { nonce: 1n });
    await pool.onNewHead(head({ number: 2n, includedTxHashes: [h] }));
    await pool.addRemotes([tx1559(authority, { nonce: 0n })]);
    expect(await code(pool, tx1559(authority, { nonce: 1n }))).toBe("ok");
  });
});
