/**
 * FAKE chain for the transport and bad-input tests, which must not depend on l2-exec: an
 * in-memory list of blocks with transactions, receipts and logs, and account balances. It
 * executes nothing (`call` echoes its input or reverts on request). The conformance and
 * real-client tests run on the real l2-exec backend instead.
 */
import { bytesToHex, type Hex, hexToBytes } from "@dseq/common";
import { keccak_256 } from "@noble/hashes/sha3.js";
import type {
  AccountData,
  AccountProofData,
  Address,
  BlockData,
  BlockHeaderData,
  CallRequest,
  CallResult,
  ChainHeads,
  ChainReader,
  LogData,
  ReceiptData,
  TransactionData,
} from "../../src/index.ts";

export function keccakHex(data: Uint8Array | string): Hex {
  return bytesToHex(keccak_256(typeof data === "string" ? new TextEncoder().encode(data) : data));
}

function addToBloom(bloom: Uint8Array, value: Hex): void {
  const h = keccak_256(hexToBytes(value));
  for (let i = 0; i < 6; i += 2) {
    const bit = (((h[i] as number) << 8) | (h[i + 1] as number)) & 2047;
    const idx = 255 - (bit >> 3);
    bloom[idx] = (bloom[idx] as number) | (1 << (bit & 7));
  }
}

export function bloomOf(logs: LogData[]): Hex {
  const bloom = new Uint8Array(256);
  for (const log of logs) {
    addToBloom(bloom, log.address);
    for (const t of log.topics) addToBloom(bloom, t);
  }
  return bytesToHex(bloom);
}

const ZERO32: Hex = `0x${"00".repeat(32)}`;

export type FakeTx = { from: Address; to: Address | null; value?: bigint; logs?: LogData[] };

export class MemoryChain implements ChainReader {
  readonly chainId: bigint;
  readonly blocks: BlockData[] = [];
  readonly receipts = new Map<Hex, ReceiptData[]>();
  readonly balances = new Map<Address, bigint>();
  /** Milliseconds every block read waits (slow-backend tests). */
  delayMs = 0;

  constructor(chainId = 1337n) {
    this.chainId = chainId;
    this.addBlock([]);
  }

  /** Appends a block holding `txs` (legacy, EIP-155 signed in form only). */
  addBlock(txs: FakeTx[]): BlockData {
    const number = BigInt(this.blocks.length);
    const parent = this.blocks[this.blocks.length - 1];
    const transactions: TransactionData[] = txs.map((t, i) => ({
      type: 2,
      hash: keccakHex(`tx-${number}-${i}`),
      from: t.from,
      nonce: BigInt(i),
      to: t.to,
      value: t.value ?? 0n,
      gas: 21_000n,
      input: "0x",
      maxFeePerGas: 2_000_000_000n,
      maxPriorityFeePerGas: 1_000_000n,
      chainId: this.chainId,
      accessList: [],
      v: 1n,
      r: 1n,
      s: 2n,
    }));
    const receipts: ReceiptData[] = txs.map((t, i) => ({
      status: 1,
      cumulativeGasUsed: 21_000n * BigInt(i + 1),
      gasUsed: 21_000n,
      logsBloom: bloomOf(t.logs ?? []),
      logs: t.logs ?? [],
      contractAddress: null,
      effectiveGasPrice: 1_001_000_000n,
    }));
    const header: BlockHeaderData = {
      hash: keccakHex(`block-${number}`),
      parentHash: parent?.header.hash ?? ZERO32,
      sha3Uncles: "0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347",
      miner: `0x${"00".repeat(20)}`,
      stateRoot: keccakHex(`state-${number}`),
      transactionsRoot: keccakHex(`txs-${number}`),
      receiptsRoot: keccakHex(`receipts-${number}`),
      logsBloom: bloomOf(txs.flatMap((t) => t.logs ?? [])),
      difficulty: 0n,
      number,
      gasLimit: 30_000_000n,
      gasUsed: 21_000n * BigInt(txs.length),
      timestamp: 1_700_000_000n + number * 2n,
      extraData: "0x",
      mixHash: ZERO32,
      nonce: "0x0000000000000000",
      baseFeePerGas: 1_000_000_000n,
    };
    const block: BlockData = { header, size: 600n, transactions, uncles: [] };
    this.blocks.push(block);
    this.receipts.set(header.hash, receipts);
    return block;
  }

  private async wait(): Promise<void> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
  }

  heads(): ChainHeads {
    const latest = BigInt(this.blocks.length - 1);
    return { latest, safe: latest, finalized: latest };
  }
  earliest(): bigint {
    return 0n;
  }
  async getBlockByNumber(n: bigint): Promise<BlockData | undefined> {
    await this.wait();
    return this.blocks[Number(n)];
  }
  async getBlockByHash(hash: Hex): Promise<BlockData | undefined> {
    await this.wait();
    return this.blocks.find((b) => b.header.hash === hash);
  }
  async getHeader(n: bigint): Promise<BlockHeaderData | undefined> {
    return this.blocks[Number(n)]?.header;
  }
  async getReceipts(hash: Hex): Promise<ReceiptData[] | undefined> {
    return this.receipts.get(hash);
  }
  async getTransactionLocation(hash: Hex): Promise<{ blockHash: Hex; index: number } | undefined> {
    for (const b of this.blocks) {
      const index = b.transactions.findIndex((t) => t.hash === hash);
      if (index >= 0) return { blockHash: b.header.hash, index };
    }
    return undefined;
  }
  async getAccount(address: Address): Promise<AccountData> {
    return { nonce: 0n, balance: this.balances.get(address) ?? 0n };
  }
  async getCode(): Promise<Hex> {
    return "0x";
  }
  async getStorageAt(): Promise<Hex> {
    return ZERO32;
  }
  async getProof(): Promise<AccountProofData> {
    throw new Error("getProof is not supported by the memory chain");
  }
  /** Echoes the input; input 0xdead reverts with Error("nope"). */
  async call(req: CallRequest): Promise<CallResult> {
    await this.wait();
    if (req.input === "0xdead") {
      const reason = new TextEncoder().encode("nope");
      const data = `0x08c379a0${"20".padStart(64, "0")}${reason.length.toString(16).padStart(64, "0")}${Buffer.from(reason).toString("hex").padEnd(64, "0")}`;
      return { status: "reverted", returnData: data as Hex, gasUsed: 22_000n, gasRefund: 0n };
    }
    return { status: "success", returnData: req.input ?? "0x", gasUsed: 21_000n, gasRefund: 0n };
  }
  async getRawBlock(): Promise<Hex | undefined> {
    return undefined;
  }
  async getRawHeader(): Promise<Hex | undefined> {
    return undefined;
  }
  async getRawReceipts(): Promise<Hex[] | undefined> {
    return undefined;
  }
  async getRawTransaction(): Promise<Hex | undefined> {
    return undefined;
  }
}
