import { RotationError, RotationErrorCode } from "./errors.ts";

/** Index of the span holding `height` (heights start at 1; span s is `[s*L + 1, (s+1)*L]`). */
export function spanIndexOf(height: number, spanLength: number): number {
  if (!Number.isSafeInteger(height) || height < 1) {
    throw new RotationError(RotationErrorCode.HeightOutOfRange, "heights start at 1", {
      details: { height },
    });
  }
  return Math.floor((height - 1) / spanLength);
}

export function spanStartHeight(spanIndex: number, spanLength: number): number {
  return spanIndex * spanLength + 1;
}

export function spanEndHeight(spanIndex: number, spanLength: number): number {
  return (spanIndex + 1) * spanLength;
}

/**
 * Height whose block hash seeds the draw of span s: the last block of span s-2, i.e.
 * `max(0, (s-1) * L)`, with height 0 the genesis block. It is committed a whole span before
 * span s starts, so the sequencer of the next span is known a span ahead.
 */
export function seedHeightOf(spanIndex: number, spanLength: number): number {
  return Math.max(0, (spanIndex - 1) * spanLength);
}
