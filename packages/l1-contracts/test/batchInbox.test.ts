import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Address,
  blobsToCommitments,
  commitmentsToVersionedHashes,
  encodeDeployData,
  encodeFunctionData,
  type Hex,
  type Kzg,
  keccak256,
  parseEventLogs,
  parseGwei,
  toBlobs,
  toHex,
  zeroHash,
} from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployL1Contracts, type L1Deployment, readL1Deployment } from "../src/deploy.ts";
import { type DevL1, startDevL1 } from "../src/devL1.ts";
import { BatchInboxArtifact } from "../src/generated/artifacts.ts";
import {
  BatchDataKind,
  type BatchHeader,
  batchDigest,
  batchHash,
  blobHashesDigest,
  rotationDigest,
} from "../src/messages.ts";
import {
  clients,
  createFrostGroup,
  type FrostGroup,
  loadKzg,
  revertOf,
  type TestClients,
  toAffineSignature,
  toCompactSignature,
} from "./helpers.ts";

const L2_CHAIN_ID = 901n;
const GENESIS_ROOT = keccak256(toHex("genesis state"));
const abi = BatchInboxArtifact.abi;

let l1: DevL1;
let dir: string;
let deployment: L1Deployment;
let inbox: Address;
let sender: TestClients; // any account may send batches: not the deployer
let group: FrostGroup;
let kzg: Kzg;
const gasReport: Record<string, bigint> = {};

/** The chain tip as the inbox sees it, kept by the tests as batches land. */
const tip = { index: 0n, hash: zeroHash as Hex, lastBlock: 0n };

beforeAll(async () => {
  l1 = await startDevL1({ accounts: 3 });
  dir = mkdtempSync(join(tmpdir(), "dseq-l1-inbox-"));
  group = createFrostGroup(3, 4);
  deployment = await deployL1Contracts({
    rpcUrl: l1.rpcUrl,
    deployerKey: l1.accounts[0]!.privateKey,
    params: { l2ChainId: L2_CHAIN_ID, groupKey: group.groupKey, genesisStateRoot: GENESIS_ROOT },
    outFile: join(dir, "l1.json"),
  });
  inbox = deployment.batchInbox;
  sender = clients(l1, 2);
  kzg = loadKzg();
}, 90_000);

afterAll(async () => {
  await l1?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  const lines = Object.entries(gasReport).map(([k, v]) => `  ${k.padEnd(44)} ${v.toString().padStart(10)}`);
  process.stdout.write(`\ngas report (BatchInbox, tx gasUsed)\n${lines.join("\n")}\n`);
});

function nextHeader(over: Partial<BatchHeader> = {}, blocks = 10n): BatchHeader {
  return {
    chainId: L2_CHAIN_ID,
    batchIndex: tip.index + 1n,
    prevBatchHash: tip.hash,
    firstBlock: tip.lastBlock + 1n,
    lastBlock: tip.lastBlock + blocks,
    lastBlockHash: keccak256(toHex(`block ${tip.lastBlock + blocks}`)),
    stateRoot: keccak256(toHex(`state ${tip.lastBlock + blocks}`)),
    dataKind: BatchDataKind.calldata,
    dataHash: zeroHash,
    ...over,
  };
}

const domain = () => ({ l1ChainId: l1.chainId, address: inbox });
const sign = (h: BatchHeader, g: FrostGroup = group): Hex => g.sign(batchDigest(domain(), h));

function calldataBatch(data: Hex, over: Partial<BatchHeader> = {}) {
  const header = nextHeader({ dataKind: BatchDataKind.calldata, dataHash: keccak256(data), ...over });
  return { header, data, signature: sign(header) };
}

async function sendAppend(header: BatchHeader, data: Hex, signature: Hex) {
  const hash = await sender.wallet.writeContract({
    address: inbox,
    abi,
    functionName: "appendBatch",
    args: [header, data, signature],
  });
  const receipt = await sender.publicClient.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe("success");
  tip.index = header.batchIndex;
  tip.hash = batchHash(header);
  tip.lastBlock = header.lastBlock;
  return receipt;
}

const simulateAppend = (header: BatchHeader, data: Hex, signature: Hex) =>
  sender.publicClient.simulateContract({
    account: sender.account,
    address: inbox,
    abi,
    functionName: "appendBatch",
    args: [header, data, signature],
  });

const read = <T>(functionName: string, args: readonly unknown[] = []) =>
  sender.publicClient.readContract({ address: inbox, abi, functionName, args } as never) as Promise<T>;

function randomHex(bytes: number): Hex {
  return toHex(randomBytes(bytes));
}

describe("deployment", () => {
  it("writes the addresses JSON and starts with the genesis state and the initial key", async () => {
    expect(readL1Deployment(join(dir, "l1.json"))).toEqual(deployment);
    expect(deployment.l1ChainId).toBe(31337);
    expect(await read("groupKey")).toBe(group.groupKey);
    expect(await read("groupKeyEpoch")).toBe(0n);
    expect(await read("lastBatchIndex")).toBe(0n);
    expect(await read("lastBatchHash")).toBe(zeroHash);
    expect(await read("lastStateRoot")).toBe(GENESIS_ROOT);
    expect(await read("l2ChainId")).toBe(L2_CHAIN_ID);
  });

  it("refuses an invalid initial group key", async () => {
    const bad: Hex[] = [
      `0x04${group.groupKey.slice(4)}`, // not a compressed prefix
      group.groupKey.slice(0, 64) as Hex, // too short
      `0x02${"00".repeat(31)}05`, // x = 5: x^3 + 7 = 132 is not a square mod p
    ];
    for (const key of bad) {
      const data = encodeDeployData({
        abi,
        bytecode: BatchInboxArtifact.bytecode,
        args: [1n, key, zeroHash],
      });
      const r = await revertOf(sender.publicClient.call({ account: sender.account, data }), abi);
      expect(r.name).toBe("InvalidGroupKey");
    }
  });
});

describe("calldata batches", () => {
  it("computes the same batch hash and digest as the contract", async () => {
    const { header } = calldataBatch(randomHex(64));
    expect(await read("batchHash", [header])).toBe(batchHash(header));
    expect(await read("batchDigest", [batchHash(header)])).toBe(batchDigest(domain(), header));
  });

  it("appends signed batches in order from any account and updates the views", async () => {
    for (let i = 0; i < 2; i++) {
      const { header, data, signature } = calldataBatch(randomHex(1000));
      const receipt = await sendAppend(header, data, signature);
      const [ev] = parseEventLogs({ abi, logs: receipt.logs, eventName: "BatchAppended" });
      expect(ev?.args).toMatchObject({
        batchIndex: header.batchIndex,
        batchHash: batchHash(header),
        prevBatchHash: header.prevBatchHash,
        firstBlock: header.firstBlock,
        lastBlock: header.lastBlock,
        stateRoot: header.stateRoot,
        dataKind: 0,
        dataHash: header.dataHash,
        submitter: sender.account.address,
      });
      expect(await read("lastBatchIndex")).toBe(header.batchIndex);
      expect(await read("lastBatchHash")).toBe(batchHash(header));
      expect(await read("lastStateRoot")).toBe(header.stateRoot);
      expect(await read("lastL2Block")).toBe(header.lastBlock);
    }
    expect(tip.index).toBe(2n);
  });

  it("rejects a wrong chain id, index, previous hash, block range, data kind or data", async () => {
    const data = randomHex(200);
    const cases: [Partial<BatchHeader>, string][] = [
      [{ chainId: L2_CHAIN_ID + 1n }, "WrongChainId"],
      [{ batchIndex: tip.index }, "WrongBatchIndex"], // replay of the last index
      [{ batchIndex: tip.index + 2n }, "WrongBatchIndex"], // a gap
      [{ prevBatchHash: keccak256("0x01") }, "WrongPrevBatchHash"],
      [{ firstBlock: tip.lastBlock + 2n }, "WrongBlockRange"], // a gap in L2 blocks
      [{ firstBlock: tip.lastBlock }, "WrongBlockRange"], // overlap
      [{ lastBlock: tip.lastBlock }, "WrongBlockRange"], // last < first
      [{ dataKind: BatchDataKind.blobs }, "WrongDataKind"],
    ];
    for (const [over, want] of cases) {
      const b = calldataBatch(data, over);
      expect((await revertOf(simulateAppend(b.header, b.data, b.signature))).name, want).toBe(want);
    }
    const b = calldataBatch(data);
    const mismatch = await revertOf(simulateAppend(b.header, randomHex(200), b.signature));
    expect(mismatch.name).toBe("DataHashMismatch");
    // the untampered batch would pass: the cases above fail for their own reason only
    await simulateAppend(b.header, b.data, b.signature);
  });

  it("rejects tampered signatures: z, R, header, index, other key, undomained message", async () => {
    const b = calldataBatch(randomHex(300));
    const sig = b.signature;
    const flipHex = (s: Hex, at: number): Hex =>
      `${s.slice(0, at)}${((Number.parseInt(s[at]!, 16) + 1) % 16).toString(16)}${s.slice(at + 1)}` as Hex;
    const invalid = async (header: BatchHeader, signature: Hex, data = b.data) =>
      expect((await revertOf(simulateAppend(header, data, signature))).name).toBe("InvalidSignature");
    await invalid(b.header, flipHex(sig, 130)); // z
    await invalid(b.header, flipHex(sig, 40)); // R.x (usually off-curve or another point)
    await invalid(b.header, `0x${sig.slice(2, 4) === "02" ? "03" : "02"}${sig.slice(4)}` as Hex); // R's parity
    await invalid(b.header, sig.slice(0, 120) as Hex); // truncated
    await invalid({ ...b.header, stateRoot: keccak256("0xbad") }, sig); // header field
    await invalid({ ...b.header, lastBlockHash: keccak256("0xbad") }, sig);
    const newData = randomHex(300);
    await invalid({ ...b.header, dataHash: keccak256(newData) }, sig, newData); // other data
    // a signature made for index N+1, presented with the right index N
    const ahead = nextHeader({ batchIndex: tip.index + 2n, dataHash: keccak256(b.data) });
    await invalid(b.header, sign(ahead));
    await invalid(b.header, sign(b.header, createFrostGroup(2, 3))); // another group
    await invalid(b.header, group.sign(batchHash(b.header))); // the bare hash, without the domain
    await sendAppend(b.header, b.data, sig); // and the original still lands
  });

  it("accepts the 160-byte affine signature form too", async () => {
    const b = calldataBatch(randomHex(100));
    const receipt = await sendAppend(b.header, b.data, toAffineSignature(b.signature, group.groupKey));
    gasReport["appendBatch, 100 B, 160-byte signature"] = receipt.gasUsed;
    const c = calldataBatch(randomHex(100));
    gasReport["appendBatch, 100 B, 65-byte signature"] = (
      await sendAppend(c.header, c.data, c.signature)
    ).gasUsed;
  });

  it("accepts the 96-byte form (rx, ry, z) and refuses it with a wrong signature, wrong key, malleated z, R at infinity", async () => {
    const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
    const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
    const b = calldataBatch(randomHex(100));
    const compact = toCompactSignature(b.signature);
    const word = (i: number) => BigInt(`0x${compact.slice(2 + 64 * i, 2 + 64 * (i + 1))}`);
    const withWord = (i: number, v: bigint): Hex =>
      `${compact.slice(0, 2 + 64 * i)}${v.toString(16).padStart(64, "0")}${compact.slice(2 + 64 * (i + 1))}` as Hex;
    const invalid = async (signature: Hex) =>
      expect((await revertOf(simulateAppend(b.header, b.data, signature))).name).toBe("InvalidSignature");
    const other = nextHeader({ stateRoot: keccak256("0xbad"), dataHash: keccak256(b.data) });
    await invalid(toCompactSignature(sign(other))); // a valid signature of another header
    await invalid(toCompactSignature(sign(b.header, createFrostGroup(2, 3)))); // another key
    const z = word(2);
    if (z + N < 2n ** 256n) await invalid(withWord(2, z + N)); // z + N: the same scalar, another encoding
    await invalid(withWord(2, N - z));
    await invalid(withWord(1, P - word(1))); // -R
    await invalid(`0x${"0".repeat(128)}${compact.slice(2 + 128)}`); // R at infinity (no affine form)
    await invalid(`0x${"0".repeat(130)}`); // R at infinity in the 65-byte form
    const receipt = await sendAppend(b.header, b.data, compact);
    gasReport["appendBatch, 100 B, 96-byte signature"] = receipt.gasUsed;
  });

  it("appends a 100 KB calldata batch (gas report)", async () => {
    const b = calldataBatch(randomHex(100 * 1024));
    const receipt = await sendAppend(b.header, b.data, b.signature);
    gasReport["appendBatch, 100 KB calldata"] = receipt.gasUsed;
    const small = calldataBatch(randomHex(1024));
    gasReport["appendBatch, 1 KB calldata"] = (
      await sendAppend(small.header, small.data, small.signature)
    ).gasUsed;
  });
});

describe("blob batches (EIP-4844, type-3 transactions on EDR)", () => {
  async function sendBlobs(header: BatchHeader, signature: Hex, blobs: readonly Hex[]) {
    const hash = await sender.wallet.sendTransaction({
      to: inbox,
      data: encodeFunctionData({ abi, functionName: "appendBatchBlobs", args: [header, signature] }),
      blobs: [...blobs],
      kzg,
      maxFeePerBlobGas: parseGwei("30"),
      gas: 500_000n,
    });
    return sender.publicClient.waitForTransactionReceipt({ hash });
  }

  function blobBatch(payload: Hex) {
    const blobs = toBlobs({ data: payload });
    const versioned = commitmentsToVersionedHashes({
      commitments: blobsToCommitments({ blobs, kzg }),
    }) as Hex[];
    const header = nextHeader({ dataKind: BatchDataKind.blobs, dataHash: blobHashesDigest(versioned) });
    return { blobs, versioned, header, signature: sign(header) };
  }

  // EDR loads its KZG setup on the first blob transaction: allow it time.
  it("appends a batch whose signed header commits to the blob versioned hashes", {
    timeout: 120_000,
  }, async () => {
    const b = blobBatch(randomHex(150_000)); // two blobs
    expect(b.blobs.length).toBe(2);
    const receipt = await sendBlobs(b.header, b.signature, b.blobs);
    expect(receipt.status).toBe("success");
    const block = await sender.publicClient.getBlock({ blockNumber: receipt.blockNumber });
    expect(block.blobGasUsed).toBe(2n * 131072n);
    const tx = await sender.publicClient.getTransaction({ hash: receipt.transactionHash });
    expect(tx.type).toBe("eip4844");
    expect(tx.blobVersionedHashes).toEqual([...b.versioned]);
    const [ev] = parseEventLogs({ abi, logs: receipt.logs, eventName: "BatchAppended" });
    expect(ev?.args.dataKind).toBe(1);
    expect(ev?.args.dataHash).toBe(blobHashesDigest([...b.versioned]));
    gasReport["appendBatchBlobs, 2 blobs (execution gas)"] = receipt.gasUsed;
    tip.index = b.header.batchIndex;
    tip.hash = batchHash(b.header);
    tip.lastBlock = b.header.lastBlock;
    expect(await read("lastBatchIndex")).toBe(b.header.batchIndex);
  });

  it("reverts when the transaction carries other blobs than the header names", async () => {
    const signed = blobBatch(randomHex(1000));
    const other = toBlobs({ data: randomHex(1000) });
    // the dev node mines at once and reports the revert to the sender
    const r = await revertOf(sendBlobs(signed.header, signed.signature, other), abi);
    expect(r.name).toBe("DataHashMismatch");
    expect(await read("lastBatchIndex")).toBe(tip.index);
    // and the matching blobs land
    expect((await sendBlobs(signed.header, signed.signature, signed.blobs)).status).toBe("success");
    tip.index = signed.header.batchIndex;
    tip.hash = batchHash(signed.header);
    tip.lastBlock = signed.header.lastBlock;
  });

  it("rejects appendBatchBlobs without blobs and with a calldata header", async () => {
    const b = nextHeader({ dataKind: BatchDataKind.blobs, dataHash: keccak256("0x01") });
    const noBlobs = await revertOf(
      sender.publicClient.simulateContract({
        account: sender.account,
        address: inbox,
        abi,
        functionName: "appendBatchBlobs",
        args: [b, sign(b)],
      }),
    );
    expect(noBlobs.name).toBe("NoBlobs");
    const c = nextHeader({ dataKind: BatchDataKind.calldata, dataHash: keccak256("0x01") });
    const wrongKind = await revertOf(
      sender.publicClient.simulateContract({
        account: sender.account,
        address: inbox,
        abi,
        functionName: "appendBatchBlobs",
        args: [c, sign(c)],
      }),
    );
    expect(wrongKind.name).toBe("WrongDataKind");
  });
});

describe("group key rotation", () => {
  const rotate = (newKey: Hex, signature: Hex) =>
    sender.wallet.writeContract({
      address: inbox,
      abi,
      functionName: "rotateGroupKey",
      args: [newKey, signature],
    });
  const simulateRotate = (newKey: Hex, signature: Hex) =>
    sender.publicClient.simulateContract({
      account: sender.account,
      address: inbox,
      abi,
      functionName: "rotateGroupKey",
      args: [newKey, signature],
    });

  it("rotates under the current key's signature; the old key then signs nothing", async () => {
    const next = createFrostGroup(2, 3);
    const epoch = await read<bigint>("groupKeyEpoch");
    const digest = rotationDigest(domain(), epoch, next.groupKey);
    expect(await read("rotationDigest", [next.groupKey])).toBe(digest);
    // signed by a key that is not the current one
    expect((await revertOf(simulateRotate(next.groupKey, next.sign(digest)))).name).toBe("InvalidSignature");

    const oldSig = group.sign(digest);
    const receipt = await sender.publicClient.waitForTransactionReceipt({
      hash: await rotate(next.groupKey, oldSig),
    });
    const [ev] = parseEventLogs({ abi, logs: receipt.logs, eventName: "GroupKeyRotated" });
    expect(ev?.args).toEqual({ epoch: epoch + 1n, oldKey: group.groupKey, newKey: next.groupKey });
    gasReport.rotateGroupKey = receipt.gasUsed;
    expect(await read("groupKey")).toBe(next.groupKey);

    const b = calldataBatch(randomHex(100));
    expect((await revertOf(simulateAppend(b.header, b.data, b.signature))).name).toBe("InvalidSignature");
    const prev = group;
    group = next;
    const b2 = calldataBatch(randomHex(100));
    await sendAppend(b2.header, b2.data, b2.signature);

    // replaying the old rotation (old key -> next) fails: the epoch moved on
    expect((await revertOf(simulateRotate(next.groupKey, oldSig))).name).toBe("InvalidSignature");
    // and the old group can no longer rotate back
    const back = rotationDigest(domain(), epoch + 1n, prev.groupKey);
    expect((await revertOf(simulateRotate(prev.groupKey, prev.sign(back)))).name).toBe("InvalidSignature");
  });

  it("refuses to rotate to an invalid key even when correctly signed", async () => {
    const epoch = await read<bigint>("groupKeyEpoch");
    for (const bad of [`0x05${group.groupKey.slice(4)}`, `0x02${"00".repeat(31)}05`, "0x02"] as Hex[]) {
      const sig = group.sign(rotationDigest(domain(), epoch, bad));
      expect((await revertOf(simulateRotate(bad, sig))).name).toBe("InvalidGroupKey");
    }
  });

  it("verifyGroupSignature answers for the current key", async () => {
    const digest = keccak256(toHex("any 32-byte message"));
    expect(await read("verifyGroupSignature", [digest, group.sign(digest)])).toBe(true);
    expect(await read("verifyGroupSignature", [digest, group.sign(keccak256(digest))])).toBe(false);
  });
});
