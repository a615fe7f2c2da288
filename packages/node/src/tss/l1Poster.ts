/**
 * What the node's small L1 posters (reward checkpoints, ADR 0158; key rotation, ADR 0159) share:
 * viem clients for one funded account, the fees of each offer (the batch submitter's rules,
 * ADR 0154), and the loop that runs their `tick` one at a time.
 */
import { type FeeOptions, nextFees } from "@dseq/batch-submitter";
import { errorMessage, type Hex, type Logger } from "@dseq/common";
import {
  type Account,
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

/** A poster's last offer, saved with each send (decimal strings: the state file is JSON). */
export type SavedFees = { maxFeePerGas: string; maxPriorityFeePerGas: string };

/** The fees of one offer, and their saved form. */
export type Offer = { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint; saved: SavedFees };

type Fees = { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint };

/**
 * The next offer from the current estimate and the saved last one (`nextFees`: the estimate, or
 * the last offer bumped by `bumpPercent`, whichever is higher, capped by `maxFeePerGasCap`).
 */
export function nextOffer(est: Fees, prev: SavedFees | undefined, fees: FeeOptions): Offer {
  const f = nextFees(est, savedToFees(prev), fees);
  return { ...f, saved: feesToSaved(f) };
}

/**
 * Fees of a poster's next send of the transaction in flight `f` (no hashes yet: the first send).
 * A state file from before the fees were saved has hashes but no `fees` (or fees that do not
 * decode): the last offer is then read back from L1 (the pool still holds the pending
 * transaction), or, when L1 no longer knows it, rebuilt by the old rule (the estimate times
 * 2^min(sends - 1, 6)); bumping either keeps the replacement above what the pool holds, so the
 * pool accepts it. (Only the cap can still stop it, as it would any offer.)
 */
export async function offerFees(
  client: PublicClient,
  f: { hashes: readonly Hex[]; fees?: SavedFees },
  fees: FeeOptions,
): Promise<Offer> {
  const est = await client.estimateFeesPerGas();
  const prev = savedToFees(f.fees)
    ? f.fees
    : f.hashes.length > 0
      ? await legacyOffer(client, f.hashes, est)
      : undefined;
  return nextOffer(est, prev, fees);
}

async function legacyOffer(client: PublicClient, hashes: readonly Hex[], est: Fees): Promise<SavedFees> {
  const last = await client.getTransaction({ hash: hashes[hashes.length - 1]! }).catch(() => undefined);
  if (last?.maxFeePerGas !== undefined && last.maxPriorityFeePerGas !== undefined)
    return feesToSaved({ maxFeePerGas: last.maxFeePerGas, maxPriorityFeePerGas: last.maxPriorityFeePerGas });
  const old = BigInt(2 ** Math.min(hashes.length - 1, 6));
  return feesToSaved({
    maxFeePerGas: est.maxFeePerGas * old,
    maxPriorityFeePerGas: est.maxPriorityFeePerGas * old,
  });
}

function feesToSaved(f: Fees): SavedFees {
  return { maxFeePerGas: f.maxFeePerGas.toString(), maxPriorityFeePerGas: f.maxPriorityFeePerGas.toString() };
}

/** A saved amount: a decimal string of at most 78 digits (a uint256). */
const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;

/** Strict: an offer that does not decode (a hand-edited state file) counts as missing. */
function savedToFees(s: SavedFees | undefined): Fees | undefined {
  if (typeof s?.maxFeePerGas !== "string" || typeof s.maxPriorityFeePerGas !== "string") return undefined;
  if (!DECIMAL.test(s.maxFeePerGas) || !DECIMAL.test(s.maxPriorityFeePerGas)) return undefined;
  return { maxFeePerGas: BigInt(s.maxFeePerGas), maxPriorityFeePerGas: BigInt(s.maxPriorityFeePerGas) };
}

/**
 * The gas limit of a poster's transaction: the one saved with its first offer (replacements
 * reuse it), else estimated on the latest block plus 20 %. With the first offer pending, an
 * estimate on the pending block runs after it and reverts (sendBatchTx estimates the same way).
 * A saved value that does not decode counts as missing.
 */
export async function gasLimit(
  client: PublicClient,
  saved: string | undefined,
  tx: { account: Account; to: Hex; data: Hex },
): Promise<bigint> {
  if (typeof saved === "string" && DECIMAL.test(saved)) return BigInt(saved);
  return ((await client.estimateGas({ ...tx, blockTag: "latest" })) * 6n) / 5n;
}
