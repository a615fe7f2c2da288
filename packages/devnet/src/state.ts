import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Hex } from "@dseq/common";
import { DevnetError, DevnetErrorCode } from "./errors.ts";

/** `<dataDir>/devnet.json`: what a running supervisor tells other terminals. */
export const STATE_FILE = "devnet.json";

export type DevnetState = {
  version: 1;
  supervisorPid: number;
  control: { url: string; token: string };
  chainId: number;
  chainSpecPath: string;
  startedAt: string;
  nodes: {
    name: string;
    role: string;
    address: Hex;
    rpcUrl: string;
    wsUrl: string;
    adminUrl: string;
    state: string;
    pid: number | undefined;
    logPath: string;
    configPath: string;
  }[];
  funded: { address: Hex; privateKey: Hex }[];
};

export function writeState(dataDir: string, state: DevnetState): void {
  const path = join(resolve(dataDir), STATE_FILE);
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

export function readState(dataDir: string): DevnetState | undefined {
  const path = join(resolve(dataDir), STATE_FILE);
  if (!existsSync(path)) return undefined;
  try {
    const s = JSON.parse(readFileSync(path, "utf8")) as DevnetState;
    return s.version === 1 && typeof s.supervisorPid === "number" ? s : undefined;
  } catch {
    return undefined;
  }
}

export function removeState(dataDir: string): void {
  rmSync(join(resolve(dataDir), STATE_FILE), { force: true });
}

export function isSupervisorAlive(state: DevnetState): boolean {
  try {
    process.kill(state.supervisorPid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The state of the devnet running on `dataDir`, or a clear error when none runs. */
export function requireRunning(dataDir: string): DevnetState {
  const s = readState(dataDir);
  if (!s || !isSupervisorAlive(s)) {
    throw new DevnetError(
      DevnetErrorCode.NotRunning,
      `no devnet is running on ${resolve(dataDir)} (start one with \`pnpm devnet --datadir ${dataDir}\`)`,
    );
  }
  return s;
}
