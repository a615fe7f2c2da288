import {
  brotliCompressSync,
  brotliDecompressSync,
  constants,
  zstdCompressSync,
  zstdDecompressSync,
} from "node:zlib";
import { badData } from "../errors.ts";

/** The first byte of batch data names its compression (ADR 0140). */
export const Compression = { zstd: 1, brotli: 2 } as const;
export type Compression = (typeof Compression)[keyof typeof Compression];

export function compress(kind: Compression, payload: Uint8Array): Uint8Array {
  const out =
    kind === Compression.zstd
      ? zstdCompressSync(payload, {
          params: { [constants.ZSTD_c_compressionLevel]: 19, [constants.ZSTD_c_checksumFlag]: 1 },
        })
      : brotliCompressSync(payload, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: 11,
            [constants.BROTLI_PARAM_LGWIN]: 22,
            [constants.BROTLI_PARAM_SIZE_HINT]: payload.length,
          },
        });
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

/** Decompresses at most `maxOutput` bytes; a bomb or a corrupt stream is a BadBatchData error. */
export function decompress(kind: number, data: Uint8Array, maxOutput: number): Uint8Array {
  let out: Buffer;
  try {
    if (kind === Compression.zstd) out = zstdDecompressSync(data, { maxOutputLength: maxOutput });
    else if (kind === Compression.brotli) out = brotliDecompressSync(data, { maxOutputLength: maxOutput });
    else throw badData(`batch: unknown compression ${kind}`);
  } catch (err) {
    if (err instanceof Error && err.name === "BatchError") throw err;
    throw badData(
      `batch: ${kind === Compression.zstd ? "zstd" : "brotli"} stream does not decompress within ${maxOutput} bytes`,
      {
        cause: String(err),
      },
    );
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}
