/**
 * What the node's small L1 posters (reward checkpoints, ADR 0158; key rotation, ADR 0159) share:
 * viem clients for one funded account, and the loop that runs their `tick` one at a time.
 */
import { errorMessage, type Hex, type Logger } from "@dseq/common";
import {
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type PublicClient,
  type WalletClient,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";

/** A public and a wallet client of `privateKey` on the L1 at `rpcUrl`. */
export function l1PosterClients(o: {
  rpcUrl: string;
  l1ChainId: number;
  privateKey: Hex;
  retryCount?: number;
}): { client: PublicClient; wallet: WalletClient } {
  const chain = defineChain({
    id: o.l1ChainId,
    name: "l1",
    nativeCurrency: { name: "ETH", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [o.rpcUrl] } },
  });
  const transport = http(o.rpcUrl, {
    timeout: 20_000,
    ...(o.retryCount === undefined ? {} : { retryCount: o.retryCount }),
  });
  return {
    client: createPublicClient({ chain, transport }) as PublicClient,
    wallet: createWalletClient({ chain, account: privateKeyToAccount(o.privateKey), transport }),
  };
}

/**
 * Runs `tick` every `pollMs`, one at a time; a failure is logged once per distinct message (an L1
 * outage would otherwise log every poll). `stop` waits for the tick under way.
 */
export function runPollLoop(
  what: string,
  tick: () => Promise<{ action: string }>,
  pollMs: number,
  log: Logger,
): { stop(): Promise<void> } {
  let busy = false;
  let stopped = false;
  let running: Promise<unknown> = Promise.resolve();
  let lastError: string | undefined;
  const timer = setInterval(() => {
    if (busy || stopped) return;
    busy = true;
    running = tick()
      .then((t) => {
        lastError = undefined;
        if (t.action !== "idle") log.debug(`${what} tick`, { action: t.action });
      })
      .catch((err) => {
        const msg = errorMessage(err);
        if (msg !== lastError) log.warn(`${what} tick failed`, { err: msg });
        lastError = msg;
      })
      .finally(() => {
        busy = false;
      });
  }, pollMs);
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
