import { createBlockFromBytesArray } from "@ethereumjs/block";
import { RLP } from "@ethereumjs/rlp";
import { type CommitBlockContext, commitBlock } from "./commitBlock.ts";
import { L2ExecError, L2ExecErrorCode } from "./errors.ts";
import { executeBlock } from "./executeBlock.ts";

/**
 * Imports concatenated RLP blocks (`chain.rlp`): each is executed, checked and committed.
 * Blocks already in the store are skipped. Returns the number imported.
 */
export async function importBlocks(
  ctx: CommitBlockContext,
  rlp: Uint8Array,
  opts: { final?: boolean } = {},
): Promise<number> {
  let rest = rlp;
  let imported = 0;
  while (rest.length > 0) {
    const { data, remainder } = RLP.decode(rest, true) as unknown as {
      data: Uint8Array[][];
      remainder: Uint8Array;
    };
    rest = remainder;
    const block = createBlockFromBytesArray(data as never, { common: ctx.common, setHardfork: true });
    if (block.header.number <= ctx.heads.latest.header.number) continue;
    const ex = await executeBlock(ctx, block);
    if (!ex.valid) {
      throw new L2ExecError(
        L2ExecErrorCode.InvalidBlock,
        `block ${block.header.number} does not match its re-execution`,
        { details: { differences: ex.differences, invalidTx: ex.invalidTx } },
      );
    }
    await commitBlock(ctx, block, opts.final === true ? { safe: true, finalized: true } : {});
    imported++;
  }
  return imported;
}
