import { createServer, request, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Hex, Logger } from "@dseq/common";
import {
  DepositBridgeArtifact,
  type DevL1,
  type DevL1Account,
  DseqTokenArtifact,
  deployL1Contracts,
  type L1Deployment,
  LockingPoolArtifact,
  rpc,
  startDevL1,
} from "@dseq/l1-contracts";
import {
  type Address,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  maxUint256,
  type PublicClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { type BeaconBlobs, startBeaconBlobs } from "./beaconBlobs.ts";
import { DevnetError, DevnetErrorCode } from "./errors.ts";

/** Dev L1 accounts: 0 deploys and holds the tokens, 1.. own one sequencer each (LockingPool: one per owner). */
export const L1_ACCOUNTS = 32;
/** Dev L1 accounts 16..23 post batches, one per genesis validator (the devnet's `batches` section). */
export const SUBMITTER_ACCOUNTS_FROM = 16;
/** Dev L1 accounts 24..31 post reward checkpoints, one per genesis validator (`rewards` section). */
export const REWARDS_ACCOUNTS_FROM = 24;
/** Tokens each sequencer owner gets at deployment. */
const OWNER_GRANT = 1_000_000n * 10n ** 18n;
/** Any 33-byte point: the inbox key when no genesis DKG ran (`groupKey` unset). */
const DEV_GROUP_KEY: Hex = "0x0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";

export type DevnetL1Options = {
  l2ChainId: number;
  /** Seconds between L1 blocks (default 1). */
  blockTimeSeconds?: number;
  /** Seconds between unlock and unlockClaim (default 60: a devnet exit is short). */
  exitDelaySeconds?: number;
  /** The inbox's group key: the genesis DKG's (default a fixed point no one holds a share of). */
  groupKey?: Hex;
  logger?: Logger;
};

/** One sequencer as the LockingPool holds it. */
export type L1Sequencer = {
  id: number;
  owner: Hex;
  signer: Hex;
  signerPubkey: Hex;
  locked: bigint;
  status: "active" | "unlocking";
  rewardRecipient: Hex;
};

/**
 * The devnet's L1: EDR (`startDevL1`), the dseq contracts, and an HTTP forwarder in front of it
 * that nodes use as their endpoint. `down()` closes the forwarder (nodes get connection
 * refused, EDR keeps its chain and keeps mining), `up()` listens on the same port again: an L1
 * outage without losing the L1 state, which EDR keeps in memory only.
 */
export type DevnetL1 = {
  /** What nodes use (the forwarder). */
  readonly rpcUrl: string;
  /** EDR itself (the devnet's own transactions go here, also during an outage). */
  readonly directUrl: string;
  /** Beacon API blob sidecars of blob transactions sent through `rpcUrl` (ADR 0182). */
  readonly beaconUrl: string;
  readonly chainId: number;
  readonly deployment: L1Deployment;
  /** EDR's funded accounts (0 deploys, 1.. own sequencers, 16.. post batches). */
  readonly accounts: readonly DevL1Account[];
  readonly isDown: boolean;
  down(): Promise<void>;
  up(): Promise<void>;
  /** Locks `amount` for `signer` from the next free owner account; returns the L1 sequencer id. */
  lock(signer: Hex, signerPubkey: Hex, amount: bigint): Promise<number>;
  relock(id: number, amount: bigint): Promise<void>;
  unlock(id: number): Promise<void>;
  /** Deposits `amount` tokens (wei) to an L2 address through the DepositBridge; returns the L1 block. */
  deposit(to: Hex, amount: bigint): Promise<bigint>;
  sequencer(id: number): Promise<L1Sequencer>;
  /** Ends the setup's automining: from now on a block every `blockTimeSeconds`. */
  intervalMining(): Promise<void>;
  /**
   * Keeps automining (a block per transaction: EDR takes blob transactions only then) and mines
   * an empty block every `blockTimeSeconds` on top, so confirmations advance (ADR 0186).
   */
  tickerMining(): Promise<void>;
  /** The sequencer id of a signer (0: none). */
  idOf(signer: Hex): Promise<number>;
  blockNumber(): Promise<bigint>;
  stop(): Promise<void>;
};

type Forwarder = { port: number; down(): Promise<void>; up(): Promise<void>; close(): Promise<void> };

/** Sees each request body and the L1's answer (the blob capture, ADR 0182); each bounded by TAP_MAX. */
type ForwarderTap = (request: Uint8Array, response: Uint8Array) => void;
const TAP_MAX = 8 * 1024 * 1024;

function tapped(stream: NodeJS.ReadableStream, done: (b: Uint8Array | undefined) => void): void {
  const parts: Buffer[] = [];
  let n = 0;
  stream.on("data", (c: Buffer) => {
    n += c.length;
    if (n <= TAP_MAX) parts.push(c);
  });
  stream.on("end", () => done(n <= TAP_MAX ? Buffer.concat(parts) : undefined));
}

async function startForwarder(target: string, tap?: ForwarderTap): Promise<Forwarder> {
  const t = new URL(target);
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  const make = (): Server => {
    const s = createServer((req, res) => {
      let body: Uint8Array | undefined;
      if (tap) tapped(req, (b) => (body = b));
      const fwd = request(
        { host: t.hostname, port: t.port, path: req.url, method: req.method, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          if (tap) tapped(up, (answer) => body && answer && tap(body, answer));
          up.pipe(res);
        },
      );
      fwd.on("error", () => {
        res.writeHead(502);
        res.end();
      });
      req.pipe(fwd);
    });
    s.on("connection", (c) => {
      sockets.add(c);
      c.on("close", () => sockets.delete(c));
    });
    return s;
  };
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const s = make();
      s.once("error", reject);
      s.listen({ port, host: "127.0.0.1" }, () => {
        server = s;
        resolve((s.address() as AddressInfo).port);
      });
    });
  const port = await listen(0);
  const down = (): Promise<void> =>
    new Promise((resolve) => {
      const s = server;
      server = undefined;
      if (!s) return resolve();
      s.close(() => resolve());
      for (const c of sockets) c.destroy();
    });
  return {
    port,
    down,
    up: async () => {
      if (!server) await listen(port);
    },
    close: down,
  };
}

export async function startDevnetL1(opts: DevnetL1Options): Promise<DevnetL1> {
  const log = opts.logger;
  // Automine while deploying and locking the genesis stake (one block per transaction, no
  // waiting for the interval), then blocks every `blockTimeSeconds` (setupDone below).
  const l1: DevL1 = await startDevL1({ accounts: L1_ACCOUNTS, ...(log ? { logger: log } : {}) });
  let forwarder: Forwarder | undefined;
  let beacon: BeaconBlobs | undefined;
  try {
    const [deployer, ...rest] = l1.accounts as [DevL1Account, ...DevL1Account[]];
    const owners = rest.slice(0, SUBMITTER_ACCOUNTS_FROM - 1);
    const deployment = await deployL1Contracts({
      rpcUrl: l1.rpcUrl,
      deployerKey: deployer.privateKey,
      params: {
        l2ChainId: BigInt(opts.l2ChainId),
        groupKey: opts.groupKey ?? DEV_GROUP_KEY,
        exitDelaySeconds: BigInt(opts.exitDelaySeconds ?? 60),
        signerUpdateThrottleBlocks: 1n,
        whitelist: owners.map((o) => o.address),
        tokenGrants: owners.map((o) => ({ to: o.address, amount: OWNER_GRANT })),
      },
      ...(log ? { logger: log } : {}),
    });
    beacon = await startBeaconBlobs({ l1Url: l1.rpcUrl });
    forwarder = await startForwarder(l1.rpcUrl, beacon.capture);
    const chain = defineChain({
      id: l1.chainId,
      name: "devnet-l1",
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [l1.rpcUrl] } },
    });
    const client = createPublicClient({ chain, transport: http(l1.rpcUrl) }) as PublicClient;
    const send = async (
      from: DevL1Account,
      address: Address,
      abi: readonly unknown[],
      functionName: string,
      args: readonly unknown[],
    ): Promise<bigint> => {
      const wallet = createWalletClient({
        account: privateKeyToAccount(from.privateKey),
        chain,
        transport: http(l1.rpcUrl),
      });
      const hash = await wallet.writeContract({ address, abi, functionName, args } as never);
      const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 100 });
      if (receipt.status !== "success") {
        throw new DevnetError(DevnetErrorCode.L1TxFailed, `L1 ${functionName} reverted`, { hash });
      }
      return receipt.blockNumber;
    };
    const pool = deployment.lockingPool;
    const blockMs = (opts.blockTimeSeconds ?? 1) * 1000;
    let nextOwner = 0;
    let ticker: ReturnType<typeof setInterval> | undefined;
    const ownerOf = new Map<number, DevL1Account>();
    const read = (functionName: string, args: readonly unknown[]) =>
      client.readContract({ address: pool, abi: LockingPoolArtifact.abi, functionName, args } as never);
    const l1Api: DevnetL1 = {
      rpcUrl: `http://127.0.0.1:${forwarder.port}`,
      directUrl: l1.rpcUrl,
      beaconUrl: beacon.url,
      chainId: l1.chainId,
      deployment,
      accounts: l1.accounts,
      isDown: false,
      async down() {
        await forwarder?.down();
        (l1Api as { isDown: boolean }).isDown = true;
        log?.warn("L1 endpoint down (fault injection)", {});
      },
      async up() {
        await forwarder?.up();
        (l1Api as { isDown: boolean }).isDown = false;
        log?.info("L1 endpoint up again", {});
      },
      async lock(signer, signerPubkey, amount) {
        const owner = owners[nextOwner++];
        if (!owner)
          throw new DevnetError(DevnetErrorCode.L1NoOwner, `no L1 owner account left (${owners.length})`);
        await send(owner, deployment.token, DseqTokenArtifact.abi, "approve", [pool, maxUint256]);
        const pub = signerPubkey.startsWith("0x") ? signerPubkey : (`0x${signerPubkey}` as Hex);
        await send(owner, pool, LockingPoolArtifact.abi, "lockWithRewardRecipient", [
          signer,
          signer,
          amount,
          pub,
        ]);
        const id = Number(await read("seqSigners", [signer]));
        ownerOf.set(id, owner);
        return id;
      },
      async relock(id, amount) {
        await send(ownerFor(id), pool, LockingPoolArtifact.abi, "relock", [BigInt(id), amount, false]);
      },
      async unlock(id) {
        await send(ownerFor(id), pool, LockingPoolArtifact.abi, "unlock", [BigInt(id)]);
      },
      async deposit(to, amount) {
        await send(deployer, deployment.token, DseqTokenArtifact.abi, "approve", [
          deployment.depositBridge,
          maxUint256,
        ]);
        return send(deployer, deployment.depositBridge, DepositBridgeArtifact.abi, "deposit", [to, amount]);
      },
      async sequencer(id) {
        const s = (await read("getSequencer", [BigInt(id)])) as {
          owner: Hex;
          signer: Hex;
          amount: bigint;
          status: number;
          rewardRecipient: Hex;
        };
        return {
          id,
          owner: s.owner.toLowerCase() as Hex,
          signer: s.signer.toLowerCase() as Hex,
          signerPubkey: "0x" as Hex,
          locked: s.amount,
          status: s.status === 1 ? "active" : "unlocking",
          rewardRecipient: s.rewardRecipient.toLowerCase() as Hex,
        };
      },
      idOf: async (signer) => Number(await read("seqSigners", [signer])),
      blockNumber: () => client.getBlockNumber({ cacheTime: 0 }),
      async intervalMining() {
        await rpc(l1.rpcUrl, "evm_setAutomine", [false]);
        await rpc(l1.rpcUrl, "evm_setIntervalMining", [blockMs]);
      },
      async tickerMining() {
        if (ticker) return;
        ticker = setInterval(() => {
          rpc(l1.rpcUrl, "evm_mine", []).catch((err: unknown) => log?.warn("L1 ticker mine failed", { err }));
        }, blockMs);
        ticker.unref();
      },
      async stop() {
        if (ticker) clearInterval(ticker);
        ticker = undefined;
        await forwarder?.close();
        await beacon?.stop();
        await l1.stop();
      },
    };
    const ownerFor = (id: number): DevL1Account => {
      const o = ownerOf.get(id);
      if (!o)
        throw new DevnetError(
          DevnetErrorCode.L1UnknownSequencer,
          `sequencer ${id} was not locked by this devnet`,
        );
      return o;
    };
    return l1Api;
  } catch (err) {
    await forwarder?.close();
    await beacon?.stop();
    await l1.stop();
    throw err;
  }
}
