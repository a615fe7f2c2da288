/** eth_gasPrice, eth_maxPriorityFeePerGas, eth_feeHistory, eth_blobBaseFee. */
import { bigintToHex } from "@dseq/common";
import { type Services, tagNumber } from "../context.ts";
import { invalidParams } from "../errors.ts";
import { effectiveGasPrice } from "../format.ts";
import { blockNumberOrTag, optional, ParamError, type Parser, required } from "../params.ts";
import { type MethodDef, method } from "../registry.ts";
import type { BlobParams, BlockHeaderData, ReceiptData, TransactionData } from "../types.ts";

const GAS_PER_BLOB = 131_072n;
const ELASTICITY = 2n;
const BASE_FEE_CHANGE_DENOMINATOR = 8n;

/** EIP-4844 fake_exponential. */
export function fakeExponential(factor: bigint, numerator: bigint, denominator: bigint): bigint {
  let i = 1n;
  let output = 0n;
  let acc = factor * denominator;
  while (acc > 0n) {
    output += acc;
    acc = (acc * numerator) / (denominator * i);
    i += 1n;
  }
  return output / denominator;
}

/** EIP-1559 base fee of the block after `h`. */
export function nextBaseFee(h: BlockHeaderData): bigint {
  if (h.baseFeePerGas === undefined) return 0n;
  const target = h.gasLimit / ELASTICITY;
  if (target === 0n || h.gasUsed === target) return h.baseFeePerGas;
  if (h.gasUsed > target) {
    const delta = (h.baseFeePerGas * (h.gasUsed - target)) / target / BASE_FEE_CHANGE_DENOMINATOR;
    return h.baseFeePerGas + (delta > 1n ? delta : 1n);
  }
  const delta = (h.baseFeePerGas * (target - h.gasUsed)) / target / BASE_FEE_CHANGE_DENOMINATOR;
  return h.baseFeePerGas - delta;
}

export function blobBaseFee(excessBlobGas: bigint, params: BlobParams): bigint {
  return fakeExponential(1n, excessBlobGas, params.baseFeeUpdateFraction);
}

/** The tip a transaction pays above `baseFee`. */
function effectiveTip(tx: TransactionData, baseFee: bigint | undefined): bigint {
  const price = effectiveGasPrice(tx, baseFee);
  const tip = price - (baseFee ?? 0n);
  return tip > 0n ? tip : 0n;
}

/** geth's HexOrDecimal64: a JSON number or a hex/decimal string. */
const blockCount: Parser<number> = (v) => {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === "string") {
    const n = v.startsWith("0x") ? Number.parseInt(v.slice(2), 16) : Number.parseInt(v, 10);
    if (Number.isSafeInteger(n) && n >= 0 && /^(0x[0-9a-fA-F]+|[0-9]+)$/.test(v)) return n;
  }
  throw new ParamError(
    `json: cannot unmarshal ${JSON.stringify(v)} into Go value of type math.HexOrDecimal64`,
  );
};

const percentiles: Parser<number[]> = (v) => {
  if (!Array.isArray(v) || v.some((p) => typeof p !== "number")) {
    throw new ParamError("json: cannot unmarshal into Go value of type []float64");
  }
  return v as number[];
};

export function feeMethods(svc: Services): Record<string, MethodDef> {
  const { chain, opts } = svc;

  function blobParamsAt(h: BlockHeaderData): BlobParams | undefined {
    return h.excessBlobGas === undefined ? undefined : chain.blobParams?.(h.timestamp);
  }

  /** geth's gas price oracle, simplified: a percentile of the lowest tips of recent blocks. */
  async function suggestTip(): Promise<bigint> {
    const head = chain.heads().latest;
    const tips: bigint[] = [];
    for (let i = 0n; i < BigInt(opts.gasPriceOracleBlocks) && head - i >= 0n; i++) {
      const block = await chain.getBlockByNumber(head - i);
      if (block === undefined) break;
      const blockTips = block.transactions
        .map((tx) => effectiveTip(tx, block.header.baseFeePerGas))
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      tips.push(...blockTips.slice(0, 3));
    }
    if (tips.length === 0) return opts.defaultPriorityFee;
    tips.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const idx = Math.min(
      tips.length - 1,
      Math.floor(((tips.length - 1) * opts.gasPriceOraclePercentile) / 100),
    );
    return tips[idx] as bigint;
  }

  return {
    eth_maxPriorityFeePerGas: method([], async () => bigintToHex(await suggestTip())),
    eth_gasPrice: method([], async () => {
      const head = await chain.getHeader(chain.heads().latest);
      return bigintToHex((await suggestTip()) + (head?.baseFeePerGas ?? 0n));
    }),
    eth_blobBaseFee: method([], async () => {
      const head = await chain.getHeader(chain.heads().latest);
      const params = head === undefined ? undefined : blobParamsAt(head);
      if (head === undefined || params === undefined) return bigintToHex(0n);
      const excess = head.excessBlobGas ?? 0n;
      const used = head.blobGasUsed ?? 0n;
      const targetGas = BigInt(params.target) * GAS_PER_BLOB;
      const nextExcess = excess + used < targetGas ? 0n : excess + used - targetGas;
      return bigintToHex(blobBaseFee(nextExcess, params));
    }),
    eth_feeHistory: method(
      [required(blockCount), required(blockNumberOrTag), optional(percentiles)],
      async ([count, newest, pcts]) => {
        const rewardPcts = pcts ?? [];
        for (let i = 0; i < rewardPcts.length; i++) {
          const p = rewardPcts[i] as number;
          if (p < 0 || p > 100) throw invalidParams(`invalid reward percentile: ${p}`);
          if (i > 0 && p < (rewardPcts[i - 1] as number)) {
            throw invalidParams(`invalid reward percentile: #${i - 1}:${rewardPcts[i - 1]} > #${i}:${p}`);
          }
        }
        const head = chain.heads().latest;
        let last =
          newest.kind === "tag"
            ? tagNumber(chain, newest.tag)
            : newest.kind === "number"
              ? newest.number
              : head;
        if (last > head) last = head;
        let n = BigInt(Math.min(count, opts.maxFeeHistoryBlocks));
        if (n === 0n) return { oldestBlock: "0x0", baseFeePerGas: [], gasUsedRatio: [] };
        if (n > last + 1n) n = last + 1n;
        const oldest = last - n + 1n;
        const reward: string[][] = [];
        const baseFees: string[] = [];
        const ratios: number[] = [];
        const blobFees: string[] = [];
        const blobRatios: number[] = [];
        let lastHeader: BlockHeaderData | undefined;
        for (let b = oldest; b <= last; b++) {
          const block = await chain.getBlockByNumber(b);
          if (block === undefined) throw new Error(`block ${b} not found`);
          const h = block.header;
          lastHeader = h;
          baseFees.push(bigintToHex(h.baseFeePerGas ?? 0n));
          ratios.push(h.gasLimit === 0n ? 0 : Number(h.gasUsed) / Number(h.gasLimit));
          const bp = blobParamsAt(h);
          blobFees.push(bigintToHex(bp === undefined ? 0n : blobBaseFee(h.excessBlobGas ?? 0n, bp)));
          const maxBlobGas = bp === undefined ? 0n : BigInt(bp.max) * GAS_PER_BLOB;
          blobRatios.push(maxBlobGas === 0n ? 0 : Number(h.blobGasUsed ?? 0n) / Number(maxBlobGas));
          if (rewardPcts.length > 0) {
            if (block.transactions.length === 0) {
              reward.push(rewardPcts.map(() => "0x0"));
              continue;
            }
            const receipts = (await chain.getReceipts(h.hash)) ?? [];
            const sorted = block.transactions
              .map((tx, i) => ({
                reward: effectiveTip(tx, h.baseFeePerGas),
                gasUsed: (receipts[i] as ReceiptData | undefined)?.gasUsed ?? 0n,
              }))
              .sort((x, y) => (x.reward < y.reward ? -1 : x.reward > y.reward ? 1 : 0));
            const row: string[] = [];
            let idx = 0;
            let sum = sorted[0]?.gasUsed ?? 0n;
            for (const p of rewardPcts) {
              const threshold = BigInt(Math.floor(Number(h.gasUsed) * (p / 100)));
              while (sum < threshold && idx < sorted.length - 1) {
                idx++;
                sum += sorted[idx]?.gasUsed ?? 0n;
              }
              row.push(bigintToHex(sorted[idx]?.reward ?? 0n));
            }
            reward.push(row);
          }
        }
        // One more base fee: the block after `last`, from its header when it exists.
        const next = last < head ? await chain.getHeader(last + 1n) : undefined;
        if (next !== undefined) {
          baseFees.push(bigintToHex(next.baseFeePerGas ?? 0n));
          const bp = blobParamsAt(next);
          blobFees.push(bigintToHex(bp === undefined ? 0n : blobBaseFee(next.excessBlobGas ?? 0n, bp)));
        } else if (lastHeader !== undefined) {
          baseFees.push(bigintToHex(nextBaseFee(lastHeader)));
          const bp = blobParamsAt(lastHeader);
          if (bp === undefined) blobFees.push("0x0");
          else {
            const targetGas = BigInt(bp.target) * GAS_PER_BLOB;
            const total = (lastHeader.excessBlobGas ?? 0n) + (lastHeader.blobGasUsed ?? 0n);
            blobFees.push(bigintToHex(blobBaseFee(total < targetGas ? 0n : total - targetGas, bp)));
          }
        }
        const out: Record<string, unknown> = { oldestBlock: bigintToHex(oldest) };
        if (rewardPcts.length > 0) out.reward = reward;
        out.baseFeePerGas = baseFees;
        out.gasUsedRatio = ratios;
        out.baseFeePerBlobGas = blobFees;
        out.blobGasUsedRatio = blobRatios;
        return out as never;
      },
    ),
  };
}
