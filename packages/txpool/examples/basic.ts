// A pool on an in-memory state: admit signed transactions, build a block in price-and-nonce
// order, commit it, and watch the pool follow. Run: bash scripts/env.sh node packages/txpool/examples/basic.ts
import { bytesToHex, utf8ToBytes } from "@dseq/common";
import { createEthereumCrypto, keccak256, privateKeyToAddress } from "@dseq/crypto";
import { type AccountState, type Address, type StateReader, TxPool } from "@dseq/txpool";
import { createCustomCommon, Mainnet } from "@ethereumjs/common";
import { createFeeMarket1559Tx } from "@ethereumjs/tx";

const CHAIN_ID = 901n;
const GWEI = 1_000_000_000n;
const common = createCustomCommon({ chainId: Number(CHAIN_ID) }, Mainnet, {
  hardfork: "prague",
  customCrypto: createEthereumCrypto(),
});

/** The state backend: the node reads l2-exec's state at the head; here a Map. */
class MapState implements StateReader {
  readonly accounts = new Map<Address, AccountState>();
  getAccount(address: Address): AccountState {
    return this.accounts.get(address) ?? { nonce: 0n, balance: 0n };
  }
}

const alice = keccak256(utf8ToBytes("alice"));
const bob = keccak256(utf8ToBytes("bob"));
const aliceAddr = bytesToHex(privateKeyToAddress(alice));
const bobAddr = bytesToHex(privateKeyToAddress(bob));
const state = new MapState();
state.accounts.set(aliceAddr, { nonce: 0n, balance: 10n ** 18n });
state.accounts.set(bobAddr, { nonce: 0n, balance: 10n ** 18n });

const transfer = (key: Uint8Array, nonce: bigint, tipGwei: bigint) =>
  createFeeMarket1559Tx(
    {
      nonce,
      maxPriorityFeePerGas: tipGwei * GWEI,
      maxFeePerGas: 100n * GWEI,
      gasLimit: 21_000n,
      to: bobAddr,
      value: 1n,
    },
    { common },
  )
    .sign(key)
    .serialize();

const pool = new TxPool({ chainId: CHAIN_ID }, { state });
pool.events.on("txpool.added", (e) =>
  console.log("added", e.hash.slice(0, 10), "nonce", e.nonce, e.pending ? "pending" : "queued"),
);
pool.events.on("txpool.removed", (e) => console.log("removed", e.hash.slice(0, 10), e.reason));
await pool.start({ number: 0n, gasLimit: 30_000_000n, nextBaseFee: GWEI });

const results = await pool.addRemotes([
  transfer(alice, 0n, 1n),
  transfer(alice, 2n, 9n),
  transfer(bob, 0n, 3n),
]);
for (const r of results) console.log(r.ok ? `ok ${r.hash.slice(0, 10)}` : `refused: ${r.error.message}`);
try {
  await pool.addRemote(transfer(alice, 0n, 1n));
} catch (err) {
  console.log("resend:", (err as Error).message); // "already known"
}
await pool.addRemote(transfer(alice, 1n, 2n)); // fills alice's gap: nonce 2 becomes pending
console.log("status", pool.status());

// Build a block: best effective tip first, each sender in nonce order.
const block = [...pool.pending()];
console.log(
  "block order",
  block.map((t) => `${t.from === aliceAddr ? "alice" : "bob"}#${t.nonce}`),
);

// Commit it: the node updates the state, then tells the pool.
state.accounts.set(aliceAddr, { nonce: 3n, balance: 10n ** 18n });
state.accounts.set(bobAddr, { nonce: 1n, balance: 10n ** 18n });
await pool.onNewHead({
  number: 1n,
  gasLimit: 30_000_000n,
  nextBaseFee: GWEI,
  includedTxHashes: block.map((t) => t.hash),
});
console.log("status after commit", pool.status(), "alice pending nonce", await pool.pendingNonce(aliceAddr));
