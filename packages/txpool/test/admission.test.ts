import { bytesToHex, hexToBytes } from "@dseq/common";
import { RLP } from "@ethereumjs/rlp";
import { createFeeMarket1559Tx, createLegacyTx, createTxFromRLP } from "@ethereumjs/tx";
import { beforeEach, describe, expect, it } from "vitest";
import {
  BLOCK_HEADER_ALLOWANCE,
  effectiveMaxTxSize,
  TxPool,
  TxPoolError,
  TxPoolErrorCode,
} from "../src/index.ts";
import {
  addressOf,
  CHAIN_ID,
  common,
  ETHER,
  GWEI,
  head,
  signTypedRaw,
  TestState,
  TO,
  testKey,
  tx1559,
  tx2930,
  tx7702,
  txLegacy,
  u,
} from "./helpers.ts";

const key = testKey(1);
const from = addressOf(key);

async function rejection(pool: TxPool, raw: Uint8Array): Promise<TxPoolError> {
  const [r] = await pool.addRemotes([raw]);
  if (!r || r.ok) throw new Error("expected a rejection");
  expect(r.error).toBeInstanceOf(TxPoolError);
  return r.error;
}

describe("admission", () => {
  let state: TestState;
  let pool: TxPool;

  beforeEach(async () => {
    state = new TestState();
    state.fund(from, ETHER);
    pool = new TxPool({ chainId: CHAIN_ID }, { state });
    await pool.start(head());
  });

  it("accepts legacy, EIP-2930, EIP-1559 and EIP-7702 transactions and recovers the sender", async () => {
    const raws = [
      txLegacy(key, { nonce: 0n }),
      tx2930(key, { nonce: 1n }),
      tx1559(key, { nonce: 2n }),
      tx7702(key, testKey(2), { nonce: 3n }),
    ];
    const results = await pool.addRemotes(raws);
    expect(results.map((r) => r.ok)).toEqual([true, true, true, true]);
    for (const r of results) if (r.ok) expect(r.from).toBe(from);
    expect(pool.status()).toEqual({ pending: 4, queued: 0 });
    expect(results.map((r) => (r.ok ? pool.get(r.hash)?.type : -1))).toEqual([0, 1, 2, 4]);
    // The pool's hash is the one every client computes (the node matches included txs by it).
    for (const r of results) {
      if (r.ok) expect(bytesToHex(pool.get(r.hash)?.tx.hash() as Uint8Array)).toBe(r.hash);
    }
    // The recovered key stays in @ethereumjs' sender cache (block building skips a second
    // recovery), and it is the key a fresh decode recovers.
    for (const r of results) {
      if (!r.ok) continue;
      const tx = pool.get(r.hash)?.tx;
      expect(tx?.cache.senderPubKey).toHaveLength(64);
      const fresh = createTxFromRLP(tx?.serialize() as Uint8Array, { common });
      expect(bytesToHex(tx?.cache.senderPubKey as Uint8Array)).toBe(bytesToHex(fresh.getSenderPublicKey()));
    }
  });

  it("refuses a transaction already in the pool", async () => {
    const raw = tx1559(key, { nonce: 0n });
    await pool.addRemote(raw);
    const err = await rejection(pool, raw);
    expect(err.code).toBe(TxPoolErrorCode.AlreadyKnown);
    expect(err.message).toBe("already known");
  });

  it("refuses a nonce below the account nonce", async () => {
    state.set(from, { nonce: 5n });
    const err = await rejection(pool, tx1559(key, { nonce: 4n }));
    expect(err.code).toBe(TxPoolErrorCode.NonceTooLow);
    expect(err.message).toBe("nonce too low: next nonce 5, tx nonce 4");
  });

  it("refuses a sender who cannot pay gas * price + value", async () => {
    state.set(from, { balance: 21_000n * 2n * GWEI });
    const err = await rejection(pool, tx1559(key, { nonce: 0n, value: 1n }));
    expect(err.code).toBe(TxPoolErrorCode.InsufficientFunds);
    expect(err.message).toBe(
      `insufficient funds for gas * price + value: balance ${42_000n * GWEI}, tx cost ${42_000n * GWEI + 1n}, overshot 1`,
    );
  });

  it("counts the cost of the sender's pending transactions (overdraft)", async () => {
    const cost = 21_000n * 2n * GWEI + 1n;
    state.set(from, { balance: 2n * cost });
    await pool.addRemote(tx1559(key, { nonce: 0n }));
    await pool.addRemote(tx1559(key, { nonce: 1n }));
    const err = await rejection(pool, tx1559(key, { nonce: 2n }));
    expect(err.message).toBe(
      `insufficient funds for gas * price + value: balance ${2n * cost}, queued cost ${2n * cost}, tx cost ${cost}, overshot ${cost}`,
    );
  });

  it("refuses gas below the intrinsic cost", async () => {
    const err = await rejection(pool, tx1559(key, { nonce: 0n, gas: 20_999n }));
    expect(err.code).toBe(TxPoolErrorCode.IntrinsicGas);
    expect(err.message).toBe("intrinsic gas too low: gas 20999, minimum needed 21000");
  });

  it("counts calldata and access lists in the intrinsic cost", async () => {
    const data = new Uint8Array(100).fill(1); // 100 non-zero bytes: 1,600 gas
    const err = await rejection(pool, tx1559(key, { nonce: 0n, gas: 22_599n, data }));
    expect(err.message).toMatch(/^intrinsic gas too low: gas 22599, minimum needed 22600/);
  });

  it("refuses gas below the EIP-7623 calldata floor (Prague)", async () => {
    // 1,000 zero bytes: intrinsic 21000 + 4000 = 25000, floor 21000 + 10 * 1000 = 31000.
    const err = await rejection(pool, tx1559(key, { nonce: 0n, gas: 30_000n, data: new Uint8Array(1000) }));
    expect(err.code).toBe(TxPoolErrorCode.FloorDataGas);
    expect(err.message).toBe("insufficient gas for floor data gas cost: gas 30000, minimum needed 31000");
  });

  it("refuses gas above the block gas limit", async () => {
    await pool.onNewHead(head({ gasLimit: 1_000_000n }));
    const err = await rejection(pool, tx1559(key, { nonce: 0n, gas: 1_000_001n }));
    expect(err.code).toBe(TxPoolErrorCode.GasLimit);
    expect(err.message).toBe("exceeds block gas limit");
  });

  it("refuses transactions larger than 128 KiB", async () => {
    const data = new Uint8Array(131_072);
    const err = await rejection(pool, tx1559(key, { nonce: 0n, gas: 10_000_000n, data }));
    expect(err.code).toBe(TxPoolErrorCode.OversizedData);
    expect(err.message).toMatch(/^oversized data: transaction size 1311\d\d, limit 131072$/);
  });

  it("refuses a transaction no block can hold: the limit is the smaller of maxTxSize and maxBlockBytes - allowance", async () => {
    // A chain whose blocks hold 100,000 bytes: a transaction the pool's 128 KiB would admit
    // could never be included, and would sit pending, skipped by every builder.
    const small = new TxPool({ chainId: CHAIN_ID, maxBlockBytes: 100_000 }, { state });
    await small.start(head());
    const limit = 100_000 - BLOCK_HEADER_ALLOWANCE;
    expect(effectiveMaxTxSize(small.opts)).toBe(limit);
    const tooBig = tx1559(key, { nonce: 0n, gas: 10_000_000n, data: new Uint8Array(limit) });
    expect(tooBig.length).toBeGreaterThan(limit);
    expect(tooBig.length).toBeLessThan(131_072);
    const err = await rejection(small, tooBig);
    expect(err.code).toBe(TxPoolErrorCode.OversizedData);
    expect(err.message).toBe(`oversized data: transaction size ${tooBig.length}, limit ${limit}`);
    const fits = tx1559(key, { nonce: 0n, gas: 10_000_000n, data: new Uint8Array(limit - 200) });
    expect(fits.length).toBeLessThanOrEqual(limit);
    expect((await small.addRemotes([fits]))[0]?.ok).toBe(true);
    // with the default 2 MiB blocks, maxTxSize is the smaller one, as before
    expect(effectiveMaxTxSize(pool.opts)).toBe(131_072);
    await small.stop();
    expect(() => new TxPool({ chainId: CHAIN_ID, maxBlockBytes: 1000 }, { state })).toThrow(/maxBlockBytes/);
  });

  it("refuses blob transactions and unknown types", async () => {
    const blob = signTypedRaw(key, 3, [
      u(CHAIN_ID),
      u(0n),
      u(GWEI),
      u(2n * GWEI),
      u(21_000n),
      hexToBytes(TO),
      u(0n),
      new Uint8Array(),
      [],
      u(1n),
      [new Uint8Array(32).fill(1)],
    ]);
    const err = await rejection(pool, blob);
    expect(err.code).toBe(TxPoolErrorCode.TxTypeNotSupported);
    expect(err.message).toBe("transaction type not supported: tx type 3 not supported by this pool");
    const unknown = await rejection(pool, new Uint8Array([0x05, 0xc0]));
    expect(unknown.message).toBe("transaction type not supported: tx type 5 not supported by this pool");
  });

  it("refuses a bad signature as an invalid sender", async () => {
    const good = createFeeMarket1559Tx(
      { nonce: 0n, maxFeePerGas: 2n * GWEI, maxPriorityFeePerGas: GWEI, gasLimit: 21_000n, to: TO },
      { common },
    ).sign(key);
    const values = good.raw();
    values[11] = new Uint8Array(); // s = 0: no key made this
    const raw = new Uint8Array([2, ...RLP.encode(values as never)]);
    const err = await rejection(pool, raw);
    expect(err.code).toBe(TxPoolErrorCode.InvalidSender);
    expect(err.message).toMatch(/^invalid sender/);
  });

  it("refuses a high-s signature (EIP-2) and an unsigned transaction", async () => {
    const good = createFeeMarket1559Tx(
      { nonce: 0n, maxFeePerGas: 2n * GWEI, maxPriorityFeePerGas: GWEI, gasLimit: 21_000n, to: TO },
      { common },
    ).sign(key);
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const values = good.raw();
    values[9] = u(1n - good.v!); // flipped parity
    values[11] = u(n - good.s!);
    const highS = await rejection(pool, new Uint8Array([2, ...RLP.encode(values as never)]));
    expect(highS.code).toBe(TxPoolErrorCode.InvalidSender);
    const unsigned = createFeeMarket1559Tx(
      { nonce: 0n, maxFeePerGas: 2n * GWEI, maxPriorityFeePerGas: GWEI, gasLimit: 21_000n, to: TO },
      { common },
    );
    const err = await rejection(pool, unsigned.serialize());
    expect(err.code).toBe(TxPoolErrorCode.InvalidSender);
  });

  it("refuses a high-s legacy signature (the legacy decoder does not check it)", async () => {
    const good = createLegacyTx(
      { nonce: 0n, gasPrice: 2n * GWEI, gasLimit: 21_000n, to: TO },
      { common },
    ).sign(key);
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const values = good.raw();
    const v = good.v as bigint;
    values[6] = u(v % 2n === 0n ? v - 1n : v + 1n); // flipped parity, same chain id
    values[8] = u(n - (good.s as bigint));
    const err = await rejection(pool, RLP.encode(values as never));
    expect(err.code).toBe(TxPoolErrorCode.InvalidSender);
    expect(err.message).toBe("invalid sender: invalid transaction v, r, s values");
  });

  it("refuses another chain's transactions, typed and EIP-155", async () => {
    const typed = await rejection(pool, tx1559(key, { nonce: 0n, chainId: 1n }));
    expect(typed.code).toBe(TxPoolErrorCode.InvalidChainId);
    expect(typed.message).toBe("invalid sender: invalid chain id for signer: have 1 want 901");
    const legacy = await rejection(pool, txLegacy(key, { nonce: 0n, chainId: 5n }));
    expect(legacy.message).toBe("invalid sender: invalid chain id for signer: have 5 want 901");
  });

  it("refuses unprotected legacy transactions unless allowed", async () => {
    const raw = createLegacyTx(
      { nonce: 0n, gasPrice: 2n * GWEI, gasLimit: 21_000n, to: TO },
      { common: commonWithoutEip155() },
    )
      .sign(key)
      .serialize();
    const err = await rejection(pool, raw);
    expect(err.code).toBe(TxPoolErrorCode.Unprotected);
    expect(err.message).toBe("only replay-protected (EIP-155) transactions allowed over RPC");
    const open = new TxPool({ chainId: CHAIN_ID, allowUnprotectedTxs: true }, { state });
    await open.start(head());
    const [r] = await open.addRemotes([raw]);
    expect(r?.ok && r.from).toBe(from);
  });

  it("refuses a tip below the minimum", async () => {
    const err = await rejection(pool, tx1559(key, { nonce: 0n, tip: 0n }));
    expect(err.code).toBe(TxPoolErrorCode.GasPriceTooLow);
    expect(err.message).toBe("transaction gas price below minimum: gas tip cap 0, minimum needed 1");
  });

  it("refuses a tip above the fee cap", async () => {
    const fields = [
      u(CHAIN_ID),
      u(0n),
      u(3n * GWEI),
      u(2n * GWEI),
      u(21_000n),
      hexToBytes(TO),
      u(1n),
      new Uint8Array(),
      [],
    ];
    const err = await rejection(pool, signTypedRaw(key, 2, fields));
    expect(err.code).toBe(TxPoolErrorCode.TipAboveFeeCap);
    expect(err.message).toBe("max priority fee per gas higher than max fee per gas");
  });

  it("refuses init code above the EIP-3860 limit", async () => {
    const fields = [
      u(CHAIN_ID),
      u(0n),
      u(GWEI),
      u(2n * GWEI),
      u(20_000_000n),
      new Uint8Array(),
      u(0n),
      new Uint8Array(49_153).fill(1),
      [],
    ];
    const err = await rejection(pool, signTypedRaw(key, 2, fields));
    expect(err.code).toBe(TxPoolErrorCode.MaxInitCodeSize);
    expect(err.message).toBe("max initcode size exceeded: code size 49153, limit 49152");
  });

  it("refuses the maximum nonce", async () => {
    const fields = [
      u(CHAIN_ID),
      u((1n << 64n) - 1n),
      u(GWEI),
      u(2n * GWEI),
      u(21_000n),
      hexToBytes(TO),
      u(0n),
      new Uint8Array(),
      [],
    ];
    const err = await rejection(pool, signTypedRaw(key, 2, fields));
    expect(err.code).toBe(TxPoolErrorCode.NonceMax);
    expect(err.message).toBe("nonce has max value");
  });

  it("refuses EIP-7702 transactions without authorizations or that create contracts", async () => {
    const empty = [
      u(CHAIN_ID),
      u(0n),
      u(GWEI),
      u(2n * GWEI),
      u(100_000n),
      hexToBytes(TO),
      u(0n),
      new Uint8Array(),
      [],
      [],
    ];
    expect((await rejection(pool, signTypedRaw(key, 4, empty))).message).toBe(
      "set code tx must have at least one authorization tuple",
    );
    const create = [
      u(CHAIN_ID),
      u(0n),
      u(GWEI),
      u(2n * GWEI),
      u(100_000n),
      new Uint8Array(),
      u(0n),
      new Uint8Array(),
      [],
      [[u(CHAIN_ID), hexToBytes(TO), u(0n), u(0n), u(1n), u(1n)]],
    ];
    expect((await rejection(pool, signTypedRaw(key, 4, create))).code).toBe(TxPoolErrorCode.SetCodeCreate);
  });

  it("refuses garbage as an encoding error", async () => {
    for (const raw of [
      new Uint8Array(),
      new Uint8Array([0x83, 1, 2, 3]),
      new Uint8Array([0xc3, 1, 2]),
      new Uint8Array([2, 0xc1, 0x01]),
    ]) {
      const err = await rejection(pool, raw);
      expect(err.code).toBe(TxPoolErrorCode.InvalidEncoding);
    }
  });

  it("refuses before start", async () => {
    const idle = new TxPool({ chainId: CHAIN_ID }, { state });
    await expect(idle.addRemote(tx1559(key, { nonce: 0n }))).rejects.toMatchObject({
      code: TxPoolErrorCode.NotStarted,
    });
  });

  it("admits through an asynchronous state reader, reading each new sender once per batch", async () => {
    const asyncState = new TestState({ async: true });
    const keys = [testKey(10), testKey(11), testKey(12)];
    for (const k of keys) asyncState.fund(addressOf(k));
    const p = new TxPool({ chainId: CHAIN_ID }, { state: asyncState });
    await p.start(head());
    const raws = keys.flatMap((k) => [tx1559(k, { nonce: 0n }), tx1559(k, { nonce: 1n })]);
    const results = await p.addRemotes(raws);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(asyncState.reads).toBe(3);
    expect(p.status()).toEqual({ pending: 6, queued: 0 });
  });
});

function commonWithoutEip155() {
  // A legacy tx signed with v = 27/28: sign under a common whose chain id we then ignore by
  // re-encoding is not possible, so sign pre-EIP-155 via the homestead hardfork.
  const c = common.copy();
  c.setHardfork("homestead");
  return c;
}
