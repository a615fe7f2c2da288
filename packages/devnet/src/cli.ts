// `pnpm devnet`: the one-command local network (scripts/devnet.ts imports this file).
import { resolve } from "node:path";
import { errorMessage, type Hex, isDseqError } from "@dseq/common";
import { loadAccounts } from "./accounts.ts";
import { type BlockLine, followBlocks, preconfPart, watchPreconfirmations } from "./blockFeed.ts";
import { sendControl, sendL1Control } from "./control.ts";
import { clearStaleState, type Devnet, startDevnet } from "./devnet.ts";
import { DevnetUsageError } from "./errors.ts";
import { rpcCall } from "./jsonRpc.ts";
import { runLoad } from "./load.ts";
import { defaultGenerateOptions, readNetwork } from "./network.ts";
import { type LoadCommand, parseDevnetArgs, type StartCommand, USAGE } from "./options.ts";
import { requireRunning } from "./state.ts";
import { sendTestbedAction, serveTestbedControl } from "./testbed/control.ts";
import { canUseNetns } from "./testbed/driver.ts";
import { startTestbedDevnet, type TestbedDevnet } from "./testbed/testbedDevnet.ts";

function short(h: string): string {
  return `${h.slice(0, 10)}…`;
}

async function runStart(cmd: StartCommand): Promise<number> {
  clearStaleState(cmd.dataDir);
  let devnet: Devnet | undefined;
  let stopping = false;
  const started = Date.now();
  // Signal handlers go in first: a Ctrl-C during start-up (or one that lands right after the
  // banner) must stop the nodes, not kill the supervisor with its children still running.
  let pendingSignal: string | undefined;
  let onSignal = (sig: string): void => {
    if (pendingSignal !== undefined) process.exit(130); // second Ctrl-C: the exit hook kills every child
    pendingSignal = sig;
    console.log(`\n${sig}: stopping as soon as start-up is done (again to abort now)…`);
  };
  process.on("SIGINT", () => onSignal("SIGINT"));
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  console.log(`dseq devnet: data dir ${resolve(cmd.dataDir)}${cmd.fresh ? " (fresh)" : ""}; starting nodes…`);
  for (const [name, section] of Object.entries(cmd.byzantine ?? {}))
    console.log(`!! ${name} is Byzantine on purpose (tests and research only): ${JSON.stringify(section)}`);
  const startOpts: Parameters<typeof startDevnet>[0] = {
    dataDir: cmd.dataDir,
    fresh: cmd.fresh,
    ...(cmd.validators !== undefined && { validators: cmd.validators }),
    ...(cmd.followers !== undefined && { followers: cmd.followers }),
    ...(cmd.blockTimeMs !== undefined && { blockTimeMs: cmd.blockTimeMs }),
    ...(cmd.spanLength !== undefined && { spanLength: cmd.spanLength }),
    ...(cmd.reelectAfterMisses !== undefined && { reelectAfterMisses: cmd.reelectAfterMisses }),
    ...(cmd.byzantine !== undefined && { byzantine: cmd.byzantine }),
    ...(cmd.l1 !== undefined && { l1: cmd.l1 }),
    onNodeExit: (name, exit, logPath) => {
      if (!stopping && devnet !== undefined)
        console.log(
          `!! ${name} exited (code ${exit.code ?? "-"}, signal ${exit.signal ?? "-"}); log: ${logPath}`,
        );
    },
  };
  let testbed: TestbedDevnet | undefined;
  let testbedControl: { close(): Promise<void> } | undefined;
  if (cmd.netns) {
    const ok = await canUseNetns();
    if (!ok.ok) throw new DevnetUsageError(`--netns: ${ok.reason}`);
    testbed = await startTestbedDevnet({ ...startOpts, shape: cmd.netns });
    devnet = testbed.devnet;
    testbedControl = await serveTestbedControl(resolve(cmd.dataDir), testbed.testbed);
    const s = cmd.netns;
    console.log(
      `WAN testbed: a network namespace per node, links ${s.delayMs * 2} ms RTT, +-${s.jitterMs} ms, ${s.lossPct} % loss, ${s.rateMbit || "unlimited"} Mbit/s (pnpm devnet testbed shape|partition|heal|show)`,
    );
  } else devnet = await startDevnet(startOpts);
  const stopAll = (): Promise<void> =>
    testbed
      ? (testbedControl as { close(): Promise<void> }).close().then(() => testbed.stop())
      : (devnet as Devnet).stop();
  const d = devnet;
  const names = new Map<string, string>(d.nodes.map((n) => [n.address.toLowerCase(), n.name]));
  console.log(
    `\n${d.validators.length} validator${d.validators.length === 1 ? "" : "s"} + ${d.followers.length} follower${d.followers.length === 1 ? "" : "s"}, chain id ${d.chainId}, block time ${d.blockTimeMs / 1000} s, ready in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  console.log(`chain spec: ${d.chainSpecPath}\n`);
  if (d.l1) {
    const dep = d.l1.deployment;
    console.log(
      `L1 (EDR, chain id ${d.l1.chainId}): ${d.l1.rpcUrl}  (nodes' endpoint; EDR itself ${d.l1.directUrl})`,
    );
    console.log(`  LockingPool   ${dep.lockingPool}`);
    console.log(`  DepositBridge ${dep.depositBridge}`);
    console.log(`  BatchInbox    ${dep.batchInbox}`);
    console.log(`  token         ${dep.token}`);
    console.log(`  genesis validators locked on L1; addresses in ${resolve(cmd.dataDir, "l1.json")}\n`);
  } else {
    console.log("no L1 (--no-l1): the genesis set is the chain spec's and never changes\n");
  }
  for (const n of d.nodes) {
    console.log(
      `  ${n.name.padEnd(4)} ${n.role.padEnd(9)} ${n.address}  rpc ${n.rpcUrl}  ws ${n.wsUrl}  admin ${n.adminUrl}`,
    );
  }
  console.log("\nfunded accounts (well-known keys: never send real value to them):");
  for (const a of d.funded.slice(0, 3)) console.log(`  ${a.address}  key ${a.privateKey}`);
  if (d.funded.length > 3)
    console.log(`  … ${d.funded.length - 3} more in ${resolve(cmd.dataDir, "network.json")}`);
  const dd = cmd.dataDir === ".devnet" ? "" : ` --datadir ${cmd.dataDir}`;
  console.log(`\nfault injection: pnpm devnet kill|restart|pause|resume <node>${dd}`);
  console.log(`load:            pnpm devnet load --tps 100 --duration 30${dd}`);
  console.log(`logs:            ${resolve(cmd.dataDir)}/<node>/node.log     Ctrl-C stops everything\n`);

  // Preconfirmation latency on the block line: one node's pool admissions and preconfirmations.
  const preconf = watchPreconfirmations(d.nodes[0]?.wsUrl);
  const stopBlocks = followBlocks(
    () => d.nodes.filter((n) => n.state === "running").map((n) => n.rpcUrl),
    (b: BlockLine) => {
      const who = b.proposer ? (names.get(b.proposer.toLowerCase()) ?? short(b.proposer)) : "-";
      const gap = b.spacingS === undefined ? "" : `  +${b.spacingS}s`;
      console.log(
        `#${String(b.height).padEnd(6)} ${short(b.hash)}  txs ${String(b.txs).padStart(4)}  proposer ${who.padEnd(4)} round ${b.round ?? "-"}${gap}${preconfPart(b)}`,
      );
    },
    { preconf: preconf.tracker },
  );
  const stopFeed = (): void => {
    stopBlocks();
    preconf.close();
  };

  return new Promise<number>((resolveExit) => {
    const shutdown = (sig: string): void => {
      if (stopping) {
        console.log("second signal: killing every node now");
        for (const n of d.nodes) void n.kill();
        return;
      }
      stopping = true;
      stopFeed();
      console.log(`\n${sig}: stopping ${d.nodes.length} nodes (SIGTERM, SIGKILL after 10 s)…`);
      stopAll().then(
        () => {
          console.log("devnet stopped");
          resolveExit(0);
        },
        (err) => {
          console.error(`devnet stop failed: ${errorMessage(err)}`);
          resolveExit(1);
        },
      );
    };
    onSignal = shutdown;
    if (pendingSignal !== undefined) shutdown(pendingSignal);
  });
}

async function runLoadCommand(cmd: LoadCommand): Promise<number> {
  let urls = cmd.rpc;
  let headsWsUrl: string | undefined;
  if (urls.length === 0) {
    const state = requireRunning(cmd.dataDir);
    const running = state.nodes.filter((n) => n.state === "running");
    urls = running.map((n) => n.rpcUrl);
    headsWsUrl = running[0]?.wsUrl;
  }
  const chainId = Number(await rpcCall<string>(urls[0] as string, "eth_chainId"));
  const count = cmd.accounts ?? readNetwork(cmd.dataDir)?.loadAccounts ?? defaultGenerateOptions.loadAccounts;
  const accounts = loadAccounts(count);
  console.log(
    `load: ${cmd.tps} tx/s for ${cmd.durationS} s from ${accounts.length} accounts to ${urls.length} nodes; signing…`,
  );
  const report = await runLoad({
    ...(headsWsUrl ? { headsWsUrl } : {}),
    rpcUrls: urls,
    accounts,
    chainId,
    tps: cmd.tps,
    durationMs: cmd.durationS * 1000,
    onProgress: (p) =>
      console.log(
        `  ${(p.elapsedMs / 1000).toFixed(0).padStart(4)} s  sent ${p.sent}  accepted ${p.accepted}  committed ${p.committed}`,
      ),
  });
  const ms = (v: number): string => (Number.isNaN(v) ? "-" : `${v.toFixed(0)} ms`);
  console.log(`\nsent       ${report.sent} (signed in ${(report.signMs / 1000).toFixed(1)} s beforehand)`);
  console.log(`accepted   ${report.accepted}`);
  console.log(`rejected   ${report.rejected}`);
  for (const [msg, n] of Object.entries(report.errors).slice(0, 5)) console.log(`  ${n} x ${msg}`);
  console.log(
    `committed  ${report.committed} (${report.committedTps.toFixed(1)} tx/s${report.toBlock > report.fromBlock ? `, blocks ${report.fromBlock + 1}..${report.toBlock}` : ", no new block seen"})`,
  );
  console.log(
    `confirm    p50 ${ms(report.confirmP50Ms)}  p99 ${ms(report.confirmP99Ms)}  max ${ms(report.confirmMaxMs)}`,
  );
  if (report.notCommitted.length > 0) {
    console.log(
      `not committed after the drain window: ${report.notCommitted.length} (e.g. ${report.notCommitted.slice(0, 3).join(", ")})`,
    );
    return 1;
  }
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const cmd = parseDevnetArgs(argv);
    switch (cmd.kind) {
      case "help":
        console.log(USAGE);
        return 0;
      case "start":
        return await runStart(cmd);
      case "control": {
        const r = await sendControl(cmd.dataDir, cmd.action, cmd.node);
        console.log(`${r.node}: ${r.action} done (state ${r.state}${r.pid ? `, pid ${r.pid}` : ""})`);
        return 0;
      }
      case "status": {
        const s = requireRunning(cmd.dataDir);
        const res = await fetch(`${s.control.url}/status`, {
          headers: { "x-devnet-token": s.control.token },
        });
        const body = (await res.json()) as {
          nodes: { name: string; role: string; state: string; pid?: number; rpcUrl: string }[];
        };
        for (const n of body.nodes) {
          let head = "-";
          if (n.state === "running") {
            head = await rpcCall<Hex>(n.rpcUrl, "eth_blockNumber", [], 1000).then(
              (h) => String(Number(h)),
              () => "?",
            );
          }
          console.log(
            `${n.name.padEnd(4)} ${n.role.padEnd(9)} ${n.state.padEnd(8)} pid ${String(n.pid ?? "-").padEnd(7)} head ${head.padEnd(7)} ${n.rpcUrl}`,
          );
        }
        return 0;
      }
      case "load":
        return await runLoadCommand(cmd);
      case "l1": {
        const r = await sendL1Control(cmd.dataDir, cmd.path);
        console.log(`${cmd.what}: ${JSON.stringify(r)}`);
        return 0;
      }
      case "testbed": {
        const links = await sendTestbedAction(cmd.dataDir, cmd.action);
        for (const [link, s] of Object.entries(links)) {
          console.log(
            `${link.padEnd(9)} ${s.lossPct >= 100 ? "CUT" : `${s.delayMs} ms +-${s.jitterMs}, ${s.lossPct} % loss, ${s.rateMbit || "-"} Mbit/s`}`,
          );
        }
        return 0;
      }
    }
  } catch (err) {
    if (err instanceof DevnetUsageError) {
      console.error(`devnet: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    console.error(`devnet: ${isDseqError(err) ? err.message : errorMessage(err)}`);
    return 1;
  }
}

// Run when executed (scripts/devnet.ts imports this module, or `node packages/devnet/src/cli.ts`).
process.exitCode = await main(process.argv.slice(2));
