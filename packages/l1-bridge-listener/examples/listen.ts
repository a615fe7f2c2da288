// Start a dev L1 (EDR on 127.0.0.1), deploy the dseq contracts, run the L1 listener on a LevelDB
// in a temp dir, lock stake and make a deposit, and print the confirmed events. Run:
//   bash scripts/env.sh node packages/l1-bridge-listener/examples/listen.ts
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@dseq/common";
import {
  DepositBridgeArtifact,
  DseqTokenArtifact,
  deployL1Contracts,
  LockingPoolArtifact,
  rpc,
  startDevL1,
} from "@dseq/l1-contracts";
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  maxUint256,
  parseEther,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { L1BridgeListener, type L1Event, openLevelKvStore, toRotationStakeChange } from "../src/index.ts";

const l1 = await startDevL1({ accounts: 3 });
const dir = mkdtempSync(join(tmpdir(), "dseq-l1listener-example-"));
const db = await openLevelKvStore(dir);
let listener: L1BridgeListener | undefined;
try {
  const [deployer, operator] = l1.accounts as [(typeof l1.accounts)[0], (typeof l1.accounts)[0]];
  const d = await deployL1Contracts({
    rpcUrl: l1.rpcUrl,
    deployerKey: deployer.privateKey,
    // any 33-byte point will do here: this example appends no batch
    params: {
      l2ChainId: 901n,
      groupKey: `0x02${"79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"}`,
      whitelist: [deployer.address],
    },
  });

  listener = new L1BridgeListener(
    {
      endpoints: [l1.rpcUrl],
      l1ChainId: l1.chainId,
      contracts: { lockingPool: d.lockingPool, depositBridge: d.depositBridge, batchInbox: d.batchInbox },
      startBlock: d.startBlock,
      confirmations: 2, // the devnet's choice; mainnet uses the default 12
      pollIntervalMs: 100,
    },
    { store: db.store, logger: createLogger({ level: "warn" }) },
  );
  const seen: L1Event[] = [];
  listener.events.on("event", (e) => {
    seen.push(e);
    const what = e.type === "stake" ? `${e.change.kind} sequencer ${e.sequencerId} nonce ${e.nonce}` : e.type;
    console.log(`confirmed L1 event #${e.seq}: ${what} (L1 block ${e.l1.blockNumber}, log ${e.l1.logIndex})`);
    const change = toRotationStakeChange(e);
    if (change) console.log("  rotation stake change:", change);
  });
  listener.start();

  const chain = defineChain({
    id: l1.chainId,
    name: "dev-l1",
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [l1.rpcUrl] } },
  });
  const client = createPublicClient({ chain, transport: http() });
  const wallet = createWalletClient({
    account: privateKeyToAccount(deployer.privateKey),
    chain,
    transport: http(),
  });
  const send = async (
    address: Hex,
    abi: readonly unknown[],
    functionName: string,
    args: readonly unknown[],
  ) =>
    client.waitForTransactionReceipt({
      hash: await wallet.writeContract({ address, abi, functionName, args } as never),
    });

  const signer = privateKeyToAccount(operator.privateKey);
  await send(d.token, DseqTokenArtifact.abi, "approve", [d.lockingPool, maxUint256]);
  await send(d.lockingPool, LockingPoolArtifact.abi, "lockFor", [
    signer.address,
    parseEther("20000"),
    `0x${signer.publicKey.slice(4)}`,
  ]);
  await send(d.lockingPool, LockingPoolArtifact.abi, "relock", [1n, parseEther("500"), false]);
  await send(d.token, DseqTokenArtifact.abi, "approve", [d.depositBridge, maxUint256]);
  await send(d.depositBridge, DepositBridgeArtifact.abi, "deposit", [operator.address, parseEther("5")]);
  await rpc(l1.rpcUrl, "hardhat_mine", ["0x2"]); // the confirmations

  for (let i = 0; i < 200 && !seen.some((e) => e.type === "deposit"); i++)
    await new Promise((r) => setTimeout(r, 50));
  const status = listener.status();
  console.log(
    `listener cursor at L1 block ${status.cursor?.number}, head ${status.head}, ${status.nextSeq} events stored`,
  );
} finally {
  await listener?.stop();
  await db.close();
  await l1.stop();
  rmSync(dir, { recursive: true, force: true });
}
