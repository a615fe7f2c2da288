// Start a dev L1 (Hardhat's EDR on 127.0.0.1), deploy the dseq contracts, lock stake for one
// sequencer, make a deposit, and append one FROST-signed batch. Run:
//   bash scripts/env.sh node packages/l1-contracts/examples/deployDevnet.ts
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { secp256k1_FROST } from "@noble/curves/secp256k1.js";
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  keccak256,
  maxUint256,
  parseEther,
  toHex,
  zeroHash,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import {
  BatchDataKind,
  BatchInboxArtifact,
  batchDigest,
  DepositBridgeArtifact,
  DseqTokenArtifact,
  deployL1Contracts,
  LockingPoolArtifact,
  startDevL1,
} from "../src/index.ts";

const l1 = await startDevL1({ accounts: 2 });
const dir = mkdtempSync(join(tmpdir(), "dseq-example-"));
try {
  // A 2-of-3 FROST group from a trusted dealer; a real network runs the DKG in @dseq/mpc-tss.
  const ids = [1, 2, 3].map((i) => secp256k1_FROST.Identifier.fromNumber(i));
  const deal = secp256k1_FROST.trustedDealer({ min: 2, max: 3 }, ids);
  const groupKey = toHex(deal.public.commitments[0]!);
  const frostSign = (msg: Hex): Hex => {
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
  };

  const [deployer, operator] = l1.accounts as [(typeof l1.accounts)[0], (typeof l1.accounts)[0]];
  const file = join(dir, "l1-addresses.json");
  const d = await deployL1Contracts({
    rpcUrl: l1.rpcUrl,
    deployerKey: deployer.privateKey,
    params: { l2ChainId: 901n, groupKey, exitDelaySeconds: 60n, whitelist: [deployer.address] },
    outFile: file,
  });
  console.log("deployed:", JSON.parse(readFileSync(file, "utf8")));

  const chain = defineChain({
    id: l1.chainId,
    name: "dev-l1",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [l1.rpcUrl] } },
  });
  const client = createPublicClient({ chain, transport: http(l1.rpcUrl) });
  const wallet = createWalletClient({
    account: privateKeyToAccount(deployer.privateKey),
    chain,
    transport: http(),
  });
  const wait = (hash: Hex) => client.waitForTransactionReceipt({ hash });

  // lock 20,000 tokens for a sequencer whose signer is the operator account
  const signer = privateKeyToAccount(operator.privateKey);
  await wait(
    await wallet.writeContract({
      address: d.token,
      abi: DseqTokenArtifact.abi,
      functionName: "approve",
      args: [d.lockingPool, maxUint256],
    }),
  );
  await wait(
    await wallet.writeContract({
      address: d.lockingPool,
      abi: LockingPoolArtifact.abi,
      functionName: "lockFor",
      args: [signer.address, parseEther("20000"), `0x${signer.publicKey.slice(4)}`],
    }),
  );
  const seq = await client.readContract({
    address: d.lockingPool,
    abi: LockingPoolArtifact.abi,
    functionName: "getSequencer",
    args: [1n],
  });
  console.log("sequencer 1 locked:", seq.amount, "signer", seq.signer);

  // deposit 5 tokens to an L2 address
  await wait(
    await wallet.writeContract({
      address: d.token,
      abi: DseqTokenArtifact.abi,
      functionName: "approve",
      args: [d.depositBridge, maxUint256],
    }),
  );
  const dep = await wait(
    await wallet.writeContract({
      address: d.depositBridge,
      abi: DepositBridgeArtifact.abi,
      functionName: "deposit",
      args: [operator.address, parseEther("5")],
    }),
  );
  console.log("deposit mined in L1 block", dep.blockNumber);

  // append batch 1 (L2 blocks 1..10) under the group's signature
  const data = toHex("compressed L2 blocks go here");
  const header = {
    chainId: 901n,
    batchIndex: 1n,
    prevBatchHash: zeroHash,
    firstBlock: 1n,
    lastBlock: 10n,
    lastBlockHash: keccak256(toHex("block 10")),
    stateRoot: keccak256(toHex("state root 10")),
    dataKind: BatchDataKind.calldata,
    dataHash: keccak256(data),
  };
  const signature = frostSign(batchDigest({ l1ChainId: l1.chainId, address: d.batchInbox }, header));
  const appended = await wait(
    await wallet.writeContract({
      address: d.batchInbox,
      abi: BatchInboxArtifact.abi,
      functionName: "appendBatch",
      args: [header, data, signature],
    }),
  );
  const last = await client.readContract({
    address: d.batchInbox,
    abi: BatchInboxArtifact.abi,
    functionName: "lastBatchIndex",
  });
  console.log(`batch ${last} appended, gas ${appended.gasUsed}`);
} finally {
  await l1.stop();
  rmSync(dir, { recursive: true, force: true });
}
