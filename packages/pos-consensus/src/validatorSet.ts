import { bytesToBigint, type Hex, hexToBytes } from "@dseq/common";
import { keccak256 } from "@dseq/crypto";
import { ConsensusError, ConsensusErrorCode } from "./errors.ts";
import { normalizePublicKey, publicKeyToValidatorAddress } from "./signer.ts";

export type Validator = {
  /** Lower-case hex address, derived from the public key. */
  readonly address: Hex;
  /** Uncompressed secp256k1 public key (65 bytes, 04 prefix). */
  readonly publicKey: Uint8Array;
  /** Voting power, a positive safe integer. */
  readonly power: number;
};

/** Power as a number or a bigint (sequencer-rotation's whole tokens); it must be a safe integer. */
export type ValidatorInput = { readonly publicKey: Uint8Array | Hex; readonly power: number | bigint };

/** Total power is kept below this so that 3 * power never leaves the safe integers. */
const MAX_TOTAL_POWER = Math.floor(Number.MAX_SAFE_INTEGER / 4);

/**
 * The validators of one height with their voting power. Immutable. Order is by address, so
 * every node numbers the validators the same way.
 */
export class ValidatorSet {
  readonly validators: readonly Validator[];
  readonly totalPower: number;
  private readonly index: ReadonlyMap<Hex, number>;

  constructor(inputs: readonly ValidatorInput[]) {
    if (inputs.length === 0)
      throw new ConsensusError(ConsensusErrorCode.EmptyValidatorSet, "validator set is empty");
    const vals: Validator[] = inputs.map((v) => {
      const power = typeof v.power === "bigint" ? Number(v.power) : v.power;
      if (
        !Number.isSafeInteger(power) ||
        power <= 0 ||
        (typeof v.power === "bigint" && BigInt(power) !== v.power)
      ) {
        throw new ConsensusError(ConsensusErrorCode.BadPower, "voting power must be a positive integer", {
          details: { power: String(v.power) },
        });
      }
      const pk = normalizePublicKey(typeof v.publicKey === "string" ? hexToBytes(v.publicKey) : v.publicKey);
      return { address: publicKeyToValidatorAddress(pk), publicKey: pk, power };
    });
    vals.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    const index = new Map<Hex, number>();
    let total = 0;
    vals.forEach((v, i) => {
      if (index.has(v.address)) {
        throw new ConsensusError(ConsensusErrorCode.DuplicateValidator, "validator listed twice", {
          details: { address: v.address },
        });
      }
      index.set(v.address, i);
      total += v.power;
    });
    if (total > MAX_TOTAL_POWER)
      throw new ConsensusError(ConsensusErrorCode.BadPower, "total voting power too large");
    this.validators = vals;
    this.index = index;
    this.totalPower = total;
  }

  get size(): number {
    return this.validators.length;
  }

  indexOf(address: Hex): number | undefined {
    return this.index.get(address.toLowerCase() as Hex);
  }

  get(address: Hex): Validator | undefined {
    const i = this.indexOf(address);
    return i === undefined ? undefined : this.validators[i];
  }

  /** More than two thirds of the total power: the paper's 2f + 1. */
  hasQuorum(power: number): boolean {
    return 3 * power > 2 * this.totalPower;
  }

  /** More than one third of the total power: the paper's f + 1 (at least one honest). */
  hasOneThird(power: number): boolean {
    return 3 * power > this.totalPower;
  }
}

/**
 * The validators of one height and who proposes in each of its rounds. sequencer-rotation
 * fills this (span sequencer in round 0, proposer-priority order after it).
 */
export type HeightValidators = {
  readonly set: ValidatorSet;
  /** Address of proposer(h, round). Pure: the same round always gives the same answer. */
  proposer(round: number): Hex;
};

/** Where the driver gets each height's validators, once the previous height is committed. */
export interface ValidatorSource {
  forHeight(height: number): HeightValidators | Promise<HeightValidators>;
}

export type ProposerOrder = "roundRobin" | "weighted";

/**
 * A fixed set. `roundRobin`: round r of height h is proposed by validator (h + r) mod n in
 * address order, whatever the power (predictable, for tests and examples). `weighted`: a
 * stake-weighted draw seeded by keccak256(height, round), so each validator proposes in
 * proportion to its power. The node uses sequencer-rotation instead.
 */
export function createStaticValidatorSource(
  set: ValidatorSet,
  order: ProposerOrder = "weighted",
): ValidatorSource {
  return { forHeight: (height) => staticHeightValidators(set, height, order) };
}

export function staticHeightValidators(
  set: ValidatorSet,
  height: number,
  order: ProposerOrder,
): HeightValidators {
  if (order === "roundRobin") {
    return { set, proposer: (round) => (set.validators[(height + round) % set.size] as Validator).address };
  }
  return {
    set,
    proposer(round) {
      const seed = new Uint8Array(12);
      const view = new DataView(seed.buffer);
      view.setBigUint64(0, BigInt(height));
      view.setUint32(8, round);
      let slot = Number(bytesToBigint(keccak256(seed).subarray(0, 8)) % BigInt(set.totalPower));
      for (const v of set.validators) {
        if (slot < v.power) return v.address;
        slot -= v.power;
      }
      throw new Error("unreachable: slot beyond total power");
    },
  };
}
