/** Account state reads at a block: balance, code, storage, nonce, proofs. */
import { bigintToHex } from "@dseq/common";
import { isPending, type Services, stateBlock } from "../context.ts";
import {
  address,
  blockRef,
  LATEST,
  optional,
  ParamError,
  type Parser,
  required,
  storageKey,
} from "../params.ts";
import { type MethodDef, method } from "../registry.ts";

const storageKeys: Parser<{ slot: `0x${string}`; bytes: number }[]> = (v) => {
  if (!Array.isArray(v))
    throw new ParamError("json: cannot unmarshal non-array into Go value of type []string");
  return v.map(storageKey);
};

export function stateMethods(svc: Services): Record<string, MethodDef> {
  const { chain } = svc;
  const at = optional(blockRef, LATEST);
  return {
    eth_getBalance: method([required(address), at], async ([a, ref]) => {
      const n = await stateBlock(chain, ref ?? LATEST);
      return bigintToHex((await chain.getAccount(a, n)).balance);
    }),
    eth_getCode: method([required(address), at], async ([a, ref]) => {
      const n = await stateBlock(chain, ref ?? LATEST);
      return chain.getCode(a, n);
    }),
    eth_getStorageAt: method([required(address), required(storageKey), at], async ([a, key, ref]) => {
      const n = await stateBlock(chain, ref ?? LATEST);
      return chain.getStorageAt(a, key.slot, n);
    }),
    eth_getTransactionCount: method([required(address), at], async ([a, ref]) => {
      const r = ref ?? LATEST;
      if (isPending(r)) {
        const pooled = await svc.backend.txpool?.pendingNonce(a);
        if (pooled !== undefined) return bigintToHex(pooled);
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
