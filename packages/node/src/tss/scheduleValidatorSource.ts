import { bytesToHex, type Hex, hexToBytes } from "@dseq/common";
import { secp256k1 } from "@dseq/crypto";
import type { PartyId } from "@dseq/mpc-tss";
import type { TssSetAtSpan } from "./keyRotation.ts";
import type { TssValidatorSource } from "./tssService.ts";

/** What the adapter reads of sequencer-rotation's span (structurally its `SpanInfo`). */
export type SpanLike = {
  readonly index: number;
  readonly validatorSet: {
    readonly validators: readonly {
      readonly address: Hex;
      readonly publicKey: Hex;
      readonly power: bigint;
    }[];
  };
};

/** What it reads of the schedule (`RotationSchedule` has both). */
export type ScheduleLike = { currentSpan(): SpanLike; spanAt(height: number): SpanLike };

/** The party id (compressed key) of a validator's public key, whatever its SEC1 form. */
export function partyOfPublicKey(publicKey: Hex): PartyId {
  const raw = hexToBytes(publicKey);
  // Chain specs and the LockingPool hold the 64-byte form (no 0x04 prefix).
  const sec1 = raw.length === 64 ? Uint8Array.of(4, ...raw) : raw;
  return bytesToHex(secp256k1.convertPublicKey(sec1, true)) as PartyId;
}

export function spanToTssSet(span: SpanLike): TssSetAtSpan {
  return {
    span: BigInt(span.index),
    validators: span.validatorSet.validators.map((v) => ({
      party: partyOfPublicKey(v.publicKey),
      power: v.power,
    })),
  };
}

/** The party of the validator with `address` in the span's set (the span sequencer as TSS leader). */
export function partyOfAddress(span: SpanLike, address: Hex): PartyId | undefined {
  const v = span.validatorSet.validators.find((x) => x.address.toLowerCase() === address.toLowerCase());
  return v ? partyOfPublicKey(v.publicKey) : undefined;
}

/**
 * The TssService's validator source over the node's rotation schedule: the node calls
 * `spanStarted(outcome.spanStarted)` from its commit path (the schedule emits no events).
 */
export function scheduleValidatorSource(
  schedule: () => ScheduleLike,
): TssValidatorSource & { spanStarted(span: SpanLike): void } {
  const handlers = new Set<(s: TssSetAtSpan) => void>();
  return {
    current: () => spanToTssSet(schedule().currentSpan()),
    setAt: (height) => spanToTssSet(schedule().spanAt(Number(height))),
    onSpanStart(h) {
      handlers.add(h);
      return () => handlers.delete(h);
    },
    spanStarted(span) {
      const set = spanToTssSet(span);
      for (const h of handlers) h(set);
    },
  };
}
