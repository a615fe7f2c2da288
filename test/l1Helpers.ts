// Shared by the L1/L2 e2e tests in this folder: polling and the few JSON-RPC reads they all use.
import type { Hex } from "../packages/common/src/index.ts";
import { type DevnetNode, rpcCall } from "../packages/devnet/src/index.ts";

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a value (not undefined or false); fails after `ms` with the last error. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  ms: number,
  everyMs = 250,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end)
      throw new Error(`timed out after ${ms} ms waiting for ${what} (${String(last ?? "")})`);
    await sleep(everyMs);
  }
}

export const head = async (n: DevnetNode): Promise<number> =>
  Number(await rpcCall<string>(n.rpcUrl, "eth_blockNumber", [], 2000));

export const balance = async (n: DevnetNode, a: Hex): Promise<bigint> =>
  BigInt(await rpcCall<string>(n.rpcUrl, "eth_getBalance", [a, "latest"], 2000));

export const freshAddress = (): Hex =>
  `0x${[...crypto.getRandomValues(new Uint8Array(20))].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
