// The `pending` tag on state reads (ADR 0176, 0177): after the preconfirmed prefix when the chain
// has one, `latest` when it has none; other tags and numbers are untouched.
import type { Hex } from "@dseq/common";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AccountData,
  type Address,
  createRpcServer,
  type PreconfirmedReader,
  type PreconfirmedReceiptData,
  type PreconfirmedStateData,
  type RpcServer,
  type TxPoolView,
} from "../src/index.ts";
import { bloomOf, keccakHex, MemoryChain } from "./helpers/memoryChain.ts";
import { rpc } from "./helpers/rpcClient.ts";

const ALICE: Address = "0x1111111111111111111111111111111111111111";
const BOB: Address = "0x2222222222222222222222222222222222222222";
const SLOT: Hex = `0x${"00".repeat(31)}07`;
const word = (n: number): Hex => `0x${n.toString(16).padStart(64, "0")}`;

/** A memory chain with a settable preconfirmed state (undefined: nothing preconfirmed). */
class PreconfChain extends MemoryChain {
  promised:
    | { accounts: Map<Address, AccountData>; code: Map<Address, Hex>; slots: Map<string, Hex> }
    | undefined;
  receipts_: Map<Hex, PreconfirmedReceiptData> = new Map();
  stateReads = 0;
  readonly preconfirmed: PreconfirmedReader = {
    state: async (): Promise<PreconfirmedStateData | undefined> => {
      this.stateReads++;
      const p = this.promised;
      if (p === undefined) return undefined;
      return {
        getAccount: async (a) => p.accounts.get(a) ?? { nonce: 0n, balance: 0n },
        getCode: async (a) => p.code.get(a) ?? "0x",
        getStorageAt: async (a, slot) => p.slots.get(`${a}/${slot}`) ?? word(0),
      };
    },
    receipt: async (h) => this.receipts_.get(h),
  };
}

describe("the pending tag on eth_getBalance / getCode / getStorageAt / getTransactionCount", () => {
  const chain = new PreconfChain();
  let pooledNonce: bigint | undefined;
  const txpool = {
    pendingNonce: (a: Address) => (a === ALICE ? pooledNonce : undefined),
  } as unknown as TxPoolView;
  let server: RpcServer;
  let url: string;

  beforeAll(async () => {
    chain.balances.set(BOB, 100n);
    chain.addBlock([]);
    server = createRpcServer(
      { http: { host: "127.0.0.1", port: 0 }, ws: false },
      { backend: { chain, txpool } },
    );
    await server.start();
    url = server.httpUrl as string;
  });
  afterAll(async () => {
    await server.stop();
  });

  const read = async (method: string, params: unknown[]): Promise<unknown> => {
    const r = await rpc(url, method, params);
    if (r.error) throw new Error(r.error.message);
    return r.result;
  };

  it("without a preconfirmation, pending answers what latest answers", async () => {
    chain.promised = undefined;
    expect(await read("eth_getBalance", [BOB, "pending"])).toBe("0x64");
    expect(await read("eth_getCode", [BOB, "pending"])).toBe("0x");
    expect(await read("eth_getStorageAt", [BOB, SLOT, "pending"])).toBe(word(0));
    expect(await read("eth_getTransactionCount", [BOB, "pending"])).toBe("0x0");
  });

  it("with one, pending reads the preconfirmed state; latest, numbers and hashes do not", async () => {
    chain.promised = {
      accounts: new Map([
        [BOB, { nonce: 0n, balance: 105n }],
        [ALICE, { nonce: 3n, balance: 1n }],
      ]),
      code: new Map([[BOB, "0x6001"]]),
      slots: new Map([[`${BOB}/${SLOT}`, word(42)]]),
    };
    expect(await read("eth_getBalance", [BOB, "pending"])).toBe("0x69");
    expect(await read("eth_getCode", [BOB, "pending"])).toBe("0x6001");
    expect(await read("eth_getStorageAt", [BOB, SLOT, "pending"])).toBe(word(42));
    const before = chain.stateReads;
    expect(await read("eth_getBalance", [BOB, "latest"])).toBe("0x64");
    expect(await read("eth_getBalance", [BOB])).toBe("0x64"); // the default is latest
    expect(await read("eth_getBalance", [BOB, "0x1"])).toBe("0x64");
    const head = chain.blocks[1]?.header.hash as Hex;
    expect(await read("eth_getBalance", [BOB, { blockHash: head }])).toBe("0x64");
    expect(await read("eth_getCode", [BOB, "latest"])).toBe("0x");
    expect(await read("eth_getStorageAt", [BOB, SLOT, "safe"])).toBe(word(0));
    expect(chain.stateReads).toBe(before); // only pending asks for the preconfirmed state
  });

  it("the pending nonce is the pool's when it holds the sender's, else the preconfirmed state's", async () => {
    pooledNonce = undefined; // this node's pool has none of ALICE's: the promise counts
    expect(await read("eth_getTransactionCount", [ALICE, "pending"])).toBe("0x3");
    pooledNonce = 5n; // two more pooled behind the preconfirmed ones
    const before = chain.stateReads;
    expect(await read("eth_getTransactionCount", [ALICE, "pending"])).toBe("0x5");
    expect(chain.stateReads).toBe(before); // answered by the pool, no build of the prefix
    expect(await read("eth_getTransactionCount", [ALICE, "latest"])).toBe("0x0");
    chain.promised = undefined;
    pooledNonce = undefined;
    expect(await read("eth_getTransactionCount", [ALICE, "pending"])).toBe("0x0");
  });
});

describe("eth_getTransactionReceipt of a preconfirmed transaction (ADR 0177)", () => {
  const chain = new PreconfChain();
  let server: RpcServer;
  let url: string;
  // The default endpoint: a receipt means committed; the preconfirmed one on request (ADR 0179).
  let plainServer: RpcServer;
  let plain: string;
  const log = { address: BOB, topics: [word(7)], data: word(42) };

  beforeAll(async () => {
    chain.addBlock([]);
    server = createRpcServer(
      { http: { host: "127.0.0.1", port: 0 }, ws: false, preconfirmedReceipts: true },
      { backend: { chain } },
    );
    plainServer = createRpcServer(
      { http: { host: "127.0.0.1", port: 0 }, ws: false },
      { backend: { chain } },
    );
    await server.start();
    await plainServer.start();
    url = server.httpUrl as string;
    plain = plainServer.httpUrl as string;
  });
  afterAll(async () => {
    await server.stop();
    await plainServer.stop();
  });

  it("answers the preconfirmed receipt at the open height with the zero block hash, then the committed one", async () => {
    // The memory chain names block 2's first transaction keccak("tx-2-0").
    const txHash = keccakHex("tx-2-0");
    chain.receipts_.set(txHash, {
      receipt: {
        status: 1,
        cumulativeGasUsed: 21_000n,
        gasUsed: 21_000n,
        logsBloom: bloomOf([log]),
        logs: [log],
        contractAddress: null,
        effectiveGasPrice: 1_001_000_000n,
      },
      tx: { type: 2, hash: txHash, from: ALICE, to: BOB },
      blockNumber: 2n,
      timestamp: 1_700_000_004n,
      index: 0,
      firstLogIndex: 0,
    });
    const pre = (await rpc(url, "eth_getTransactionReceipt", [txHash])).result as Record<string, unknown>;
    const zero = `0x${"00".repeat(32)}`;
    expect(pre).toMatchObject({
      transactionHash: txHash,
      blockHash: zero,
      blockNumber: "0x2",
      transactionIndex: "0x0",
      status: "0x1",
      from: ALICE,
      to: BOB,
      logs: [{ blockHash: zero, blockNumber: "0x2", logIndex: "0x0", transactionHash: txHash }],
    });
    expect((await rpc(url, "eth_getTransactionReceipt", [keccakHex("unknown")])).result).toBeNull();
    // The default endpoint answers it only when asked with "pending"; "latest" or nothing: null.
    expect((await rpc(plain, "eth_getTransactionReceipt", [txHash])).result).toBeNull();
    expect((await rpc(plain, "eth_getTransactionReceipt", [txHash, "latest"])).result).toBeNull();
    expect((await rpc(plain, "eth_getTransactionReceipt", [txHash, "pending"])).result).toEqual(pre);
    expect((await rpc(url, "eth_getTransactionReceipt", [txHash, "latest"])).result).toBeNull();
    expect((await rpc(plain, "eth_getTransactionReceipt", [txHash, "safe"])).error).toMatchObject({
      code: -32602,
    });

    const block = chain.addBlock([{ from: ALICE, to: BOB, logs: [log] }]);
    const committed = (await rpc(url, "eth_getTransactionReceipt", [txHash])).result as Record<
      string,
      unknown
    >;
    expect(committed.blockHash).toBe(block.header.hash);
    expect((await rpc(plain, "eth_getTransactionReceipt", [txHash])).result).toEqual(committed);
    const noHash = (r: Record<string, unknown>) => ({
      ...r,
      blockHash: undefined,
      logs: (r.logs as Record<string, unknown>[]).map((l) => ({ ...l, blockHash: undefined })),
    });
    expect(noHash(committed)).toEqual(noHash(pre));
  });

  it("a preconfirmed receipt for a height already committed without the transaction is not an answer", async () => {
    const txHash = keccakHex("dropped");
    chain.receipts_.set(txHash, {
      ...(chain.receipts_.get(keccakHex("tx-2-0")) as PreconfirmedReceiptData),
      tx: { type: 2, hash: txHash, from: ALICE, to: BOB },
      blockNumber: chain.heads().latest,
    });
    expect((await rpc(url, "eth_getTransactionReceipt", [txHash])).result).toBeNull();
  });
});
