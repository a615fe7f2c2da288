import type { Hex } from "@dseq/common";
import type { PartyId } from "@dseq/mpc-tss";
import { canonicalValidators, type TssValidator, tssThreshold, validatorSetDigest } from "./votingPower.ts";

/** A group key of one validator set (epoch = the span the set started at). */
export type TssEpochKey = {
  epoch: number;
  groupKey: Hex;
  validators: TssValidator[];
  threshold: number;
  /** This node holds a share of it. */
  holder: boolean;
};

export type TssSetAtSpan = { span: bigint; validators: TssValidator[] };

/**
 * The key rotation state (ADR 0151). One rotation at a time: a set that appears while a
 * rotation waits for L1 is queued and gets its DKG once the rotation lands, so L1 never
 * expects a key nobody holds any more.
 */
export type RotationState = {
  /** The key the L1 inbox verifies with now (what `sign` uses). */
  current?: TssEpochKey;
  /** The new set's key: its DKG is done, `GroupKeyRotated` has not been seen yet. */
  pending?: TssEpochKey;
  /** A DKG this node takes part in. */
  dkg?: TssSetAtSpan & { threshold: number; attempt: number };
  /** The newest set without a key yet that waits for the pending rotation (or that excludes us). */
  queued?: TssSetAtSpan;
  /** Digest of the newest set seen, to tell a new set from the same one in the next span. */
  latestSet?: Hex;
};

export type RotationInput =
  | { type: "spanStarted"; span: bigint; validators: readonly TssValidator[]; self: PartyId }
  | { type: "dkgDone"; span: bigint; attempt: number; groupKey: Hex }
  | { type: "dkgFailed"; span: bigint; attempt: number }
  /** `GroupKeyRotated(newKey)` seen on L1 (confirmed). */
  | { type: "rotated"; groupKey: Hex; self: PartyId };

export type RotationEffect =
  | { type: "runDkg"; span: bigint; validators: TssValidator[]; threshold: number; attempt: number }
  | { type: "stopDkg" }
  /** The store's pending share of `epoch` becomes the active one (KeyShareStore.confirmRotation). */
  | { type: "confirmShare"; epoch: number }
  /** Parties whose TSS messages the transport delivers. */
  | { type: "members"; parties: PartyId[] }
  | { type: "log"; level: "info" | "warn"; msg: string; ctx: Record<string, unknown> };

const isMember = (validators: readonly TssValidator[], self: PartyId): boolean =>
  validators.some((v) => v.party === self.toLowerCase());

/** It had a key and is out of the newest set (or already out of the group L1 signs with). */
const leftTheSet = (s: RotationState, self: PartyId): boolean =>
  s.current !== undefined &&
  (!s.current.holder || (s.queued !== undefined && !isMember(s.queued.validators, self)));

/** Every party whose TSS messages matter now: the current, pending, running and queued sets. */
export function rotationMembers(s: RotationState): PartyId[] {
  const all = new Set<PartyId>();
  for (const vs of [s.current?.validators, s.pending?.validators, s.dkg?.validators, s.queued?.validators])
    for (const v of vs ?? []) all.add(v.party);
  return [...all].sort();
}

function startDkg(s: RotationState, set: TssSetAtSpan, attempt: number): [RotationState, RotationEffect] {
  const dkg = { ...set, threshold: tssThreshold(set.validators), attempt };
  return [
    { ...s, dkg, queued: undefined },
    { type: "runDkg", ...dkg },
  ];
}

/** The pure step of the rotation state machine: no I/O, no clock. */
export function stepRotation(
  s: RotationState,
  input: RotationInput,
): { state: RotationState; effects: RotationEffect[] } {
  const effects: RotationEffect[] = [];
  let next = s;
  switch (input.type) {
    case "spanStarted": {
      const validators = canonicalValidators(input.validators);
      const digest = validatorSetDigest(validators);
      if (digest === s.latestSet) return { state: s, effects };
      const set = { span: input.span, validators };
      next = { ...s, latestSet: digest };
      if (s.dkg) {
        effects.push({ type: "stopDkg" });
        next = { ...next, dkg: undefined };
      }
      if (!isMember(validators, input.self) || s.pending) {
        next = { ...next, queued: set };
        effects.push({
          type: "log",
          level: "info",
          msg: s.pending
            ? "new validator set waits for the pending key rotation"
            : "new validator set without this node",
          ctx: { span: input.span.toString(), validators: validators.length },
        });
      } else {
        const [st, eff] = startDkg(next, set, 0);
        next = st;
        effects.push(eff);
      }
      break;
    }
    case "dkgDone": {
      const d = s.dkg;
      if (!d || d.span !== input.span || d.attempt !== input.attempt) return { state: s, effects };
      const key: TssEpochKey = {
        epoch: Number(d.span),
        groupKey: input.groupKey,
        validators: d.validators,
        threshold: d.threshold,
        holder: true,
      };
      // The first key is the one the inbox is deployed with (genesis): in force at once.
      next = s.current ? { ...s, dkg: undefined, pending: key } : { ...s, dkg: undefined, current: key };
      effects.push({
        type: "log",
        level: "info",
        msg: "tss key generated",
        ctx: { epoch: key.epoch, groupKey: key.groupKey },
      });
      break;
    }
    case "dkgFailed": {
      const d = s.dkg;
      if (!d || d.span !== input.span || d.attempt !== input.attempt) return { state: s, effects };
      const [st, eff] = startDkg(s, d, d.attempt + 1);
      next = st;
      effects.push(
        {
          type: "log",
          level: "warn",
          msg: "tss dkg failed; retrying",
          ctx: { span: d.span.toString(), attempt: d.attempt + 1 },
        },
        eff,
      );
      break;
    }
    case "rotated": {
      const gk = input.groupKey.toLowerCase() as Hex;
      if (s.current?.groupKey === gk) return { state: s, effects };
      if (s.pending?.groupKey === gk) {
        effects.push({ type: "confirmShare", epoch: s.pending.epoch });
        next = { ...s, current: s.pending, pending: undefined };
      } else if (!leftTheSet(s, input.self)) {
        // Every confirmed key comes here: one this node expects no rotation to, while it is in the
        // newest set or holds no key yet (a replayed older rotation, a joiner's first L1 event).
        return {
          state: s,
          effects: [
            {
              type: "log",
              level: "info",
              msg: "L1 group key rotation not for this node; ignored",
              ctx: { groupKey: gk },
            },
          ],
        };
      } else {
        // A key this node holds no share of: it left the set. It stops signing.
        const vs = s.queued?.validators ?? s.pending?.validators ?? [];
        const key: TssEpochKey = {
          epoch: Number(s.queued?.span ?? s.pending?.epoch ?? 0),
          groupKey: gk,
          validators: vs,
          threshold: vs.length > 1 ? tssThreshold(vs) : vs.length,
          holder: false,
        };
        next = {
          ...s,
          current: key,
          pending: undefined,
          queued: s.queued && s.queued.validators === vs ? undefined : s.queued,
        };
        effects.push({
          type: "log",
          level: "warn",
          msg: "L1 rotated to a group key this node holds no share of",
          ctx: { groupKey: gk },
        });
      }
      if (next.queued && isMember(next.queued.validators, input.self) && !next.dkg) {
        const [st, eff] = startDkg(next, next.queued, 0);
        next = st;
        effects.push(eff);
      }
      break;
    }
  }
  effects.push({ type: "members", parties: rotationMembers(next) });
  return { state: next, effects };
}

/** The key to sign with for L1 right now (undefined: this node cannot sign). */
export function signingKey(s: RotationState): TssEpochKey | undefined {
  return s.current?.holder ? s.current : undefined;
}
