import { readFileSync } from "node:fs";
import type { Hex } from "@dseq/common";
import { z } from "zod";
import { writeFileAtomic } from "../atomicFile.ts";
import type { RotationState, TssEpochKey } from "./keyRotation.ts";
import { NodeTssError, NodeTssErrorCode } from "./tssErrors.ts";
import type { TssValidator } from "./votingPower.ts";

/**
 * `<dataDir>/tss/state.json`: the rotation state (public data only: keys, sets, spans; the
 * shares and nonces are in the sealed stores beside it). Bigints as decimal strings.
 */
const MAX_STATE_BYTES = 4 * 1024 * 1024;
const hex = z.string().regex(/^0x[0-9a-f]*$/);
const party = z.string().regex(/^0x0[23][0-9a-f]{64}$/);
const uint = z.string().regex(/^\d{1,78}$/);
const validator = z.strictObject({ party, power: uint });
const epochKey = z.strictObject({
  epoch: z.number().int().nonnegative(),
  groupKey: party,
  validators: z.array(validator).max(10_000),
  threshold: z.number().int().nonnegative(),
  holder: z.boolean(),
});
const setAtSpan = { span: uint, validators: z.array(validator).max(10_000) };
const fileSchema = z.strictObject({
  version: z.literal(1),
  current: epochKey.optional(),
  pending: epochKey.optional(),
  dkg: z
    .strictObject({ ...setAtSpan, threshold: z.number().int(), attempt: z.number().int().nonnegative() })
    .optional(),
  queued: z.strictObject(setAtSpan).optional(),
  latestSet: hex.optional(),
});
type File = z.infer<typeof fileSchema>;

const vsOut = (vs: readonly TssValidator[]) => vs.map((v) => ({ party: v.party, power: v.power.toString() }));
const vsIn = (vs: File["queued"] extends infer Q ? (Q extends { validators: infer V } ? V : never) : never) =>
  vs.map((v) => ({ party: v.party as Hex, power: BigInt(v.power) }));
const keyOut = (k: TssEpochKey) => ({ ...k, validators: vsOut(k.validators) });
const keyIn = (k: NonNullable<File["current"]>): TssEpochKey => ({
  ...k,
  groupKey: k.groupKey as Hex,
  validators: vsIn(k.validators),
});

export function encodeRotationState(s: RotationState): string {
  const f = {
    version: 1,
    ...(s.current ? { current: keyOut(s.current) } : {}),
    ...(s.pending ? { pending: keyOut(s.pending) } : {}),
    ...(s.dkg ? { dkg: { ...s.dkg, span: s.dkg.span.toString(), validators: vsOut(s.dkg.validators) } } : {}),
    ...(s.queued
      ? { queued: { span: s.queued.span.toString(), validators: vsOut(s.queued.validators) } }
      : {}),
    ...(s.latestSet ? { latestSet: s.latestSet } : {}),
  };
  return JSON.stringify(f, null, 2);
}

export function decodeRotationState(text: string): RotationState {
  let parsed: File;
  try {
    parsed = fileSchema.parse(JSON.parse(text));
  } catch (cause) {
    throw new NodeTssError(NodeTssErrorCode.StateCorrupt, "tss state file does not decode", { cause });
  }
  return {
    ...(parsed.current ? { current: keyIn(parsed.current) } : {}),
    ...(parsed.pending ? { pending: keyIn(parsed.pending) } : {}),
    ...(parsed.dkg
      ? { dkg: { ...parsed.dkg, span: BigInt(parsed.dkg.span), validators: vsIn(parsed.dkg.validators) } }
      : {}),
    ...(parsed.queued
      ? { queued: { span: BigInt(parsed.queued.span), validators: vsIn(parsed.queued.validators) } }
      : {}),
    ...(parsed.latestSet ? { latestSet: parsed.latestSet as Hex } : {}),
  };
}

export function readRotationState(path: string): RotationState {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw err;
  }
  if (text.length > MAX_STATE_BYTES)
    throw new NodeTssError(NodeTssErrorCode.StateCorrupt, "tss state file too big");
  return decodeRotationState(text);
}

export function writeRotationState(path: string, s: RotationState): void {
  writeFileAtomic(path, encodeRotationState(s));
}
