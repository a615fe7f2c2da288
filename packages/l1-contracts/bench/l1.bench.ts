// `pnpm bench l1`: gas on a real EDR dev L1. Gas is deterministic up to the random batch bytes
// (zero bytes are cheaper), so each figure is the median of a few runs.
import { randomBytes } from "node:crypto";
import { type Address, type Hex, keccak256, maxUint256, parseEther, toHex, zeroHash } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { deployL1Contracts } from "../src/deploy.ts";
import { startDevL1 } from "../src/devL1.ts";
import {
  BatchInboxArtifact,
  DseqTokenArtifact,
  FrostVerifierHarnessArtifact,
  LockingPoolArtifact,
} from "../src/generated/artifacts.ts";
import { BatchDataKind, type BatchHeader, batchDigest, batchHash } from "../src/messages.ts";
import { clients, createFrostGroup, toAffineSignature, toCompactSignature } from "../test/helpers.ts";

export const description =
  "FROST check gas (alone; batch_verify_gas = the 96-byte rx||ry||z form, ADRs 0156 and 0193; also the 65-byte RFC and 160-byte forms), appendBatch gas for a 100 KB calldata batch, lockFor gas (median of 5 each)";

const RUNS = 5;

function median(xs: bigint[]): number {
  const s = [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Number(s[Math.floor(s.length / 2)]);
}

export default async function run(): Promise<Record<string, number>> {
  const l1 = await startDevL1({ accounts: RUNS + 1 });
  try {
    const gov = clients(l1, 0);
    const group = createFrostGroup(3, 4);
    const d = await deployL1Contracts({
      rpcUrl: l1.rpcUrl,
      deployerKey: l1.accounts[0]!.privateKey,
      params: {
        l2ChainId: 901n,
        groupKey: group.groupKey,
        whitelist: l1.accounts.slice(1).map((a) => a.address),
      },
    });
    const wait = async (hash: Hex) => {
      const r = await gov.publicClient.waitForTransactionReceipt({ hash });
      if (r.status !== "success") throw new Error(`tx ${hash} reverted`);
      return r;
    };

    // the signature check alone, measured inside the EVM with gasleft()
    const h = await gov.wallet.deployContract({
      abi: FrostVerifierHarnessArtifact.abi,
      bytecode: FrostVerifierHarnessArtifact.bytecode,
    });
    const harness = (await wait(h)).contractAddress as Address;
    const forms = {
      compact: toCompactSignature,
      rfc65: (sig: Hex) => sig,
      affine160: (sig: Hex) => toAffineSignature(sig, group.groupKey),
    };
    const verifyGas: Record<keyof typeof forms, bigint[]> = { compact: [], rfc65: [], affine160: [] };
    for (let i = 0; i < RUNS; i++) {
      const msg = keccak256(toHex(`bench ${i}`));
      const sig = group.sign(msg);
      for (const [form, encode] of Object.entries(forms) as [keyof typeof forms, (s: Hex) => Hex][]) {
        const [ok, gas] = await gov.publicClient.readContract({
          address: harness,
          abi: FrostVerifierHarnessArtifact.abi,
          functionName: "verify",
          args: [group.groupKey, msg, encode(sig)],
        });
        if (!ok) throw new Error(`signature (${form}) did not verify`);
        verifyGas[form].push(gas);
      }
    }

    // 100 KB calldata batches, chained
    const appendGas: bigint[] = [];
    let prev: Hex = zeroHash;
    for (let i = 1; i <= RUNS; i++) {
      const data = toHex(randomBytes(100 * 1024));
      const header: BatchHeader = {
        chainId: 901n,
        batchIndex: BigInt(i),
        prevBatchHash: prev,
        firstBlock: BigInt((i - 1) * 100 + 1),
        lastBlock: BigInt(i * 100),
        lastBlockHash: keccak256(toHex(`block ${i}`)),
        stateRoot: keccak256(toHex(`root ${i}`)),
        dataKind: BatchDataKind.calldata,
        dataHash: keccak256(data),
      };
      const signature = toCompactSignature(
        group.sign(batchDigest({ l1ChainId: l1.chainId, address: d.batchInbox }, header)),
      );
      const r = await wait(
        await gov.wallet.writeContract({
          address: d.batchInbox,
          abi: BatchInboxArtifact.abi,
          functionName: "appendBatch",
          args: [header, data, signature],
        }),
      );
      appendGas.push(r.gasUsed);
      prev = batchHash(header);
    }

    // lockFor by RUNS different owners (the first pays for the pool's first writes)
    const lockGas: bigint[] = [];
    for (let i = 1; i <= RUNS; i++) {
      const owner = clients(l1, i);
      await wait(
        await gov.wallet.writeContract({
          address: d.token,
          abi: DseqTokenArtifact.abi,
          functionName: "transfer",
          args: [owner.account.address, parseEther("20000")],
        }),
      );
      await wait(
        await owner.wallet.writeContract({
          address: d.token,
          abi: DseqTokenArtifact.abi,
          functionName: "approve",
          args: [d.lockingPool, maxUint256],
        }),
      );
      const signer = privateKeyToAccount(generatePrivateKey());
      const r = await wait(
        await owner.wallet.writeContract({
          address: d.lockingPool,
          abi: LockingPoolArtifact.abi,
          functionName: "lockFor",
          args: [signer.address, parseEther("20000"), `0x${signer.publicKey.slice(4)}`],
        }),
      );
      lockGas.push(r.gasUsed);
    }
    console.log(`  runs: verify ${verifyGas.compact.join(", ")} (65-byte ${verifyGas.rfc65.join(", ")})`);
    console.log(`        append ${appendGas.join(", ")}`);
    console.log(`        lock   ${lockGas.join(", ")}`);
    return {
      batch_verify_gas: median(verifyGas.compact),
      batch_verify_gas_rfc65: median(verifyGas.rfc65),
      batch_verify_gas_160: median(verifyGas.affine160),
      append_batch_gas: median(appendGas),
      lock_gas: median(lockGas),
    };
  } finally {
    await l1.stop();
  }
}
