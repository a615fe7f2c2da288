import { bytesToHex } from "@ethereumjs/util";
import { type BlockReadContext, requireBlock } from "./blockReads.ts";
import { type ChainState, serial } from "./chainState.ts";
import type { BlockRef } from "./chainTypes.ts";
import { L2ExecError, L2ExecErrorCode } from "./errors.ts";
import { type HeadName, headKey } from "./store.ts";

export type MoveHeadContext = BlockReadContext & Pick<ChainState, "writeLock" | "syncWrites" | "events">;

/** Moves the safe or finalized head to a committed block at or below the latest head. */
export async function moveHead(ctx: MoveHeadContext, name: HeadName, ref: BlockRef): Promise<void> {
  const block = await requireBlock(ctx, ref);
  if (block.header.number > ctx.heads.latest.header.number) {
    throw new L2ExecError(L2ExecErrorCode.UnknownBlock, `${name} head beyond the latest head`);
  }
  await serial(ctx, async () => {
    await ctx.db.batch([{ type: "put", key: headKey(name), value: block.hash() }], {
      sync: ctx.syncWrites,
    });
    ctx.heads[name] = block;
  });
  ctx.events.emit("chain.head", { name, number: block.header.number, hash: bytesToHex(block.hash()) });
}
