import {
  type Abi,
  type Address,
  getAddress,
  type Hex,
  keccak256,
  maxUint256,
  parseEther,
  parseEventLogs,
  type TransactionReceipt,
  toHex,
  zeroAddress,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployL1Contracts, type L1Deployment } from "../src/deploy.ts";
import { type DevL1, increaseTime, rpc, startDevL1 } from "../src/devL1.ts";
import { BatchInboxArtifact, DseqTokenArtifact, LockingPoolArtifact } from "../src/generated/artifacts.ts";
import { type RewardCheckpoint, rewardsDigest, rotationDigest } from "../src/messages.ts";
import { clients, createFrostGroup, type FrostGroup, revertOf, type TestClients } from "./helpers.ts";

const pool = LockingPoolArtifact.abi;
const token = DseqTokenArtifact.abi;
const errorsAbi = [...pool, ...token.filter((x) => x.type === "error")] as Abi;
const EXIT_DELAY = 3600n;
const THROTTLE = 5n; // L1 blocks between two signer updates
/** secp256k1's field prime. */
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
const MIN = parseEther("20000");
const MAX = parseEther("100000");
const Status = { Inactive: 0, Active: 1, Unlocking: 2, Unlocked: 3 } as const;

let l1: DevL1;
let d: L1Deployment;
let gov: TestClients; // deployer: governance and reward payer
let owners: TestClients[]; // whitelisted sequencer owners
let stranger: TestClients; // not whitelisted
let group: FrostGroup;
const gasReport: Record<string, bigint> = {};

beforeAll(async () => {
  l1 = await startDevL1({ accounts: 8 });
  group = createFrostGroup(2, 3);
  gov = clients(l1, 0);
  owners = [1, 2, 3, 4, 5, 6].map((i) => clients(l1, i));
  stranger = clients(l1, 7);
  d = await deployL1Contracts({
    rpcUrl: l1.rpcUrl,
    deployerKey: l1.accounts[0]!.privateKey,
    params: {
      l2ChainId: 901n,
      groupKey: group.groupKey,
      exitDelaySeconds: EXIT_DELAY,
      signerUpdateThrottleBlocks: THROTTLE,
      whitelist: owners.slice(0, 5).map((o) => o.account.address),
      tokenGrants: [...owners, stranger].map((c) => ({
        to: c.account.address,
        amount: parseEther("500000"),
      })),
    },
  });
  for (const c of [...owners, stranger]) {
    expect(await balance(c.account.address)).toBe(parseEther("500000"));
    await send(c, d.token, token, "approve", [d.lockingPool, maxUint256]);
  }
}, 90_000);

afterAll(async () => {
  await l1?.stop();
  const lines = Object.entries(gasReport).map(([k, v]) => `  ${k.padEnd(44)} ${v.toString().padStart(10)}`);
  process.stdout.write(`\ngas report (LockingPool, tx gasUsed)\n${lines.join("\n")}\n`);
});

async function send(
  c: TestClients,
  address: Address,
  abi: Abi,
  functionName: string,
  args: readonly unknown[],
): Promise<TransactionReceipt> {
  const hash = await c.wallet.writeContract({ address, abi, functionName, args } as never);
  const receipt = await c.publicClient.waitForTransactionReceipt({ hash });
  expect(receipt.status).toBe("success");
  return receipt;
}

const act = (c: TestClients, functionName: string, args: readonly unknown[]) =>
  send(c, d.lockingPool, pool, functionName, args);

async function fails(c: TestClients, functionName: string, args: readonly unknown[]): Promise<string> {
  return (await failure(c, functionName, args)).name;
}

/** The custom error (name and args) a call reverts with. */
function failure(c: TestClients, functionName: string, args: readonly unknown[]) {
  return revertOf(
    c.publicClient.simulateContract({
      account: c.account,
      address: d.lockingPool,
      abi: pool,
      functionName,
      args,
    } as never),
    errorsAbi,
  );
}

const read = <T>(functionName: string, args: readonly unknown[] = []) =>
  gov.publicClient.readContract({
    address: d.lockingPool,
    abi: pool,
    functionName,
    args,
  } as never) as Promise<T>;

const mine = (blocks: bigint) => rpc(l1.rpcUrl, "hardhat_mine", [`0x${blocks.toString(16)}`]);
const blockNumber = () => gov.publicClient.getBlockNumber({ cacheTime: 0 });

type SequencerView = {
  owner: Address;
  signer: Address;
  rewardRecipient: Address;
  status: number;
  nonce: number;
  unlockClaimTime: number;
  amount: bigint;
  reward: bigint;
  signerUpdateBlock: bigint;
  withdrawPeriod: bigint;
};
const seq = (id: bigint) => read<SequencerView>("getSequencer", [id]);
const balance = (a: Address) =>
  gov.publicClient.readContract({ address: d.token, abi: token, functionName: "balanceOf", args: [a] });

function newSigner(): { address: Address; pubkey: Hex } {
  const a = privateKeyToAccount(generatePrivateKey());
  return { address: a.address, pubkey: `0x${a.publicKey.slice(4)}` };
}

/** A 64-byte key of two words and the address it hashes to (whether or not it is a curve point). */
function rawKey(x: bigint, y: bigint): { address: Address; pubkey: Hex } {
  const w = (v: bigint) => v.toString(16).padStart(64, "0");
  const pubkey: Hex = `0x${w(x)}${w(y)}`;
  return { address: getAddress(`0x${keccak256(pubkey).slice(-40)}`), pubkey };
}

const modPow = (b: bigint, e: bigint, m: bigint): bigint => {
  let r = 1n;
  for (b %= m; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
};

/** Keys that are 64 bytes but not a secp256k1 point, each with the address its keccak gives. */
function offCurveKeys(): Record<string, { address: Address; pubkey: Hex }> {
  const good = newSigner().pubkey;
  const x = BigInt(`0x${good.slice(2, 66)}`);
  const y = BigInt(`0x${good.slice(66)}`);
  // a point with a tiny x, so x + P still fits a word: on the curve mod P, but x is not reduced
  let sx = 1n;
  let sy = 0n;
  for (; ; sx++) {
    const rhs = (sx ** 3n + 7n) % P;
    sy = modPow(rhs, (P + 1n) / 4n, P);
    if ((sy * sy) % P === rhs) break;
  }
  return {
    "y + 1": rawKey(x, (y + 1n) % P),
    "x >= P": rawKey(sx + P, sy),
    zero: rawKey(0n, 0n),
  };
}

function events(receipt: TransactionReceipt, eventName: string) {
  return parseEventLogs({ abi: pool, logs: receipt.logs, eventName } as never) as unknown as {
    args: Record<string, unknown>;
  }[];
}

describe("locking", () => {
  it("lockFor: a whitelisted owner locks for a signer whose pubkey hashes to it", async () => {
    const o = owners[0]!;
    const s = newSigner();
    const before = await balance(o.account.address);
    const receipt = await act(o, "lockFor", [s.address, MIN, s.pubkey]);
    gasReport.lockFor = receipt.gasUsed;
    expect(events(receipt, "Locked")[0]?.args).toEqual({
      signer: s.address,
      sequencerId: 1n,
      nonce: 1n,
      owner: o.account.address,
      rewardRecipient: o.account.address,
      amount: MIN,
      total: MIN,
      signerPubkey: s.pubkey,
    });
    expect(await seq(1n)).toMatchObject({
      owner: o.account.address,
      signer: s.address,
      status: Status.Active,
      amount: MIN,
    });
    expect(await read("seqOwners", [o.account.address])).toBe(1n);
    expect(await read("seqSigners", [s.address])).toBe(1n);
    expect(await read("totalLocked")).toBe(MIN);
    expect(await read("sequencerCount")).toBe(1n);
    expect(await read("votingPower", [1n])).toBe(MIN);
    expect(before - (await balance(o.account.address))).toBe(MIN);
    expect(await balance(d.lockingPool)).toBe(MIN);
  });

  it("lockFor reverts: not whitelisted, below min, bad pubkey, mismatch, signer or owner in use, allowance", async () => {
    const s = newSigner();
    const taken = (await seq(1n)).signer;
    const o2 = owners[1]!;
    expect(await fails(stranger, "lockFor", [s.address, MIN, s.pubkey])).toBe("NotWhitelisted");
    expect(await fails(o2, "lockFor", [s.address, MIN - 1n, s.pubkey])).toBe("AmountBelowMin");
    expect(await fails(o2, "lockFor", [s.address, MIN, s.pubkey.slice(0, 128)])).toBe("InvalidPubkey");
    expect(await fails(o2, "lockFor", [newSigner().address, MIN, s.pubkey])).toBe("PubkeySignerMismatch");
    expect(await fails(o2, "lockFor", [zeroAddress, MIN, s.pubkey])).toBe("InvalidAddress");
    const first = newSigner();
    expect(await fails(owners[0]!, "lockFor", [first.address, MIN, first.pubkey])).toBe("OwnerHasSequencer");
    // the pubkey of the signer already in use
    expect(taken).not.toBe(zeroAddress);
    await send(o2, d.token, token, "approve", [d.lockingPool, MIN - 1n]);
    expect(await fails(o2, "lockFor", [s.address, MIN, s.pubkey])).toBe("ERC20InsufficientAllowance");
    await send(o2, d.token, token, "approve", [d.lockingPool, maxUint256]);
  });

  it("lockFor rejects a key that is not a secp256k1 point, even when its keccak is the signer", async () => {
    const o2 = owners[1]!;
    for (const [what, k] of Object.entries(offCurveKeys())) {
      expect(await fails(o2, "lockFor", [k.address, MIN, k.pubkey]), what).toBe("PubkeyNotOnCurve");
      expect(await fails(o2, "lockWithRewardRecipient", [k.address, k.address, MIN, k.pubkey]), what).toBe(
        "PubkeyNotOnCurve",
      );
    }
    // a curve point whose keccak is not the signer
    const s = newSigner();
    expect(await fails(o2, "lockFor", [newSigner().address, MIN, s.pubkey])).toBe("PubkeySignerMismatch");
  });

  it("rejects a signer already used by another sequencer", async () => {
    const o2 = owners[1]!;
    const s = newSigner();
    await act(o2, "lockFor", [s.address, MIN, s.pubkey]);
    expect(await fails(owners[2]!, "lockFor", [s.address, MIN, s.pubkey])).toBe("SignerInUse");
  });

  it("lockWithRewardRecipient pays rewards elsewhere; amounts above maxLock are accepted, power is capped", async () => {
    const o = owners[2]!;
    const s = newSigner();
    const recipient = stranger.account.address;
    expect(await fails(o, "lockWithRewardRecipient", [s.address, zeroAddress, MIN, s.pubkey])).toBe(
      "InvalidAddress",
    );
    const above = MAX + parseEther("50000");
    const receipt = await act(o, "lockWithRewardRecipient", [s.address, recipient, above, s.pubkey]);
    const ev = events(receipt, "Locked")[0]?.args;
    expect(ev).toMatchObject({ sequencerId: 3n, rewardRecipient: recipient, amount: above });
    expect((await seq(3n)).rewardRecipient).toBe(recipient);
    expect(await read("votingPower", [3n])).toBe(MAX);
  });
});

describe("changing a lock", () => {
  it("relock adds tokens and emits LockUpdate; only the owner, never zero", async () => {
    const o = owners[0]!;
    const before = (await seq(1n)).amount;
    const total = await read<bigint>("totalLocked");
    const receipt = await act(o, "relock", [1n, parseEther("5000"), false]);
    gasReport.relock = receipt.gasUsed;
    expect(events(receipt, "LockUpdate")[0]?.args).toEqual({
      sequencerId: 1n,
      nonce: 2n,
      newAmount: before + parseEther("5000"),
      total: total + parseEther("5000"),
    });
    expect(await fails(o, "relock", [1n, 0n, false])).toBe("ZeroAmount");
    expect(await fails(owners[1]!, "relock", [1n, MIN, false])).toBe("NotSequencerOwner");
    expect(await fails(o, "relock", [99n, MIN, false])).toBe("UnknownSequencer");
  });

  it("withdraw takes part of a lock back and keeps at least the minimum", async () => {
    const o = owners[0]!;
    const amount = (await seq(1n)).amount; // MIN + 5000
    const bal = await balance(o.account.address);
    const receipt = await act(o, "withdraw", [1n, parseEther("3000")]);
    gasReport.withdraw = receipt.gasUsed;
    expect(events(receipt, "Withdraw")[0]?.args).toEqual({
      sequencerId: 1n,
      owner: o.account.address,
      amount: parseEther("3000"),
    });
    expect(events(receipt, "LockUpdate")[0]?.args).toMatchObject({ newAmount: amount - parseEther("3000") });
    expect((await balance(o.account.address)) - bal).toBe(parseEther("3000"));
    expect(await fails(o, "withdraw", [1n, parseEther("2000") + 1n])).toBe("AmountBelowMin");
    expect(await fails(o, "withdraw", [1n, amount * 10n])).toBe("AmountBelowMin");
    expect(await fails(o, "withdraw", [1n, 0n])).toBe("ZeroAmount");
    expect(await fails(owners[1]!, "withdraw", [1n, 1n])).toBe("NotSequencerOwner");
  });

  it("withdraw: at most once per reward checkpoint (a second one in the same period reverts)", async () => {
    const o = owners[0]!;
    expect(await read("nextCheckpointId")).toBe(0n);
    expect(await failure(o, "withdraw", [1n, parseEther("2000")])).toEqual({
      name: "WithdrawThrottled",
      args: [1n, 0n],
    });
    // another sequencer has its own period
    await act(owners[2]!, "withdraw", [3n, parseEther("1000")]);
    expect(await fails(owners[2]!, "withdraw", [3n, parseEther("1000")])).toBe("WithdrawThrottled");
    expect((await seq(1n)).amount).toBe(MIN + parseEther("2000"));
  });

  it("updateSigner replaces the key and frees the old signer", async () => {
    const o = owners[0]!;
    const old = (await seq(1n)).signer;
    const s = newSigner();
    const receipt = await act(o, "updateSigner", [1n, s.pubkey]);
    gasReport.updateSigner = receipt.gasUsed;
    expect(events(receipt, "SignerChange")[0]?.args).toMatchObject({
      sequencerId: 1n,
      oldSigner: old,
      newSigner: s.address,
      signerPubkey: s.pubkey,
    });
    expect(await read("seqSigners", [s.address])).toBe(1n);
    expect(await read("seqSigners", [old])).toBe(0n);
    const usedBy2 = (await seq(2n)).signer;
    expect(usedBy2).not.toBe(zeroAddress);
    const s2 = newSigner();
    await act(owners[1]!, "updateSigner", [2n, s2.pubkey]);
    await mine(THROTTLE);
    expect(await fails(o, "updateSigner", [1n, s2.pubkey])).toBe("SignerInUse");
    expect(await fails(o, "updateSigner", [1n, "0x1234"])).toBe("InvalidPubkey");
    expect(await fails(owners[1]!, "updateSigner", [1n, newSigner().pubkey])).toBe("NotSequencerOwner");
  });

  it("updateSigner rejects a key that is not a secp256k1 point", async () => {
    const o = owners[2]!; // seq 3 has not updated its signer yet
    for (const [what, k] of Object.entries(offCurveKeys())) {
      expect(await fails(o, "updateSigner", [3n, k.pubkey]), what).toBe("PubkeyNotOnCurve");
    }
  });

  it("updateSigner: once per signerUpdateThrottle L1 blocks; after mining past it, it works", async () => {
    const o = owners[0]!;
    expect(await read("signerUpdateThrottle")).toBe(THROTTLE);
    const first = await act(o, "updateSigner", [1n, newSigner().pubkey]);
    const at = first.blockNumber;
    expect((await seq(1n)).signerUpdateBlock).toBe(at);
    const next = newSigner();
    expect(await failure(o, "updateSigner", [1n, next.pubkey])).toEqual({
      name: "SignerUpdateThrottled",
      args: [1n, at + THROTTLE],
    });
    // up to the block before at + THROTTLE it still reverts
    await mine(THROTTLE - 2n);
    expect(await blockNumber()).toBe(at + THROTTLE - 2n);
    expect(await fails(o, "updateSigner", [1n, next.pubkey])).toBe("SignerUpdateThrottled");
    await mine(1n);
    const second = await act(o, "updateSigner", [1n, next.pubkey]);
    expect(second.blockNumber).toBe(at + THROTTLE);
    expect(events(second, "SignerChange")[0]?.args).toMatchObject({ newSigner: next.address });
    expect(await read("seqSigners", [next.address])).toBe(1n);
  });

  it("setSequencerRewardRecipient and setSequencerOwner", async () => {
    const o = owners[0]!;
    const r = await act(o, "setSequencerRewardRecipient", [1n, stranger.account.address]);
    expect(events(r, "RewardRecipientChanged")[0]?.args).toMatchObject({
      sequencerId: 1n,
      oldRecipient: o.account.address,
      newRecipient: stranger.account.address,
    });
    expect(await fails(o, "setSequencerRewardRecipient", [1n, zeroAddress])).toBe("InvalidAddress");
    expect(await fails(owners[1]!, "setSequencerRewardRecipient", [1n, owners[1]!.account.address])).toBe(
      "NotSequencerOwner",
    );
    await act(o, "setSequencerRewardRecipient", [1n, o.account.address]);

    expect(await fails(o, "setSequencerOwner", [1n, stranger.account.address])).toBe("NotWhitelisted");
    expect(await fails(o, "setSequencerOwner", [1n, owners[1]!.account.address])).toBe("OwnerHasSequencer");
    expect(await fails(o, "setSequencerOwner", [1n, zeroAddress])).toBe("InvalidAddress");
    const newOwner = owners[3]!; // whitelisted, without a sequencer
    const receipt = await act(o, "setSequencerOwner", [1n, newOwner.account.address]);
    expect(events(receipt, "OwnerChanged")[0]?.args).toMatchObject({
      sequencerId: 1n,
      oldOwner: o.account.address,
      newOwner: newOwner.account.address,
    });
    expect(await read("seqOwners", [newOwner.account.address])).toBe(1n);
    expect(await read("seqOwners", [o.account.address])).toBe(0n);
    expect(await fails(o, "relock", [1n, MIN, false])).toBe("NotSequencerOwner");
    await act(newOwner, "setSequencerOwner", [1n, o.account.address]); // and back
  });

  it("every event about a sequencer carries the next nonce", async () => {
    const s = await seq(1n);
    // lock(1) relock(2) withdraw(3) signer(4, 5, 6) recipient(7, 8) owner(9, 10)
    expect(s.nonce).toBe(10);
  });
});

describe("unlocking and the exit period (time travel)", () => {
  it("unlock starts the exit; claim works only after exitDelay and frees owner and signer", async () => {
    const o = owners[1]!;
    const id = 2n;
    const s = await seq(id);
    const receipt = await act(o, "unlock", [id]);
    const block = await gov.publicClient.getBlock({ blockNumber: receipt.blockNumber });
    const ev = events(receipt, "UnlockInit")[0]?.args;
    expect(ev).toMatchObject({ owner: o.account.address, sequencerId: id, amount: s.amount });
    expect(ev?.unlockClaimTime).toBe(block.timestamp + EXIT_DELAY);
    expect((await seq(id)).status).toBe(Status.Unlocking);
    expect(await read("votingPower", [id])).toBe(0n);

    for (const [fn, args] of [
      ["relock", [id, MIN, false]],
      ["withdraw", [id, 1n]],
      ["unlock", [id]],
      ["updateSigner", [id, newSigner().pubkey]],
    ] as const) {
      expect(await fails(o, fn, args)).toBe("NotActive");
    }
    expect(await fails(o, "unlockClaim", [id])).toBe("UnlockNotReady");
    await increaseTime(l1.rpcUrl, Number(EXIT_DELAY) - 30);
    expect(await fails(o, "unlockClaim", [id])).toBe("UnlockNotReady");
    await increaseTime(l1.rpcUrl, 30);
    expect(await fails(owners[0]!, "unlockClaim", [id])).toBe("NotSequencerOwner");
    const bal = await balance(o.account.address);
    const total = await read<bigint>("totalLocked");
    const claim = await act(o, "unlockClaim", [id]);
    expect(events(claim, "Unlocked")[0]?.args).toMatchObject({
      owner: o.account.address,
      sequencerId: id,
      amount: s.amount,
      total: total - s.amount,
    });
    expect((await balance(o.account.address)) - bal).toBe(s.amount);
    expect((await seq(id)).status).toBe(Status.Unlocked);
    expect(await fails(o, "unlockClaim", [id])).toBe("NotUnlocking");
    expect(await fails(owners[0]!, "unlockClaim", [1n])).toBe("NotUnlocking");
    expect(await fails(o, "setSequencerOwner", [id, owners[4]!.account.address])).toBe("NotActive");

    // the owner and its signer are free again: a new sequencer id
    const again = await act(o, "lockFor", [s.signer, MIN, await pubkeyOf(s.signer)]);
    expect(events(again, "Locked")[0]?.args).toMatchObject({ sequencerId: 4n, signer: s.signer });
  });
});

/** The pubkey for a signer address seen earlier in a Locked or SignerChange event. */
async function pubkeyOf(signer: Address): Promise<Hex> {
  const logs = await gov.publicClient.getContractEvents({
    address: d.lockingPool,
    abi: pool,
    fromBlock: 0n,
  });
  for (const l of logs as unknown as { eventName: string; args: Record<string, unknown> }[]) {
    if (l.eventName === "Locked" && l.args.signer === signer) return l.args.signerPubkey as Hex;
    if (l.eventName === "SignerChange" && l.args.newSigner === signer) return l.args.signerPubkey as Hex;
  }
  throw new Error(`no pubkey for ${signer}`);
}

describe("reward checkpoints", () => {
  const domain = () => ({ l1ChainId: l1.chainId, address: d.lockingPool });
  const cpArgs = (cp: RewardCheckpoint, sig: Hex) =>
    [cp.checkpointId, cp.fromBlock, cp.toBlock, cp.seqIds, cp.amounts, sig] as const;

  it("accepts the next checkpoint signed by the group key and credits each sequencer", async () => {
    const cp: RewardCheckpoint = {
      checkpointId: 0n,
      fromBlock: 1n,
      toBlock: 1000n,
      seqIds: [1n, 3n, 4n],
      amounts: [parseEther("10"), parseEther("20"), parseEther("30")],
    };
    expect(await read("rewardsDigest", cpArgs(cp, "0x").slice(0, 5))).toBe(rewardsDigest(domain(), cp));
    const receipt = await act(stranger, "submitRewards", cpArgs(cp, group.sign(rewardsDigest(domain(), cp))));
    gasReport["submitRewards, 3 sequencers"] = receipt.gasUsed;
    expect(events(receipt, "RewardsSubmitted")[0]?.args).toEqual({
      checkpointId: 0n,
      fromBlock: 1n,
      toBlock: 1000n,
      sequencerIds: [1n, 3n, 4n],
      amounts: cp.amounts,
      total: parseEther("60"),
    });
    expect((await seq(3n)).reward).toBe(parseEther("20"));
    expect(await read("nextCheckpointId")).toBe(1n);
    expect(await read("lastRewardBlock")).toBe(1000n);
  });

  it("a new checkpoint opens a new withdraw period", async () => {
    const o = owners[0]!;
    const receipt = await act(o, "withdraw", [1n, parseEther("2000")]);
    expect(events(receipt, "Withdraw")[0]?.args).toMatchObject({
      sequencerId: 1n,
      amount: parseEther("2000"),
    });
    expect((await seq(1n)).amount).toBe(MIN);
    expect((await seq(1n)).withdrawPeriod).toBe(2n);
    await act(gov, "updateMinAmounts", [MIN - parseEther("1000")]);
    expect(await failure(o, "withdraw", [1n, 1n])).toEqual({ name: "WithdrawThrottled", args: [1n, 1n] });
    await act(gov, "updateMinAmounts", [MIN]);
  });

  it("a checkpoint for 100 sequencer entries (gas report)", async () => {
    const cp: RewardCheckpoint = {
      checkpointId: 1n,
      fromBlock: 1001n,
      toBlock: 2000n,
      seqIds: Array.from({ length: 100 }, (_, i) => BigInt((i % 4) + 1)),
      amounts: Array.from({ length: 100 }, () => parseEther("1")),
    };
    const receipt = await act(stranger, "submitRewards", cpArgs(cp, group.sign(rewardsDigest(domain(), cp))));
    gasReport["submitRewards, 100 entries"] = receipt.gasUsed;
    expect((await seq(1n)).reward).toBe(parseEther("10") + parseEther("25"));
  });

  it("rejects a wrong id, range, lengths, unknown sequencer or signature", async () => {
    const good: RewardCheckpoint = {
      checkpointId: 2n,
      fromBlock: 2001n,
      toBlock: 3000n,
      seqIds: [1n],
      amounts: [1n],
    };
    const signed = (cp: RewardCheckpoint) => cpArgs(cp, group.sign(rewardsDigest(domain(), cp)));
    expect(await fails(stranger, "submitRewards", signed({ ...good, checkpointId: 1n }))).toBe(
      "WrongCheckpointId",
    );
    expect(await fails(stranger, "submitRewards", signed({ ...good, checkpointId: 3n }))).toBe(
      "WrongCheckpointId",
    );
    expect(await fails(stranger, "submitRewards", signed({ ...good, fromBlock: 2002n }))).toBe(
      "WrongRewardRange",
    );
    expect(await fails(stranger, "submitRewards", signed({ ...good, toBlock: 2000n }))).toBe(
      "WrongRewardRange",
    );
    expect(await fails(stranger, "submitRewards", signed({ ...good, amounts: [1n, 2n] }))).toBe(
      "LengthMismatch",
    );
    expect(await fails(stranger, "submitRewards", signed({ ...good, seqIds: [77n] }))).toBe(
      "UnknownSequencer",
    );
    expect(await fails(stranger, "submitRewards", signed({ ...good, seqIds: [0n] }))).toBe(
      "UnknownSequencer",
    );
    const sig = group.sign(rewardsDigest(domain(), good));
    expect(await fails(stranger, "submitRewards", cpArgs({ ...good, amounts: [2n] }, sig))).toBe(
      "InvalidSignature",
    );
    const other = createFrostGroup(2, 3).sign(rewardsDigest(domain(), good));
    expect(await fails(stranger, "submitRewards", cpArgs(good, other))).toBe("InvalidSignature");
    await act(stranger, "submitRewards", cpArgs(good, sig));
  });

  it("withdrawRewards pays the recipient from the reward payer; relock can lock rewards", async () => {
    const o = owners[2]!; // seq 3, rewards go to `stranger`
    const reward = (await seq(3n)).reward;
    expect(reward).toBeGreaterThan(0n);
    const payerBefore = await balance(d.rewardPayer);
    const recipBefore = await balance(stranger.account.address);
    expect(await fails(owners[0]!, "withdrawRewards", [3n])).toBe("NotSequencerOwner");
    const receipt = await act(o, "withdrawRewards", [3n]);
    gasReport.withdrawRewards = receipt.gasUsed;
    expect(events(receipt, "RewardsWithdrawn")[0]?.args).toEqual({
      sequencerId: 3n,
      recipient: stranger.account.address,
      amount: reward,
    });
    expect((await balance(stranger.account.address)) - recipBefore).toBe(reward);
    expect(payerBefore - (await balance(d.rewardPayer))).toBe(reward);
    expect(await fails(o, "withdrawRewards", [3n])).toBe("NoRewards");
    // the recipient may pull too (after the next checkpoint credits seq 3 again)
    const cp: RewardCheckpoint = {
      checkpointId: 3n,
      fromBlock: 3001n,
      toBlock: 3500n,
      seqIds: [3n],
      amounts: [9n],
    };
    await act(stranger, "submitRewards", cpArgs(cp, group.sign(rewardsDigest(domain(), cp))));
    const pulled = await act(stranger, "withdrawRewards", [3n]);
    expect(events(pulled, "RewardsWithdrawn")[0]?.args).toMatchObject({
      recipient: stranger.account.address,
      amount: 9n,
    });
    expect(await fails(o, "withdrawRewards", [0n])).toBe("UnknownSequencer");

    // seq 1: its recipient is its owner; relock(lockReward) moves the reward into the lock
    const s1 = await seq(1n);
    const r = await act(owners[0]!, "relock", [1n, 0n, true]);
    expect(events(r, "LockUpdate")[0]?.args).toMatchObject({ newAmount: s1.amount + s1.reward });
    expect((await seq(1n)).reward).toBe(0n);
    expect(await fails(owners[0]!, "relock", [1n, 0n, true])).toBe("ZeroAmount");
  });

  it("follows the inbox's group key rotation", async () => {
    const next = createFrostGroup(2, 3);
    const inboxDomain = { l1ChainId: l1.chainId, address: d.batchInbox };
    const rot = group.sign(rotationDigest(inboxDomain, 0n, next.groupKey));
    await send(stranger, d.batchInbox, BatchInboxArtifact.abi, "rotateGroupKey", [next.groupKey, rot]);
    const cp: RewardCheckpoint = {
      checkpointId: 4n,
      fromBlock: 3501n,
      toBlock: 4000n,
      seqIds: [4n],
      amounts: [5n],
    };
    const oldSig = group.sign(rewardsDigest(domain(), cp));
    expect(await fails(stranger, "submitRewards", cpArgs(cp, oldSig))).toBe("InvalidSignature");
    group = next;
    await act(stranger, "submitRewards", cpArgs(cp, group.sign(rewardsDigest(domain(), cp))));
  });
});

describe("governance", () => {
  it("whitelist, parameters and reward payer: owner only, with events and checks", async () => {
    const r = await act(gov, "setWhitelist", [stranger.account.address, true]);
    expect(events(r, "WhitelistSet")[0]?.args).toEqual({ user: stranger.account.address, allowed: true });
    expect(await read("whitelist", [stranger.account.address])).toBe(true);
    await act(gov, "setWhitelist", [stranger.account.address, false]);
    expect(await fails(gov, "setWhitelist", [zeroAddress, true])).toBe("InvalidAddress");
    expect(await fails(stranger, "setWhitelist", [stranger.account.address, true])).toBe(
      "OwnableUnauthorizedAccount",
    );

    const p1 = await act(gov, "updateMinAmounts", [parseEther("25000")]);
    expect(events(p1, "ParamsChanged")[0]?.args).toEqual({
      minLock: parseEther("25000"),
      maxLock: MAX,
      exitDelay: EXIT_DELAY,
    });
    const p2 = await act(gov, "updateMaxAmounts", [parseEther("200000")]);
    expect(events(p2, "ParamsChanged")[0]?.args).toMatchObject({ maxLock: parseEther("200000") });
    const p3 = await act(gov, "updateExitDelay", [21n * 86400n]);
    expect(events(p3, "ParamsChanged")[0]?.args).toMatchObject({ exitDelay: 21n * 86400n });
    expect(await read("exitDelay")).toBe(21n * 86400n);
    expect(await fails(gov, "updateMinAmounts", [0n])).toBe("InvalidParams");
    expect(await fails(gov, "updateMaxAmounts", [parseEther("1000")])).toBe("InvalidParams");
    expect(await fails(gov, "updateExitDelay", [366n * 86400n])).toBe("InvalidParams");
    for (const [fn, arg] of [
      ["updateMinAmounts", MIN],
      ["updateMaxAmounts", MAX],
      ["updateExitDelay", EXIT_DELAY],
    ] as const) {
      expect(await fails(stranger, fn, [arg])).toBe("OwnableUnauthorizedAccount");
      await act(gov, fn, [arg]);
    }

    const t = await act(gov, "setSignerUpdateThrottle", [0n]);
    expect(events(t, "SetSignerUpdateThrottle")[0]?.args).toEqual({ n: 0n });
    // 0: no throttle, two updates in consecutive blocks
    await act(owners[0]!, "updateSigner", [1n, newSigner().pubkey]);
    await act(owners[0]!, "updateSigner", [1n, newSigner().pubkey]);
    expect(await fails(gov, "setSignerUpdateThrottle", [2_628_001n])).toBe("InvalidParams");
    expect(await fails(stranger, "setSignerUpdateThrottle", [1n])).toBe("OwnableUnauthorizedAccount");
    await act(gov, "setSignerUpdateThrottle", [THROTTLE]);
    expect(await read("signerUpdateThrottle")).toBe(THROTTLE);

    const rp = await act(gov, "setRewardPayer", [owners[5]!.account.address]);
    expect(events(rp, "RewardPayerChanged")[0]?.args).toEqual({
      oldPayer: gov.account.address,
      newPayer: owners[5]!.account.address,
    });
    expect(await fails(gov, "setRewardPayer", [zeroAddress])).toBe("InvalidAddress");
    expect(await fails(stranger, "setRewardPayer", [stranger.account.address])).toBe(
      "OwnableUnauthorizedAccount",
    );
    await act(gov, "setRewardPayer", [gov.account.address]);
  });

  it("pause stops every sequencer action until unpause", async () => {
    expect(await fails(stranger, "pause", [])).toBe("OwnableUnauthorizedAccount");
    await act(gov, "pause", []);
    const o = owners[0]!;
    const s = newSigner();
    for (const [c, fn, args] of [
      [owners[4]!, "lockFor", [s.address, MIN, s.pubkey]],
      [owners[4]!, "lockWithRewardRecipient", [s.address, s.address, MIN, s.pubkey]],
      [o, "relock", [1n, MIN, false]],
      [o, "withdraw", [1n, 1n]],
      [o, "unlock", [1n]],
      [o, "unlockClaim", [1n]],
      [o, "updateSigner", [1n, s.pubkey]],
      [o, "setSequencerRewardRecipient", [1n, s.address]],
      [o, "setSequencerOwner", [1n, owners[4]!.account.address]],
      [o, "withdrawRewards", [1n]],
      [stranger, "submitRewards", [5n, 4001n, 5000n, [], [], "0x"]],
    ] as const) {
      expect(await fails(c, fn, args), fn).toBe("EnforcedPause");
    }
    expect(await fails(stranger, "unpause", [])).toBe("OwnableUnauthorizedAccount");
    await act(gov, "unpause", []);
    await act(owners[4]!, "lockFor", [s.address, MIN, s.pubkey]);
  });

  it("amounts beyond the uint96 storage range revert (SafeCast)", async () => {
    const o = owners[5]!;
    await act(gov, "setWhitelist", [o.account.address, true]);
    const huge = 2n ** 96n;
    await send(gov, d.token, token, "mint", [o.account.address, huge]);
    const s = newSigner();
    expect(await fails(o, "lockFor", [s.address, huge, s.pubkey])).toBe("SafeCastOverflowedUintDowncast");
    await act(o, "lockFor", [s.address, huge - 1n, s.pubkey]);
  });

  it("only the token owner mints the devnet token", async () => {
    const r = await revertOf(
      stranger.publicClient.simulateContract({
        account: stranger.account,
        address: d.token,
        abi: token,
        functionName: "mint",
        args: [stranger.account.address, 1n],
      }),
    );
    expect(r.name).toBe("OwnableUnauthorizedAccount");
    const before = await balance(stranger.account.address);
    await send(gov, d.token, token, "mint", [stranger.account.address, 7n]);
    expect((await balance(stranger.account.address)) - before).toBe(7n);
    expect(keccak256(toHex("x"))).toMatch(/^0x/);
  });
});
