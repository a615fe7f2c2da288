import { type Hex, hexToBytes } from "@dseq/common";
import { keccak_256 } from "@noble/hashes/sha3.js";

/** True when `value` (an address or topic) may be in the 2048-bit `bloom` (yellow paper M3:2048). */
export function bloomMayContain(bloom: Uint8Array, value: Uint8Array): boolean {
  const h = keccak_256(value);
  for (let i = 0; i < 6; i += 2) {
    const bit = (((h[i] as number) << 8) | (h[i + 1] as number)) & 2047;
    const byte = bloom[255 - (bit >> 3)] as number;
    if ((byte & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}

/** Whether a block with this bloom can hold a log matching the address and topic criteria. */
export function bloomMatches(bloomHex: Hex, addresses: Hex[], topics: (Hex[] | null)[]): boolean {
  const bloom = hexToBytes(bloomHex);
  if (bloom.length !== 256) return true;
  if (addresses.length > 0 && !addresses.some((a) => bloomMayContain(bloom, hexToBytes(a)))) return false;
  for (const position of topics) {
    if (position === null) continue;
    if (!position.some((t) => bloomMayContain(bloom, hexToBytes(t)))) return false;
  }
  return true;
}
