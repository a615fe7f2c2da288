// Real dev L1 (EDR) with the dseq contracts, and the operator actions the tests drive.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BatchDataKind,
  BatchInboxArtifact,
  batchDigest,
  DepositBridgeArtifact,
  type DevL1,
  DseqTokenArtifact,
  deployL1Contracts,
  type L1Deployment,
  LockingPoolArtifact,
  rotationDigest,
  rpc,
  startDevL1,
} from "@dseq/l1-contracts";
import { secp256k1_FROST } from "@noble/curves/secp256k1.js";
import {
  type Abi,
  type Address,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  keccak256,
  maxUint256,
  type PublicClient,
  toHex,
  zeroHash,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { type KvStore, openLevelKvStore } from "../src/index.ts";

export const E18 = 10n ** 18n;
/** The DepositBridge takes whole gwei only. */
export const GWEI = 10n ** 9n;

type Frost = { groupKey: Hex; sign(msg: Hex): Hex };

function frostGroup(): Frost {
  const ids = [1, 2, 3].map((i) => secp256k1_FROST.Identifier.fromNumber(i));
  const deal = secp256k1_FROST.trustedDealer({ min: 2, max: 3 }, ids);
  return {
    groupKey: toHex(deal.public.commitments[0]!),
    sign(msg) {
      const m = Buffer.from(msg.slice(2), "hex");
      const signers = ids.slice(0, 2);
      const rounds = signers.map((id) => secp256k1_FROST.commit(deal.secretShares[id]!));
      const commitments = rounds.map((r) => r.commitments);
      const shares = Object.fromEntries(
        signers.map((id, i) => [
          id,
          secp256k1_FROST.signShare(deal.secretShares[id]!, deal.public, rounds[i]!.nonces, commitments, m),
        ]),
      );
      return toHex(secp256k1_FROST.aggregate(deal.public, commitments, m, shares));
    },
  };
}

export type TestL1 = {
  l1: DevL1;
  d: L1Deployment;
  client: PublicClient;
  contracts: { lockingPool: Address; depositBridge: Address; batchInbox: Address };
  /** Sends a contract call from account `from` (index into l1.accounts) and waits for it. */
  send(
    from: number,
    address: Address,
    abi: Abi,
    functionName: string,
    args: readonly unknown[],
  ): Promise<bigint>;
  signerOf(i: number): { address: Address; pubkey: Hex };
  lock(ownerIdx: number, signerIdx: number, amount: bigint): Promise<bigint>;
  deposit(to: Address, amount: bigint): Promise<bigint>;
  appendBatch(index: bigint, prevBatchHash: Hex, firstBlock: bigint, lastBlock: bigint): Promise<bigint>;
  rotateGroupKey(epoch: bigint): Promise<bigint>;
  mine(n: number): Promise<void>;
  snapshot(): Promise<Hex>;
  revert(id: Hex): Promise<void>;
  stop(): Promise<void>;
};

export async function startTestL1(opts: { owners?: number } = {}): Promise<TestL1> {
  const l1 = await startDevL1({ accounts: 6 });
  try {
    const owners = l1.accounts.slice(0, opts.owners ?? 2).map((a) => a.address);
    let frost = frostGroup();
    const d = await deployL1Contracts({
      rpcUrl: l1.rpcUrl,
      deployerKey: l1.accounts[0]!.privateKey,
      params: {
        l2ChainId: 901n,
        groupKey: frost.groupKey,
        exitDelaySeconds: 60n,
        signerUpdateThrottleBlocks: 0n,
        whitelist: owners,
        tokenGrants: owners.slice(1).map((to) => ({ to, amount: 1_000_000n * E18 })),
      },
    });
    const chain = defineChain({
      id: l1.chainId,
      name: "dev-l1",
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [l1.rpcUrl] } },
    });
    const client = createPublicClient({ chain, transport: http(l1.rpcUrl), cacheTime: 0 }) as PublicClient;
    const wallets = l1.accounts.map((a) =>
      createWalletClient({ account: privateKeyToAccount(a.privateKey), chain, transport: http(l1.rpcUrl) }),
    );
    const send: TestL1["send"] = async (from, address, abi, functionName, args) => {
      const hash = await wallets[from]!.writeContract({ address, abi, functionName, args } as never);
      const r = await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
      if (r.status !== "success") throw new Error(`${functionName} reverted`);
      return r.blockNumber;
    };
    // Approvals first, so evm_revert in a test never undoes them.
    for (let i = 0; i < owners.length; i++) {
      await send(i, d.token, DseqTokenArtifact.abi, "approve", [d.lockingPool, maxUint256]);
    }
    await send(0, d.token, DseqTokenArtifact.abi, "approve", [d.depositBridge, maxUint256]);
    const signerOf = (i: number) => {
      const acct = privateKeyToAccount(l1.accounts[i]!.privateKey);
      return { address: acct.address, pubkey: `0x${acct.publicKey.slice(4)}` as Hex };
    };
    const domain = { l1ChainId: l1.chainId, address: d.batchInbox };
    return {
      l1,
      d,
      client,
      contracts: { lockingPool: d.lockingPool, depositBridge: d.depositBridge, batchInbox: d.batchInbox },
      send,
      signerOf,
      async lock(ownerIdx, signerIdx, amount) {
        const s = signerOf(signerIdx);
        return send(ownerIdx, d.lockingPool, LockingPoolArtifact.abi, "lockFor", [
          s.address,
          amount,
          s.pubkey,
        ]);
      },
      async deposit(to, amount) {
        return send(0, d.depositBridge, DepositBridgeArtifact.abi, "deposit", [to, amount]);
      },
      async appendBatch(index, prevBatchHash, firstBlock, lastBlock) {
        const data = toHex(`batch ${index}`);
        const header = {
          chainId: 901n,
          batchIndex: index,
          prevBatchHash,
          firstBlock,
          lastBlock,
          lastBlockHash: keccak256(toHex(`block ${lastBlock}`)),
          stateRoot: keccak256(toHex(`root ${lastBlock}`)),
          dataKind: BatchDataKind.calldata,
          dataHash: keccak256(data),
        };
        const signature = frost.sign(batchDigest(domain, header));
        return send(0, d.batchInbox, BatchInboxArtifact.abi, "appendBatch", [header, data, signature]);
      },
      async rotateGroupKey(epoch) {
        const next = frostGroup();
        const signature = frost.sign(rotationDigest(domain, epoch, next.groupKey));
        const n = await send(0, d.batchInbox, BatchInboxArtifact.abi, "rotateGroupKey", [
          next.groupKey,
          signature,
        ]);
        frost = next;
        return n;
      },
      async mine(n) {
        await rpc(l1.rpcUrl, "hardhat_mine", [`0x${n.toString(16)}`]);
      },
      snapshot: () => rpc<Hex>(l1.rpcUrl, "evm_snapshot", []),
      async revert(id) {
        const ok = await rpc<boolean>(l1.rpcUrl, "evm_revert", [id]);
        if (!ok) throw new Error("evm_revert failed");
      },
      stop: () => l1.stop(),
    };
  } catch (err) {
    await l1.stop();
    throw err;
  }
}

export { zeroHash };

/** A real LevelDB in a temp dir, removed by close(). */
export async function tempStore(): Promise<{
  store: KvStore;
  dir: string;
  close(): Promise<void>;
  reopen(): Promise<KvStore>;
}> {
  const dir = mkdtempSync(join(tmpdir(), "dseq-l1listener-"));
  let db = await openLevelKvStore(dir);
  return {
    get store() {
      return db.store;
    },
    dir,
    async reopen() {
      await db.close();
      db = await openLevelKvStore(dir);
      return db.store;
    },
    async close() {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
