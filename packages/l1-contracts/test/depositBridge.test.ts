import { type Abi, maxUint256, parseEther, parseEventLogs, parseGwei, zeroAddress } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployL1Contracts, type L1Deployment } from "../src/deploy.ts";
import { type DevL1, startDevL1 } from "../src/devL1.ts";
import { DepositBridgeArtifact, DseqTokenArtifact } from "../src/generated/artifacts.ts";
import { clients, createFrostGroup, revertOf, type TestClients } from "./helpers.ts";

const bridge = DepositBridgeArtifact.abi;
const token = DseqTokenArtifact.abi;
const GWEI = parseGwei("1");
const errorsAbi = [...bridge, ...token.filter((x) => x.type === "error")] as Abi;

let l1: DevL1;
let d: L1Deployment;
let gov: TestClients;
let user: TestClients;

beforeAll(async () => {
  l1 = await startDevL1({ accounts: 2 });
  gov = clients(l1, 0);
  user = clients(l1, 1);
  d = await deployL1Contracts({
    rpcUrl: l1.rpcUrl,
    deployerKey: l1.accounts[0]!.privateKey,
    params: { l2ChainId: 901n, groupKey: createFrostGroup(2, 3).groupKey },
  });
  await wait(
    await gov.wallet.writeContract({
      address: d.token,
      abi: token,
      functionName: "transfer",
      args: [user.account.address, parseEther("1000")],
    }),
  );
}, 60_000);

afterAll(async () => {
  await l1?.stop();
});

async function wait(hash: `0x${string}`) {
  const r = await gov.publicClient.waitForTransactionReceipt({ hash });
  expect(r.status).toBe("success");
  return r;
}

const deposit = (to: `0x${string}`, amount: bigint) =>
  user.wallet.writeContract({
    address: d.depositBridge,
    abi: bridge,
    functionName: "deposit",
    args: [to, amount],
  });
const simulateDeposit = (to: `0x${string}`, amount: bigint) =>
  revertOf(
    user.publicClient.simulateContract({
      account: user.account,
      address: d.depositBridge,
      abi: bridge,
      functionName: "deposit",
      args: [to, amount],
    }),
    errorsAbi,
  );

describe("DepositBridge", () => {
  it("locks tokens and emits DepositInitiated with a strictly increasing nonce", async () => {
    expect((await simulateDeposit(gov.account.address, GWEI)).name).toBe("ERC20InsufficientAllowance");
    await wait(
      await user.wallet.writeContract({
        address: d.token,
        abi: token,
        functionName: "approve",
        args: [d.depositBridge, maxUint256],
      }),
    );
    const to = gov.account.address;
    const nonces: bigint[] = [];
    for (const amount of [parseEther("1"), parseEther("2"), 3n * GWEI]) {
      const receipt = await wait(await deposit(to, amount));
      const [ev] = parseEventLogs({ abi: bridge, logs: receipt.logs, eventName: "DepositInitiated" });
      expect(ev?.args).toMatchObject({ from: user.account.address, to, amount });
      nonces.push(ev!.args.nonce);
      if (nonces.length === 1) process.stdout.write(`gas report: deposit ${receipt.gasUsed}\n`);
    }
    expect(nonces).toEqual([1n, 2n, 3n]);
    const held = await gov.publicClient.readContract({
      address: d.token,
      abi: token,
      functionName: "balanceOf",
      args: [d.depositBridge],
    });
    expect(held).toBe(parseEther("3") + 3n * GWEI);
    expect(
      await gov.publicClient.readContract({
        address: d.depositBridge,
        abi: bridge,
        functionName: "depositNonce",
      }),
    ).toBe(3n);
  });

  it("refuses amounts that are not whole gwei: the L2 credits gwei", async () => {
    for (const amount of [1n, GWEI - 1n, GWEI + 1n, parseEther("1") + 1n]) {
      const r = await simulateDeposit(gov.account.address, amount);
      expect(r.name, String(amount)).toBe("NotWholeGwei");
      expect(r.args).toEqual([amount]);
    }
    const nonce = () =>
      gov.publicClient.readContract({ address: d.depositBridge, abi: bridge, functionName: "depositNonce" });
    const before = await nonce();
    // Sent anyway (a fixed gas limit skips the estimate): the dev L1 refuses it with the same error.
    const sent = await revertOf(
      user.wallet.writeContract({
        address: d.depositBridge,
        abi: bridge,
        functionName: "deposit",
        args: [gov.account.address, 7n],
        gas: 200_000n,
      }),
      errorsAbi,
    );
    expect(sent.name).toBe("NotWholeGwei");
    expect(await nonce()).toBe(before);
    expect(
      await gov.publicClient.readContract({
        address: d.depositBridge,
        abi: bridge,
        functionName: "AMOUNT_UNIT",
      }),
    ).toBe(GWEI);
  });

  it("rejects the zero address, a zero amount, more than the balance, and deposits while paused", async () => {
    expect((await simulateDeposit(zeroAddress, GWEI)).name).toBe("InvalidAddress");
    expect((await simulateDeposit(gov.account.address, 0n)).name).toBe("ZeroAmount");
    expect((await simulateDeposit(gov.account.address, parseEther("1000000"))).name).toBe(
      "ERC20InsufficientBalance",
    );
    const pause = (fn: "pause" | "unpause", c: TestClients) =>
      c.wallet.writeContract({ address: d.depositBridge, abi: bridge, functionName: fn });
    const notOwner = await revertOf(
      user.publicClient.simulateContract({
        account: user.account,
        address: d.depositBridge,
        abi: bridge,
        functionName: "pause",
      }),
    );
    expect(notOwner.name).toBe("OwnableUnauthorizedAccount");
    await wait(await pause("pause", gov));
    expect((await simulateDeposit(gov.account.address, GWEI)).name).toBe("EnforcedPause");
    await wait(await pause("unpause", gov));
    const receipt = await wait(await deposit(gov.account.address, GWEI));
    const [ev] = parseEventLogs({ abi: bridge, logs: receipt.logs, eventName: "DepositInitiated" });
    expect(ev?.args.nonce).toBe(4n);
  });
});
