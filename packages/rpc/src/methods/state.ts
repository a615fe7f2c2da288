/** Account state reads at a block (or after the preconfirmed prefix): balance, code, storage, nonce, proofs. */
import { bigintToHex } from "@dseq/common";
import { isPending, type Services, stateBlock } from "../context.ts";
import {
  address,
  type BlockRef,
  blockRef,
  LATEST,
  optional,
  ParamError,
  type Parser,
  required,
  storageKey,
} from "../params.ts";
import { type MethodDef, method } from "../registry.ts";
import type { PreconfirmedStateData } from "../types.ts";

const storageKeys: Parser<{ slot: `0x${string}`; bytes: number }[]> = (v) => {
  if (!Array.isArray(v))
    throw new ParamError("json: cannot unmarshal non-array into Go value of type []string");
  return v.map(storageKey);
};

export function stateMethods(svc: Services): Record<string, MethodDef> {
  const { chain } = svc;
  const at = optional(blockRef, LATEST);
  /**
   * `pending` reads the state after the preconfirmed prefix of the open height (ADR 0176, 0177);
   * undefined (read `latest`) for any other reference or when nothing is preconfirmed.
   */
  const preconfirmed = (ref: BlockRef): Promise<PreconfirmedStateData | undefined> =>
    isPending(ref) && chain.preconfirmed !== undefined
      ? chain.preconfirmed.state()
      : Promise.resolve(undefined);
  return {
    eth_getBalance: method([required(address), at], async ([a, ref]) => {
      const r = ref ?? LATEST;
      const pre = await preconfirmed(r);
      if (pre !== undefined) return bigintToHex((await pre.getAccount(a)).balance);
      const n = await stateBlock(chain, r);
      return bigintToHex((await chain.getAccount(a, n)).balance);
    }),
    eth_getCode: method([required(address), at], async ([a, ref]) => {
      const r = ref ?? LATEST;
      const pre = await preconfirmed(r);
      if (pre !== undefined) return pre.getCode(a);
      const n = await stateBlock(chain, r);
      return chain.getCode(a, n);
    }),
    eth_getStorageAt: method([required(address), required(storageKey), at], async ([a, key, ref]) => {
      const r = ref ?? LATEST;
      const pre = await preconfirmed(r);
      if (pre !== undefined) return pre.getStorageAt(a, key.slot);
      const n = await stateBlock(chain, r);
      return chain.getStorageAt(a, key.slot, n);
    }),
    eth_getTransactionCount: method([required(address), at], async ([a, ref]) => {
      const r = ref ?? LATEST;
      if (isPending(r)) {
        // The pool counts what it holds (preconfirmed transactions stay in it until committed);
        // for a sender it holds nothing of, the preconfirmed state has what the proposer promised
        // before this node's pool heard of it. Pool first: it costs no build of the prefix.
        const pooled = await svc.backend.txpool?.pendingNonce(a);
        if (pooled !== undefined) return bigintToHex(pooled);
        const pre = await preconfirmed(r);
        if (pre !== undefined) return bigintToHex((await pre.getAccount(a)).nonce);
      }
      const n = await stateBlock(chain, r);
      return bigintToHex((await chain.getAccount(a, n)).nonce);
    }),
    eth_getProof: method([required(address), required(storageKeys), at], async ([a, keys, ref]) => {
      const n = await stateBlock(chain, ref ?? LATEST);
      const proof = await chain.getProof(
        a,
        keys.map((k) => k.slot),
        n,
      );
      return {
        address: proof.address,
        accountProof: proof.accountProof,
        balance: bigintToHex(proof.balance),
        codeHash: proof.codeHash,
        nonce: bigintToHex(proof.nonce),
        storageHash: proof.storageHash,
        storageProof: proof.storageProof.map((sp, i) => {
          const k = keys[i];
          // geth: a 32-byte key comes back as given, any other length as a QUANTITY.
          const key = k !== undefined && k.bytes !== 32 ? bigintToHex(BigInt(k.slot)) : sp.key;
          return { key, value: bigintToHex(sp.value), proof: sp.proof };
        }),
      };
    }),
  };
}
