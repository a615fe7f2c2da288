/** net_*, web3_*, eth_syncing and txpool_*. */
import { bigintToHex, bytesToHex, type Hex, hexToBytes, numberToHex } from "@dseq/common";
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { Services } from "../context.ts";
import { formatTransaction, type JsonObject } from "../format.ts";
import { address, data, required } from "../params.ts";
import { type MethodDef, method } from "../registry.ts";
import type { Address, TransactionData } from "../types.ts";

/** EIP-55 mixed-case checksum address (txpool_content keys, as geth prints them). */
export function toChecksumAddress(addr: Address): string {
  const lower = addr.slice(2).toLowerCase();
  const h = bytesToHex(keccak_256(new TextEncoder().encode(lower))).slice(2);
  let out = "0x";
  for (let i = 0; i < lower.length; i++) {
    const c = lower[i] as string;
    out += Number.parseInt(h[i] as string, 16) >= 8 ? c.toUpperCase() : c;
  }
  return out;
}

function byNonce(txs: TransactionData[]): JsonObject {
  const out: JsonObject = {};
  for (const tx of txs) out[tx.nonce.toString()] = formatTransaction(tx, undefined);
  return out;
}

function bySender(groups: Map<Address, TransactionData[]>): JsonObject {
  const out: JsonObject = {};
  for (const [sender, txs] of groups) out[toChecksumAddress(sender)] = byNonce(txs);
  return out;
}

export function nodeMethods(svc: Services): Record<string, MethodDef> {
  const { backend, chain, opts } = svc;
  const defs: Record<string, MethodDef> = {
    net_version: method([], () => opts.networkId ?? chain.chainId.toString()),
    net_listening: method([], () => true),
    net_peerCount: method([], () => numberToHex(backend.peerCount?.() ?? 0)),
    web3_clientVersion: method([], () => opts.clientVersion),
    web3_sha3: method([required(data)], ([input]) => bytesToHex(keccak_256(hexToBytes(input))) as Hex),
    eth_syncing: method([], () => {
      const s = backend.syncing?.() ?? false;
      if (s === false) return false;
      return {
        startingBlock: bigintToHex(s.startingBlock),
        currentBlock: bigintToHex(s.currentBlock),
        highestBlock: bigintToHex(s.highestBlock),
      };
    }),
  };
  const pool = backend.txpool;
  if (pool !== undefined) {
    defs.txpool_status = method([], () => {
      const s = pool.status();
      return { pending: numberToHex(s.pending), queued: numberToHex(s.queued) };
    });
    defs.txpool_content = method([], () => {
      const c = pool.content();
      return { pending: bySender(c.pending), queued: bySender(c.queued) };
    });
    defs.txpool_contentFrom = method([required(address)], ([a]) => {
      const c = pool.contentFrom(a);
      return { pending: byNonce(c.pending), queued: byNonce(c.queued) };
    });
  }
  return defs;
}
