/**
 * eth_sendRawTransactionSync (EIP-7966, geth 1.16.6): submits like eth_sendRawTransaction, then
 * answers with the receipt once a committed block includes the transaction. Past the timeout
 * the error is code 4 with the transaction hash in `data` (geth's txSyncTimeoutError): the
 * transaction stays in the pool.
 *
 * A third parameter `{ "preconfirmed": true }` (ADR 0172) answers with the preconfirmed receipt
 * instead, as soon as a signed fragment of the proposer carries the transaction (or with the
 * committed receipt if the block commits first); the receipt then has `blockHash` null and a
 * `preconfirmation` field with the fragment, its index and the proposer's signature.
 */
import { type Hex, hexToBytes } from "@dseq/common";
import type { Services } from "../context.ts";
import { RpcError, RpcErrorCode } from "../errors.ts";
import { formatReceipt, type Json } from "../format.ts";
import { data as dataParam, optional, type Parser, quantity, required } from "../params.ts";
import { type MethodDef, method } from "../registry.ts";
import type { Preconfirmation, PreconfSource } from "../subscriptions.ts";
import type { ReceiptData, TransactionData } from "../types.ts";

/** geth's code for "added to the pool but not processed within the timeout". */
export const TX_SYNC_TIMEOUT_CODE = 4;

export type TxSyncOptions = {
  /** Wait when the caller names no timeout (geth: 2 s on 12 s blocks; ADR 0132). */
  txSyncDefaultTimeoutMs: number;
  /** Longest wait a caller may ask for (geth: 1 min). */
  txSyncMaxTimeoutMs: number;
};

export const defaultTxSyncOptions: TxSyncOptions = {
  txSyncDefaultTimeoutMs: 5_000,
  txSyncMaxTimeoutMs: 60_000,
};

/** Milliseconds, as a hex quantity (viem, geth's hexutil.Uint64) or a JSON number. */
const timeoutMs: Parser<number> = (v) => {
  if (typeof v === "number") {
    if (!Number.isSafeInteger(v) || v < 0) throw new RpcError(RpcErrorCode.InvalidParams, "invalid timeout");
    return v;
  }
  const q = quantity(v);
  return q > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(q);
};

/** `{ "preconfirmed": boolean }`, nothing else. */
const syncFlags: Parser<{ preconfirmed: boolean }> = (v) => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new RpcError(RpcErrorCode.InvalidParams, "options must be an object");
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (k !== "preconfirmed") throw new RpcError(RpcErrorCode.InvalidParams, `unknown option ${k}`);
  }
  if (o.preconfirmed !== undefined && typeof o.preconfirmed !== "boolean") {
    throw new RpcError(RpcErrorCode.InvalidParams, "preconfirmed must be a boolean");
  }
  return { preconfirmed: o.preconfirmed === true };
};

/** The preconfirmed receipt of `txHash` in `p`, when `p` carries one. */
export function preconfirmedReceipt(p: Preconfirmation, txHash: Hex): Json | undefined {
  const r = p.receipts.find(
    (x) => typeof x.transactionHash === "string" && x.transactionHash.toLowerCase() === txHash.toLowerCase(),
  );
  if (r === undefined) return undefined;
  return {
    ...r,
    blockHash: null,
    preconfirmation: {
      blockNumber: `0x${p.blockNumber.toString(16)}`,
      round: `0x${p.round.toString(16)}`,
      index: `0x${p.index.toString(16)}`,
      proposer: p.proposer,
      signature: p.signature,
      fragment: p.fragment,
    },
  };
}

export function sendRawSyncMethods(
  svc: Services,
  opts: TxSyncOptions = defaultTxSyncOptions,
  preconfs: () => PreconfSource | undefined = () => undefined,
): Record<string, MethodDef> {
  const { chain } = svc;
  const submit = svc.backend.submitRawTransaction;
  const events = svc.backend.events;
  if (submit === undefined || events === undefined) return {};

  async function receiptOf(txHash: Hex): Promise<Json | undefined> {
    const loc = await chain.getTransactionLocation(txHash);
    if (loc === undefined) return undefined;
    const block = await chain.getBlockByHash(loc.blockHash);
    const receipts = block === undefined ? undefined : await chain.getReceipts(loc.blockHash);
    const receipt = receipts?.[loc.index];
    if (block === undefined || receipts === undefined || receipt === undefined) return undefined;
    let firstLogIndex = 0;
    for (let i = 0; i < loc.index; i++) firstLogIndex += (receipts[i] as ReceiptData).logs.length;
    return formatReceipt(
      receipt,
      block.transactions[loc.index] as TransactionData,
      block.header,
      loc.index,
      firstLogIndex,
    );
  }

  return {
    eth_sendRawTransactionSync: method(
      [required(dataParam), optional(timeoutMs), optional(syncFlags)],
      async ([raw, asked, flags], ctx) => {
        const bytes = hexToBytes(raw);
        if (bytes.length === 0) throw new RpcError(RpcErrorCode.Server, "typed transaction too short");
        const wait =
          asked === undefined || asked === 0
            ? opts.txSyncDefaultTimeoutMs
            : Math.min(asked, opts.txSyncMaxTimeoutMs);
        // Listen before submitting: the block that includes it may commit before submit resolves.
        let wake: (() => void) | undefined;
        const off = events.on("chain.head", () => wake?.());
        const source = flags?.preconfirmed === true ? preconfs() : undefined;
        if (flags?.preconfirmed === true && source === undefined) {
          off();
          throw new RpcError(RpcErrorCode.InvalidParams, "this node has no preconfirmations");
        }
        const seen: Preconfirmation[] = [];
        const offPreconf = source?.subscribe((p) => {
          if (seen.length < 1024) seen.push(p);
          wake?.();
        });
        try {
          const txHash = await submit(bytes);
          const deadline = Date.now() + wait;
          for (;;) {
            for (const p of seen.splice(0)) {
              const pre = preconfirmedReceipt(p, txHash);
              if (pre !== undefined) return pre;
            }
            const r = await receiptOf(txHash);
            if (r !== undefined) return r;
            const left = deadline - Date.now();
            if (left <= 0 || ctx.signal.aborted) break;
            if (seen.length > 0) continue; // arrived while the receipt was looked up
            await new Promise<void>((resolve) => {
              const t = setTimeout(resolve, left);
              const onAbort = (): void => resolve();
              ctx.signal.addEventListener("abort", onAbort, { once: true });
              wake = () => {
                clearTimeout(t);
                ctx.signal.removeEventListener("abort", onAbort);
                resolve();
              };
            });
            wake = undefined;
          }
          throw new RpcError(
            TX_SYNC_TIMEOUT_CODE,
            `The transaction was added to the transaction pool but wasn't processed in ${wait}ms`,
            txHash,
          );
        } finally {
          off();
          offPreconf?.();
        }
      },
    ),
  };
}
