import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "@dseq/common";
import {
  type Abi,
  type Address,
  createPublicClient,
  createWalletClient,
  defineChain,
  getAddress,
  type Hex,
  http,
  maxUint256,
  type PublicClient,
  zeroHash,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { L1ContractsError, L1ContractsErrorCode } from "./errors.ts";
import {
  BatchInboxArtifact,
  DepositBridgeArtifact,
  DseqTokenArtifact,
  LockingPoolArtifact,
} from "./generated/artifacts.ts";

const E18 = 10n ** 18n;

export type L1DeployParams = {
  l2ChainId: bigint | number;
  /** Initial FROST group key, 33-byte SEC1 compressed. */
  groupKey: Hex;
  genesisStateRoot?: Hex;
  /** In token base units; defaults 20,000 and 100,000 tokens (18 decimals). */
  minLock?: bigint;
  maxLock?: bigint;
  /** Exit period in seconds; default 21 days. */
  exitDelaySeconds?: bigint | number;
  /** L1 blocks a sequencer waits between two signer updates; default 7,200 (a day of 12 s blocks). */
  signerUpdateThrottleBlocks?: bigint | number;
  /** Use an existing token instead of deploying the devnet DseqToken. */
  token?: Address;
  tokenName?: string;
  tokenSymbol?: string;
  /** Minted to the deployer with a new token; default 1,000,000,000 tokens. */
  initialSupply?: bigint;
  /** Who pays rewards; default the deployer, which then approves the pool for them. */
  rewardPayer?: Address;
  /** Sequencer owners allowed to lock. */
  whitelist?: readonly Address[];
  /** Token transfers from the deployer after deployment (operators' stake, users' deposits). */
  tokenGrants?: readonly { to: Address; amount: bigint }[];
};

export const defaultL1DeployParams = {
  genesisStateRoot: zeroHash,
  minLock: 20_000n * E18,
  maxLock: 100_000n * E18,
  exitDelaySeconds: 21n * 24n * 3600n,
  signerUpdateThrottleBlocks: 7200n,
  tokenName: "dseq devnet token",
  tokenSymbol: "DSEQ",
  initialSupply: 1_000_000_000n * E18,
} as const;

/** Addresses and settings of one deployment; what the JSON file holds (bigints as decimal strings). */
export type L1Deployment = {
  l1ChainId: number;
  deployer: Address;
  token: Address;
  lockingPool: Address;
  batchInbox: Address;
  depositBridge: Address;
  /** L1 block of the first deployment transaction: where an L1 listener starts. */
  startBlock: bigint;
  l2ChainId: bigint;
  groupKey: Hex;
  minLock: bigint;
  maxLock: bigint;
  exitDelaySeconds: bigint;
  rewardPayer: Address;
};

export type DeployL1ContractsOptions = {
  rpcUrl: string;
  deployerKey: Hex;
  params: L1DeployParams;
  /** Where to write the addresses JSON (directories are created). */
  outFile?: string;
  logger?: Logger;
};

/** Deploys token (unless given), batch inbox, locking pool and deposit bridge, and wires them. */
export async function deployL1Contracts(opts: DeployL1ContractsOptions): Promise<L1Deployment> {
  const p = { ...defaultL1DeployParams, ...opts.params };
  const account = privateKeyToAccount(opts.deployerKey);
  const probe = createPublicClient({ transport: http(opts.rpcUrl) });
  const chainId = await probe.getChainId();
  const chain = defineChain({
    id: chainId,
    name: `l1-${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [opts.rpcUrl] } },
  });
  const publicClient = createPublicClient({ chain, transport: http(opts.rpcUrl) }) as PublicClient;
  const wallet = createWalletClient({ account, chain, transport: http(opts.rpcUrl) });
  const startBlock = await publicClient.getBlockNumber();
  const log = opts.logger;

  const deploy = async (
    name: string,
    abi: Abi,
    bytecode: Hex,
    args: readonly unknown[],
  ): Promise<Address> => {
    const hash = await wallet.deployContract({ abi, bytecode, args });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success" || !receipt.contractAddress) {
      throw new L1ContractsError(L1ContractsErrorCode.DeployFailed, `deploying ${name} failed`, {
        details: { hash },
      });
    }
    log?.info("contract deployed", { name, address: receipt.contractAddress, gasUsed: receipt.gasUsed });
    return getAddress(receipt.contractAddress);
  };
  const send = async (
    what: string,
    address: Address,
    abi: Abi,
    functionName: string,
    args: readonly unknown[],
  ) => {
    const hash = await wallet.writeContract({ address, abi, functionName, args });
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    if (receipt.status !== "success") {
      throw new L1ContractsError(L1ContractsErrorCode.DeployFailed, `${what} failed`, { details: { hash } });
    }
  };

  const token =
    p.token ??
    (await deploy("DseqToken", DseqTokenArtifact.abi, DseqTokenArtifact.bytecode, [
      p.tokenName,
      p.tokenSymbol,
      account.address,
      p.initialSupply,
    ]));
  const batchInbox = await deploy("BatchInbox", BatchInboxArtifact.abi, BatchInboxArtifact.bytecode, [
    BigInt(p.l2ChainId),
    p.groupKey,
    p.genesisStateRoot,
  ]);
  const rewardPayer = p.rewardPayer ?? account.address;
  const exitDelay = BigInt(p.exitDelaySeconds);
  const lockingPool = await deploy("LockingPool", LockingPoolArtifact.abi, LockingPoolArtifact.bytecode, [
    account.address,
    token,
    batchInbox,
    rewardPayer,
    p.minLock,
    p.maxLock,
    exitDelay,
    BigInt(p.signerUpdateThrottleBlocks),
  ]);
  const depositBridge = await deploy(
    "DepositBridge",
    DepositBridgeArtifact.abi,
    DepositBridgeArtifact.bytecode,
    [account.address, token],
  );
  if (rewardPayer === account.address) {
    await send("approving the pool as reward payer", token, DseqTokenArtifact.abi, "approve", [
      lockingPool,
      maxUint256,
    ]);
  }
  for (const g of p.tokenGrants ?? []) {
    await send(`granting tokens to ${g.to}`, token, DseqTokenArtifact.abi, "transfer", [g.to, g.amount]);
  }
  for (const owner of p.whitelist ?? []) {
    await send(`whitelisting ${owner}`, lockingPool, LockingPoolArtifact.abi, "setWhitelist", [owner, true]);
  }

  const deployment: L1Deployment = {
    l1ChainId: chainId,
    deployer: account.address,
    token,
    lockingPool,
    batchInbox,
    depositBridge,
    startBlock,
    l2ChainId: BigInt(p.l2ChainId),
    groupKey: p.groupKey,
    minLock: p.minLock,
    maxLock: p.maxLock,
    exitDelaySeconds: exitDelay,
    rewardPayer,
  };
  if (opts.outFile) writeL1Deployment(opts.outFile, deployment);
  return deployment;
}

export function writeL1Deployment(file: string, d: L1Deployment): void {
  mkdirSync(dirname(file), { recursive: true });
  const json = JSON.stringify(d, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
  writeFileSync(file, `${json}\n`);
}

export function readL1Deployment(file: string): L1Deployment {
  const raw = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  const big = (k: string): bigint => BigInt(raw[k] as string);
  return {
    l1ChainId: raw.l1ChainId as number,
    deployer: raw.deployer as Address,
    token: raw.token as Address,
    lockingPool: raw.lockingPool as Address,
    batchInbox: raw.batchInbox as Address,
    depositBridge: raw.depositBridge as Address,
    startBlock: big("startBlock"),
    l2ChainId: big("l2ChainId"),
    groupKey: raw.groupKey as Hex,
    minLock: big("minLock"),
    maxLock: big("maxLock"),
    exitDelaySeconds: big("exitDelaySeconds"),
    rewardPayer: raw.rewardPayer as Address,
  };
}
