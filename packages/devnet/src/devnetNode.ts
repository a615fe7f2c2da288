import { existsSync, readFileSync } from "node:fs";
import { errorMessage, type Hex } from "@dseq/common";
import { DevnetError, DevnetErrorCode } from "./errors.ts";
import { blockNumber } from "./jsonRpc.ts";
import { ManagedProcess, type ProcessExit, type ProcessState } from "./managedProcess.ts";
import type { NodeLayout, NodePorts, NodeRole } from "./network.ts";

export type DevnetNode = {
  readonly name: string;
  readonly role: NodeRole;
  readonly address: Hex;
  readonly peerId: string;
  readonly rpcUrl: string;
  readonly wsUrl: string;
  readonly adminUrl: string;
  readonly ports: NodePorts;
  readonly configPath: string;
  readonly logPath: string;
  readonly dataDir: string;
  readonly state: ProcessState;
  readonly pid: number | undefined;
  readonly lastExit: ProcessExit | undefined;
  /** Starts a stopped node (same config). */
  start(): Promise<void>;
  /** SIGKILL. */
  kill(): Promise<void>;
  /** Starts the process again with the same config (graceful stop first if it runs). */
  restart(): Promise<void>;
  /** SIGSTOP. */
  pause(): void;
  /** SIGCONT. */
  resume(): void;
  /** SIGTERM, SIGKILL after the grace period. */
  stop(): Promise<void>;
  /** Resolves when the node answers eth_blockNumber; rejects if it exits first. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** The last `lines` lines of node.log (for error messages). */
  logTail(lines?: number): string;
};

function tail(path: string, lines: number): string {
  if (!existsSync(path)) return "";
  const text = readFileSync(path, "utf8");
  return text.split("\n").filter(Boolean).slice(-lines).join("\n");
}

// Children must not outlive a supervisor that exits without calling stop() (uncaught error,
// process.exit in a test runner): one exit hook kills whatever is still registered.
const live = new Set<ManagedProcess>();
let exitHookInstalled = false;
function track(p: ManagedProcess): void {
  live.add(p);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => {
      for (const proc of live) proc.killSync();
    });
  }
}

/** One node process of the devnet, with its controls (start, kill, pause, ...). */
export function makeNode(
  l: NodeLayout,
  bin: string,
  env: NodeJS.ProcessEnv,
  stopTimeoutMs: number,
  changed: () => void,
  exited: (exit: ProcessExit) => void,
): DevnetNode {
  const proc = new ManagedProcess({
    name: l.name,
    command: process.execPath,
    args: [bin, "start", "--config", l.configPath],
    env,
    logPath: l.logPath,
  });
  proc.onExit = (exit) => {
    changed();
    exited(exit);
  };
  track(proc);
  const node: DevnetNode = {
    name: l.name,
    role: l.role,
    address: l.address,
    peerId: l.peerId,
    rpcUrl: l.rpcUrl,
    wsUrl: l.wsUrl,
    adminUrl: l.adminUrl,
    ports: l.ports,
    configPath: l.configPath,
    logPath: l.logPath,
    dataDir: l.dataDir,
    get state() {
      return proc.state;
    },
    get pid() {
      return proc.pid;
    },
    get lastExit() {
      return proc.lastExit;
    },
    async start() {
      proc.start();
      changed();
    },
    async kill() {
      await proc.kill();
      changed();
    },
    async restart() {
      await proc.restart(stopTimeoutMs);
      changed();
    },
    pause() {
      proc.pause();
      changed();
    },
    resume() {
      proc.resume();
      changed();
    },
    async stop() {
      await proc.stop(stopTimeoutMs);
      changed();
    },
    async waitReady(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (proc.state === "stopped") {
          const e = proc.lastExit;
          throw new DevnetError(
            DevnetErrorCode.NodeExited,
            `${l.name} exited (code ${e?.code ?? "?"}, signal ${e?.signal ?? "none"}) before its RPC answered; last log lines of ${l.logPath}:\n${tail(l.logPath, 15)}`,
            { node: l.name, exit: e },
          );
        }
        try {
          await blockNumber(l.rpcUrl, 1000);
          return;
        } catch (err) {
          if (Date.now() > deadline) {
            throw new DevnetError(
              DevnetErrorCode.NodeNotReady,
              `${l.name} did not answer on ${l.rpcUrl} within ${timeoutMs} ms (${errorMessage(err)}); last log lines of ${l.logPath}:\n${tail(l.logPath, 15)}`,
              { node: l.name },
            );
          }
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    logTail(lines = 20) {
      return tail(l.logPath, lines);
    },
  };
  return node;
}
