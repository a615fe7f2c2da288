import { isDseqError } from "@dseq/common";
import { describe, expect, it } from "vitest";
import { DoubleSignError, DoubleSignGuard, type GuardStore, SignStep } from "../src/doubleSignGuard.ts";

/** One implementation of `GuardStore`: each call gives a new handle onto the same state. */
export type GuardStoreSubject = { store(): GuardStore };

const bytes = (n: number) => new Uint8Array(75).fill(n);

/**
 * What every guard store must do for `DoubleSignGuard`: nothing before the first save, the
 * last save back exactly through a new handle (a restart), and so the guard's refusals hold
 * across restarts.
 */
export function guardStoreSuite(name: string, makeSubject: () => Promise<GuardStoreSubject>): void {
  describe(`GuardStore contract: ${name}`, () => {
    it("loads nothing before the first save, then the last save, through a new handle", async () => {
      const subject = await makeSubject();
      expect(await subject.store().load()).toBeUndefined();
      const first = {
        height: 3,
        round: 1,
        step: SignStep.Prevote,
        signBytes: `0x${"01".repeat(75)}`,
      } as const;
      const second = {
        height: 4,
        round: 0,
        step: SignStep.Proposal,
        signBytes: `0x${"02".repeat(75)}`,
      } as const;
      const s = subject.store();
      await s.save(first);
      await s.save(second);
      expect(await subject.store().load()).toEqual(second);
    });

    it("backs the guard: forward and the same bytes again pass; lower or conflicting refused", async () => {
      const subject = await makeSubject();
      const g = await DoubleSignGuard.open(subject.store());
      await g.authorize(5, 0, SignStep.Proposal, bytes(1));
      await g.authorize(5, 0, SignStep.Prevote, bytes(2));
      await g.authorize(5, 0, SignStep.Prevote, bytes(2));
      await expect(g.authorize(5, 0, SignStep.Prevote, bytes(3))).rejects.toBeInstanceOf(DoubleSignError);
      await expect(g.authorize(5, 0, SignStep.Proposal, bytes(1))).rejects.toBeInstanceOf(DoubleSignError);
      await expect(g.authorize(4, 9, SignStep.Precommit, bytes(4))).rejects.toBeInstanceOf(DoubleSignError);
      await g.authorize(5, 1, SignStep.Prevote, bytes(5));
      await g.authorize(6, 0, SignStep.Prevote, bytes(6));
    });

    it("keeps the guard's refusals across a restart", async () => {
      const subject = await makeSubject();
      const g = await DoubleSignGuard.open(subject.store());
      await g.authorize(7, 2, SignStep.Precommit, bytes(7));
      const again = await DoubleSignGuard.open(subject.store());
      expect(again.lastSigned).toEqual({
        height: 7,
        round: 2,
        step: SignStep.Precommit,
        signBytes: `0x${"07".repeat(75)}`,
      });
      await expect(again.authorize(7, 2, SignStep.Precommit, bytes(8))).rejects.toSatisfy((e: unknown) =>
        isDseqError(e, "CONSENSUS_DOUBLE_SIGN_REFUSED"),
      );
      await again.authorize(7, 2, SignStep.Precommit, bytes(7));
      await again.authorize(8, 0, SignStep.Prevote, bytes(9));
    });
  });
}
