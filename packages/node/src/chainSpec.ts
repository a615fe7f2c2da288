import { readFileSync } from "node:fs";
import { bytesToHex, type Hex, hexToBytes } from "@dseq/common";
import { publicKeyToAddress, secp256k1 } from "@dseq/crypto";
import { z } from "zod";
import { NodeError, NodeErrorCode } from "./errors.ts";

/**
 * The network's chain spec: the one file every node of a network shares (`chain.genesis` in
 * the node config). It fixes the L2 genesis (l2-exec's ChainConfig), the genesis validator set
 * as stake records (until the L1 listener feeds stake changes), and the protocol parameters.
 * Amounts are decimal strings of wei (JSON has no bigints).
 */
const hexRe = (bytes: number) => new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`);
const address = z
  .string()
  .regex(hexRe(20), "a 0x-prefixed 20-byte hex address")
  .transform((s) => s.toLowerCase() as Hex);
const wei = z
  .union([
    z.string().regex(/^(0x[0-9a-fA-F]+|\d+)$/, "a decimal or 0x-hex integer of wei"),
    z.number().int().min(0),
  ])
  .transform((v) => BigInt(v));
const hexData = z.string().regex(/^0x([0-9a-fA-F]{2})*$/, "0x-prefixed hex bytes");
/** Highest genesis gas limit a spec may set: 2G gas, ~95,000 transfers per block (ADR 0160). */
export const MAX_GENESIS_GAS_LIMIT = 2_000_000_000;

export const chainSpecSchema = z
  .object({
    name: z.string().min(1).default("dseq"),
    chainId: z
      .number()
      .int()
      .min(1)
      .max(2 ** 53 - 1),
    /** Target time between blocks; the proposer waits for parent.timestamp + blockTime. */
    blockTimeMs: z.number().int().min(1000).max(60_000).multipleOf(1000).default(2000),
    /**
     * Largest block, RLP bytes: a consensus rule (the builder stops at it, validators refuse a
     * larger proposal, the pool refuses a transaction that could never fit, catch-up answers are
     * bounded by it), so it lives in the spec every node shares. 2 MiB keeps a proposal well
     * inside the 4 MiB gossip limit.
     */
    maxBlockBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .max(3 * 1024 * 1024)
      .default(2 * 1024 * 1024),
    genesis: z
      .object({
        timestamp: z.number().int().min(0),
        /**
         * Gas per block, the same for every block (a proposal whose gas limit differs from its
         * parent's is refused). Bounded above so a hostile spec cannot ask for unbounded blocks;
         * maxBlockBytes bounds the bytes whatever the gas (ADR 0160).
         */
        gasLimit: z.number().int().min(5_000_000).max(MAX_GENESIS_GAS_LIMIT).default(30_000_000),
        baseFeePerGas: wei.default(1_000_000_000n),
        extraData: hexData.default("0x"),
        alloc: z.record(
          address,
          z
            .object({
              balance: wei.default(0n),
              nonce: z.number().int().min(0).optional(),
              code: hexData.optional(),
              storage: z.record(z.string(), z.string()).optional(),
            })
            .strict(),
        ),
      })
      .strict(),
    validators: z
      .array(
        z
          .object({
            id: z.number().int().min(1),
            owner: address,
            signer: address,
            /** Uncompressed public key without the 04 prefix, as `dseq init` prints it. */
            signerPubkey: z.string().regex(/^(0x)?[0-9a-fA-F]{128}$/, "64 bytes of hex (no 04 prefix)"),
            locked: wei,
            status: z.enum(["active", "unlocking"]).default("active"),
            rewardRecipient: address,
          })
          .strict(),
      )
      .min(1),
    rotation: z
      .object({
        spanLength: z.number().int().min(1).optional(),
        reelectAfterMisses: z.number().int().min(1).optional(),
        minLock: wei.optional(),
        maxLock: wei.optional(),
        rewardPeriodBlocks: z.number().int().min(1).optional(),
        rewardRateBps: z.number().int().min(0).max(10_000).optional(),
        checkpointIntervalBlocks: z.number().int().min(1).optional(),
      })
      .strict()
      .default({}),
  })
  .strict();

export type ChainSpec = z.infer<typeof chainSpecSchema>;
export type ChainSpecInput = z.input<typeof chainSpecSchema>;

export class ChainSpecError extends NodeError {
  constructor(message: string, details?: Record<string, unknown>) {
    super(NodeErrorCode.ChainSpecInvalid, message, { details });
    this.name = "ChainSpecError";
  }
}

/**
 * Validates a chain spec, including that every signer key is a point on secp256k1 (both
 * coordinates below p, y^2 = x^3 + 7) and hashes to its signer address: the rule LockingPool
 * applies on L1 (docs/adr/0079), so a genesis validator could not exist there with this key.
 */
export function parseChainSpec(raw: unknown): ChainSpec {
  const r = chainSpecSchema.safeParse(raw);
  if (!r.success) {
    const lines = r.error.issues.map((i) => `${i.path.map(String).join(".") || "(top level)"}: ${i.message}`);
    throw new ChainSpecError(`invalid chain spec:\n  ${lines.join("\n  ")}`);
  }
  const spec = r.data;
  const seen = new Set<string>();
  for (const [i, v] of spec.validators.entries()) {
    const pub = hexToBytes(v.signerPubkey.startsWith("0x") ? v.signerPubkey : `0x${v.signerPubkey}`);
    const who = `(validator id ${v.id}, signer ${v.signer})`;
    const details = { index: i, validator: v.id, signer: v.signer };
    if (!isCurvePoint(pub)) {
      throw new ChainSpecError(
        `invalid chain spec:\n  validators.${i}.signerPubkey: not a point on secp256k1 ${who}`,
        { ...details, reason: "signerPubkey not on curve" },
      );
    }
    if (bytesToHex(publicKeyToAddress(pub)) !== v.signer) {
      throw new ChainSpecError(
        `invalid chain spec:\n  validators.${i}.signerPubkey: does not hash to signer ${v.signer} ${who}`,
        { ...details, reason: "signerPubkey does not match signer" },
      );
    }
    if (seen.has(v.signer))
      throw new ChainSpecError(`invalid chain spec:\n  validators.${i}.signer: listed twice`);
    seen.add(v.signer);
  }
  return spec;
}

/** Whether 64 bytes `x || y` are an affine secp256k1 point (the parser checks x, y < p and the equation). */
function isCurvePoint(xy: Uint8Array): boolean {
  const sec1 = new Uint8Array(65);
  sec1[0] = 0x04;
  sec1.set(xy, 1);
  try {
    secp256k1.convertPublicKey(sec1, true);
    return true;
  } catch {
    return false;
  }
}

export function loadChainSpec(path: string): ChainSpec {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ChainSpecError(
      `cannot read chain spec ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ChainSpecError(`chain spec ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseChainSpec(raw);
}

/** JSON text of a spec (bigints as decimal strings), readable by `loadChainSpec`. */
export function chainSpecToJson(spec: ChainSpecInput | ChainSpec): string {
  return JSON.stringify(spec, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
}
