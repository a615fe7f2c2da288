import { bytesToHex } from "@dseq/common";
import { secp256k1 } from "@dseq/crypto";
import { createPartyKey } from "@dseq/mpc-tss";
import type { RotationSchedule } from "@dseq/sequencer-rotation";
import { describe, expect, expectTypeOf, it } from "vitest";
import {
  partyOfAddress,
  partyOfPublicKey,
  type ScheduleLike,
  type SpanLike,
  scheduleValidatorSource,
} from "./scheduleValidatorSource.ts";

describe("scheduleValidatorSource", () => {
  it("maps the schedule's spans to TSS sets (compressed keys, powers) and forwards span starts", () => {
    const keys = [createPartyKey(), createPartyKey()];
    const span = (index: number, powers: bigint[]): SpanLike => ({
      index,
      validatorSet: {
        validators: keys.map((k, i) => ({
          address: `0x${String(i).repeat(40)}`,
          publicKey: bytesToHex(secp256k1.convertPublicKey(k.publicKey, false)),
          power: powers[i] as bigint,
        })),
      },
    });
    let cur = span(3, [5n, 7n]);
    const src = scheduleValidatorSource(() => ({ currentSpan: () => cur, spanAt: () => cur }));
    expect(src.current()).toEqual({
      span: 3n,
      validators: [
        { party: keys[0]!.id, power: 5n },
        { party: keys[1]!.id, power: 7n },
      ],
    });
    const seen: bigint[] = [];
    const off = src.onSpanStart((s) => seen.push(s.span));
    cur = span(4, [1n, 1n]);
    src.spanStarted(cur);
    off();
    src.spanStarted(span(5, [1n, 2n]));
    expect(seen).toEqual([4n]);
    expect(partyOfAddress(cur, `0x${"1".repeat(40)}`)).toBe(keys[1]!.id);
    expect(partyOfAddress(cur, `0x${"9".repeat(40)}`)).toBeUndefined();
  });

  it("reads the 64-byte key form chain specs and the LockingPool hold", () => {
    const k = createPartyKey();
    const raw64 = `0x${bytesToHex(secp256k1.convertPublicKey(k.publicKey, false)).slice(4)}` as const;
    expect(raw64.length).toBe(2 + 128);
    expect(partyOfPublicKey(raw64)).toBe(k.id);
  });

  it("the node's RotationSchedule is a ScheduleLike (the wiring type-checks)", () => {
    expectTypeOf<RotationSchedule>().toExtend<ScheduleLike>();
  });
});
